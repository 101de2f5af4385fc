/** The disciplined clock: the base clock minus the discipline's correction. This is what NTP and PTP
 * serve. Timers run on the base clock. */
import type { Clock, Timer, Nanos } from '../time/index.ts';

export class DisciplinedClock implements Clock {
  constructor(private readonly base: Clock, private readonly correctionAt: (t: Nanos) => number) {}

  now(): Nanos {
    const t = this.base.now();
    return t - BigInt(Math.round(this.correctionAt(t)));
  }

  monotonic(): Nanos {
    return this.base.monotonic();
  }

  setTimeout(fn: () => void, delayMs: number): Timer {
    return this.base.setTimeout(fn, delayMs);
  }

  setInterval(fn: () => void, intervalMs: number): Timer {
    return this.base.setInterval(fn, intervalMs);
  }
}
