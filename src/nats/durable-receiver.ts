/**
 * The durable path's receiver: this node's durable consumer on the stream, read in stream order.
 *
 * JetStream redelivers an unacknowledged message only after its ack wait, and meanwhile delivers
 * later ones; a message lost on the way (a cut connection) would then arrive after its successors
 * and break the per-origin order. So the receiver reads the stream strictly in sequence: it
 * remembers the last stream sequence it handled, and when a delivery skips one, or the connection
 * came back, or the node joins with deliveries outstanding, it re-creates its consumer to start
 * right after the last handled message. Messages it handled but whose acknowledgement was lost
 * come again and are dropped as stale. The first delivery after a (re)start is taken as it comes:
 * messages the stream's retention removed meanwhile are gone (receivers count them as missed
 * from the origins' numbering). @internal
 */
import type { Logger } from 'pino';
import type { Scheduler, TimerHandle } from '../kernel/scheduler.js';
import { AckPolicy, DeliverPolicy, JetStreamApiError, type ConsumerConfig, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';

/** Where the consumer starts the first time a node joins. */
export type DurableStart = 'new' | 'all';

const CONSUMER_NOT_FOUND = 10014;

/** Pause before trying again to re-create the consumer after a failure (JetStream not ready yet after a server restart). */
export const RESTART_RETRY_MS = 1000;

export class DurableReceiver {
  private messages: ConsumerMessages | null = null;
  /** Stream sequence of the last message handled; 0 before the first. */
  private last = 0;
  /** True until the first delivery of a consumer session: it sets the baseline. */
  private fresh = true;
  /**
   * The current consumer session: deliveries of an older one (a pull answered late, after its
   * session was closed) are ignored, so none can be taken as a new session's baseline.
   */
  private session = 0;
  private restarting: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private retryTimer: TimerHandle | null = null;
  /** Consumer re-creations (a skipped delivery, a reconnection). */
  restarts = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly name: string,
    private readonly filter: string,
    private readonly startFrom: DurableStart,
    private readonly handle: (subject: string, data: Uint8Array) => void,
    private readonly log: Logger,
    private readonly scheduler: Scheduler,
  ) {}

  /** Binds to this node's consumer (creating it on the first join) and starts reading. */
  async start(): Promise<void> {
    try {
      await this.jsm.consumers.info(this.stream, this.name);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== CONSUMER_NOT_FOUND) throw error;
      await this.jsm.consumers.add(this.stream, this.config(this.startFrom === 'all' ? { deliver_policy: DeliverPolicy.All } : { deliver_policy: DeliverPolicy.New }));
      return this.consume();
    }
    // A previous incarnation may have left deliveries unacknowledged: read on from its ack floor.
    await this.restartFromPosition();
  }

  /** The connection came back: deliveries in flight may be lost; read on from the last handled. */
  resync(): void {
    this.restart();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.retryTimer?.cancel();
    await this.restarting;
    await this.messages?.close();
  }

  private config(start: Partial<ConsumerConfig>): Partial<ConsumerConfig> {
    return {
      durable_name: this.name,
      ack_policy: AckPolicy.Explicit,
      filter_subject: this.filter,
      max_ack_pending: 1000,
      ...start,
    };
  }

  private async recreate(startSeq: number): Promise<void> {
    await this.jsm.consumers.delete(this.stream, this.name).catch((error: unknown) => {
      if (!(error instanceof JetStreamApiError) || error.code !== CONSUMER_NOT_FOUND) throw error;
    });
    await this.jsm.consumers.add(this.stream, this.config({ deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }));
  }

  private async consume(): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, this.name);
    this.fresh = true;
    const session = ++this.session;
    this.messages = await consumer.consume({
      max_messages: 256,
      callback: (msg) => {
        if (session === this.session) this.onMessage(msg);
      },
    });
  }

  private onMessage(msg: JsMsg): void {
    if (this.restarting !== null || this.closed) return;
    const seq = msg.info.streamSequence;
    if (this.fresh) {
      this.fresh = false;
    } else if (seq <= this.last) {
      msg.ack(); // handled before; its acknowledgement was lost
      return;
    } else if (seq > this.last + 1) {
      this.restart();
      return;
    }
    this.last = seq;
    this.handle(msg.subject, msg.data);
    msg.ack();
  }

  /**
   * Re-creates the consumer to start right after the last handled message (or, before the first,
   * after the consumer's ack floor when deliveries are outstanding), and reads on.
   */
  private async restartFromPosition(): Promise<void> {
    let from: number | undefined;
    if (this.last > 0) {
      from = this.last + 1;
    } else {
      const info = await this.jsm.consumers.info(this.stream, this.name);
      if (info.num_ack_pending > 0) from = info.ack_floor.stream_seq + 1;
    }
    if (from !== undefined) await this.recreate(from);
    await this.consume();
  }

  /** Stops reading and restarts from the position (one restart at a time). */
  private restart(): void {
    if (this.closed) return;
    if (this.restarting !== null) {
      this.again = true;
      return;
    }
    this.restarts++;
    this.session++; // what the closing session still delivers is ignored
    const messages = this.messages;
    this.messages = null;
    this.restarting = (async () => {
      await messages?.close();
      await this.restartFromPosition();
    })()
      .catch((error: unknown) => {
        // Disconnected again, or JetStream not ready yet (a server just restarted): try again
        // later (a reconnection meanwhile tries at once).
        this.log.warn({ err: error }, 'could not restart the durable consumer; trying again');
        if (this.closed || this.retryTimer !== null) return;
        this.retryTimer = this.scheduler.setTimer(RESTART_RETRY_MS, () => {
          this.retryTimer = null;
          this.restart();
        });
      })
      .finally(() => {
        this.restarting = null;
        if (this.again && !this.closed) {
          this.again = false;
          this.restart();
        }
      });
  }
}
