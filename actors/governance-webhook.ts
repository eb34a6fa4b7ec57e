import { EventType, defineModule, nonEmptyString, nonNegativeInteger, nonNegativeNumber, object, optional, type Check, type ModuleDefinition } from 'modactor';

/** Options of the {@link governanceWebhook} module. */
export interface GovernanceWebhookOptions {
  readonly name?: string;
  /** Default `1.0.0`; a reload with another version shows up as ModuleReloaded. */
  readonly version?: string;
  /** Where the webhook would be posted. Default `https://hooks.example/governance`. */
  readonly webhookUrl?: string;
  /** Time one post takes, on the node's clock (virtual in simulation). Default 20 ms. */
  readonly latencyMs?: number;
  /** Every `failEvery`-th post fails (the simulated endpoint answers 503); 0 = never. Default 4. */
  readonly failEvery?: number;
}

/**
 * The options {@link governanceWebhook} takes, checked against a scenario's `options` before it runs (a typo
 * is an error, never ignored); every key of its options but `name`, which comes from the scenario.
 */
export const optionsSchema = object({
  version: optional(nonEmptyString),
  webhookUrl: optional(nonEmptyString),
  latencyMs: optional(nonNegativeNumber),
  failEvery: optional(nonNegativeInteger),
} satisfies Record<Exclude<keyof GovernanceWebhookOptions, 'name'>, Check<unknown>>);

/**
 * The governance webhook: forwards `GovernanceProposalCreated`, `Voted` and `Merged` to a webhook
 * and publishes the outcome, `WebhookSent` or `WebhookFailed`: the only two types it declares it
 * may publish. The endpoint is simulated (a delay on the node's clock and a deterministic failure
 * pattern), so the module runs the same in simulation and in a test.
 */
export default function governanceWebhook(options: GovernanceWebhookOptions = {}): ModuleDefinition {
  const webhookUrl = options.webhookUrl ?? 'https://hooks.example/governance';
  const latencyMs = options.latencyMs ?? 20;
  const failEvery = options.failEvery ?? 4;
  return defineModule({
    name: options.name ?? 'governance-webhook',
    version: options.version ?? '1.0.0',
    subscribe: [EventType.GovernanceProposalCreated, EventType.GovernanceProposalVoted, EventType.GovernanceProposalMerged],
    publishes: [EventType.WebhookSent, EventType.WebhookFailed],
    create(ctx) {
      let posts = 0;
      return {
        async handle(event) {
          await ctx.delay(latencyMs);
          posts++;
          if (failEvery > 0 && posts % failEvery === 0) {
            ctx.publish({ type: 'WebhookFailed', payload: { webhookUrl, eventType: event.type, error: 'HTTP 503 from the endpoint' } });
          } else {
            ctx.publish({ type: 'WebhookSent', payload: { webhookUrl, eventType: event.type, success: true } });
          }
        },
      };
    },
  });
}
