/** A PPS edge as the local clock saw it. */
import type { Nanos } from '../time/index.ts';

export interface PpsEdge {
  /** Local (CLOCK_REALTIME, or the simulated local clock) timestamp of the assert edge. */
  assert: Nanos;
  /** The source's running count of assert edges (the kernel's sequence number). */
  sequence: number;
  /** The clear (falling) edge before this assert, if read. */
  clear?: Nanos;
  /** For sources that know it (gpsd): the UTC second this edge marks. */
  utcSecond?: Nanos;
}

/** Parses a kernel PPS sysfs timestamp, "SECONDS.NANOSECONDS#SEQUENCE" (e.g. assert or clear). An edge
 * that never happened reads as "0.000000000#0" and gives undefined. */
export function parseSysfsTimestamp(text: string): { time: Nanos; sequence: number } | undefined {
  const m = /^\s*(\d+)\.(\d{9})#(\d+)\s*$/.exec(text);
  if (!m) throw new Error(`not a PPS timestamp: ${JSON.stringify(text.slice(0, 40))}`);
  const sequence = Number(m[3]);
  const time = BigInt(m[1]!) * 1_000_000_000n + BigInt(m[2]!);
  if (sequence === 0 && time === 0n) return undefined;
  return { time, sequence };
}
