/**
 * The Clock interface: the only way the rest of the agent reads time or sets timers, so the same code
 * runs on the real clock in production and on virtual time in tests and in the simulator.
 */
import type { Nanos } from './timestamp.ts';

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Realtime, UTC nanoseconds since the Unix epoch. */
  now(): Nanos;
  /** A monotonic reading in nanoseconds, for measuring durations (origin unspecified). */
  monotonic(): Nanos;
  /** Calls fn once after delayMs milliseconds of this clock's time. */
  setTimeout(fn: () => void, delayMs: number): Timer;
  /** Calls fn every intervalMs milliseconds of this clock's time. */
  setInterval(fn: () => void, intervalMs: number): Timer;
  /** This clock's reading at the moment CLOCK_REALTIME read `ns` (a kernel timestamp), where the
   * clock is tied to the host's clock; undefined for clocks that are not (virtual time). */
  fromRealtime?(ns: Nanos): Nanos;
}
