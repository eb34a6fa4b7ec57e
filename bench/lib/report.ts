/**
 * How a case hands its numbers to the driver: one line on stdout starting with
 * {@link RESULT_MARKER}, followed by JSON. Anything else a case prints is ignored by the driver.
 */
export const RESULT_MARKER = 'BENCH_RESULT ';

/** What one case process reports. */
export interface CaseResult {
  /** Named numbers the driver compares (events/s, ns per drop, bytes per actor, ...). */
  readonly metrics: Record<string, number>;
  /** Context worth keeping in the JSON output (drop counts, sample sizes, ...). */
  readonly info?: Record<string, unknown>;
  /** Set when the case could not run here (e.g. the node layer is not built yet). */
  readonly skipped?: string;
}

/** Prints the result line and ends the process (stuck actors must not keep it alive). */
export function emitResult(result: CaseResult): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The p-th percentile (0..100) of `sorted` (ascending), nearest-rank. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Runs a case's main function; a failure is printed and exits non-zero. */
export function runCase(main: () => Promise<CaseResult>): void {
  main().then(emitResult, (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  });
}

/**
 * CPU time per event of a publisher (this process) and a receiver (another process reporting its
 * own `process.cpuUsage()` total), over the rounds after `warmup`: a figure that holds on a busy
 * machine, where events/s of processes competing for cores with others do not.
 */
export class CpuPerEvent {
  private events = 0;
  private publisher = 0;
  private receiver = 0;
  private lastPublisher = 0;
  private lastReceiver = 0;

  constructor(private readonly warmup: number) {}

  /** Call at the end of each round with the events it carried and the receiver's CPU total (µs). */
  round(round: number, events: number, receiverCpuUs: number): void {
    const cpu = process.cpuUsage();
    const publisherUs = cpu.user + cpu.system;
    if (round >= this.warmup) {
      this.events += events;
      this.publisher += publisherUs - this.lastPublisher;
      this.receiver += receiverCpuUs - this.lastReceiver;
    }
    this.lastPublisher = publisherUs;
    this.lastReceiver = receiverCpuUs;
  }

  perEvent(): { publisherCpuUsPerEvent: number; receiverCpuUsPerEvent: number } {
    return { publisherCpuUsPerEvent: this.publisher / this.events, receiverCpuUsPerEvent: this.receiver / this.events };
  }
}
