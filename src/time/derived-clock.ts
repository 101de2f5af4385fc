/** A clock whose readings are a function of another clock's (a simulated oscillator, a disciplined
 * clock); timers and the monotonic reading stay the base clock's. */
import type { Clock, Timer } from './clock.ts';
import type { Nanos } from './timestamp.ts';

export class DerivedClock implements Clock {
  constructor(protected readonly base: Clock, private readonly map: (baseNow: Nanos) => Nanos) {}

  now(): Nanos {
    return this.map(this.base.now());
  }

  monotonic(): Nanos {
    return this.base.monotonic();
  }

  fromRealtime(ns: Nanos): Nanos {
    if (!this.base.fromRealtime) throw new Error('the base clock is not tied to the host clock');
    return this.map(this.base.fromRealtime(ns));
  }

  setTimeout(fn: () => void, delayMs: number): Timer {
    return this.base.setTimeout(fn, delayMs);
  }

  setInterval(fn: () => void, intervalMs: number): Timer {
    return this.base.setInterval(fn, intervalMs);
  }
}
