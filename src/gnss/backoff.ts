/** Reconnect delays: doubling from min to max, reset after a success. */
export class Backoff {
  private next: number;
  constructor(private readonly minMs: number, private readonly maxMs: number) {
    this.next = minMs;
  }
  /** The delay to wait before the next attempt. */
  delay(): number {
    const d = this.next;
    this.next = Math.min(this.maxMs, this.next * 2);
    return d;
  }
  reset(): void {
    this.next = this.minMs;
  }
}
