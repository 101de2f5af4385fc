/**
 * Timestamps: bigint nanoseconds since the Unix epoch (1970-01-01T00:00:00Z, UTC, POSIX seconds, i.e.
 * leap seconds not counted). Conversions to the NTP 64-bit format (RFC 5905, 32.32 fixed point seconds
 * since 1900, with eras) and the PTP 80-bit format (IEEE 1588: 48-bit seconds + 32-bit nanoseconds on
 * the TAI timescale) are exact where the format allows and round to nearest where it does not.
 */

/** Nanoseconds since the Unix epoch, UTC. */
export type Nanos = bigint;

export const NS_PER_US = 1_000n;
export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;

/** Seconds from the NTP prime epoch (1900-01-01) to the Unix epoch. */
export const NTP_UNIX_OFFSET_S = 2_208_988_800n;
const TWO32 = 1n << 32n;
const TWO64 = 1n << 64n;
const NTP_ERA_NS = TWO32 * NS_PER_S;

/** Floor division for bigints (rounds toward minus infinity, unlike `/`). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** Non-negative remainder. */
export function mod(a: bigint, b: bigint): bigint {
  const r = a % b;
  return r < 0n ? r + b : r;
}

/** Round-half-away-from-zero division of bigints, b > 0. */
function roundDiv(a: bigint, b: bigint): bigint {
  const half = b / 2n;
  return a >= 0n ? (a + half) / b : -((-a + half) / b);
}

export function fromSeconds(s: number): Nanos {
  if (!Number.isFinite(s)) throw new RangeError(`not a finite number of seconds: ${s}`);
  const whole = Math.floor(s);
  return BigInt(whole) * NS_PER_S + BigInt(Math.round((s - whole) * 1e9));
}

/** Seconds as a float (loses precision beyond about 0.1 us for present-day times). */
export function toSeconds(ns: Nanos): number {
  const s = floorDiv(ns, NS_PER_S);
  return Number(s) + Number(ns - s * NS_PER_S) / 1e9;
}

/** A duration or offset in nanoseconds as float seconds (exact for |d| < 2^53 ns, about 104 days). */
export function durationToSeconds(d: bigint): number {
  return Number(d) / 1e9;
}

export function fromDate(d: Date): Nanos {
  return BigInt(d.getTime()) * NS_PER_MS;
}

/** ISO 8601 UTC with as many fractional digits as needed (at most 9). */
export function toIso(ns: Nanos, fractionDigits?: number): string {
  const s = floorDiv(ns, NS_PER_S);
  const frac = ns - s * NS_PER_S;
  const base = new Date(Number(s) * 1000).toISOString().slice(0, 19);
  let f = frac.toString().padStart(9, '0');
  if (fractionDigits !== undefined) f = f.slice(0, fractionDigits);
  else f = f.replace(/0+$/, '');
  return `${base}${f.length ? '.' + f : ''}Z`;
}

/** UTC calendar fields to nanoseconds. Month is 1-12. Second may be 60 (a leap second); it is then
 * mapped to the first second of the next minute, which is how POSIX time represents it. */
export function fromUtcFields(year: number, month: number, day: number, hour: number, minute: number,
  second: number, nanos = 0): Nanos {
  const ms = Date.UTC(year, month - 1, day, hour, minute, 0);
  return BigInt(ms) * NS_PER_MS + BigInt(second) * NS_PER_S + BigInt(nanos);
}

// ---------------------------------------------------------------------------------------------- NTP

/** An NTP 64-bit timestamp as an unsigned 64-bit bigint: seconds since the era start in the high 32
 * bits, binary fraction in the low 32. */
export type Ntp64 = bigint;

/** Converts to the NTP 64-bit timestamp format. The era is dropped, as on the wire (era 1 begins
 * 2036-02-07T06:28:16Z). The fraction is rounded to the nearest 2^-32 s. */
export function toNtp64(ns: Nanos): Ntp64 {
  const sinceNtpEpoch = ns + NTP_UNIX_OFFSET_S * NS_PER_S;
  const secs = floorDiv(sinceNtpEpoch, NS_PER_S);
  const fracNs = sinceNtpEpoch - secs * NS_PER_S;
  const frac = roundDiv(fracNs * TWO32, NS_PER_S);
  return mod((secs << 32n) + frac, TWO64);
}

/** Converts an NTP 64-bit timestamp back to Unix nanoseconds, choosing the era that puts the result
 * closest to `pivot` (a time known to be within 68 years of the true one, normally the local clock),
 * as RFC 5905 section 6 recommends. Rounds the fraction to the nearest nanosecond. */
export function fromNtp64(ts: Ntp64, pivot: Nanos): Nanos {
  const secs = ts >> 32n;
  const frac = ts & (TWO32 - 1n);
  const inEraNs = secs * NS_PER_S + roundDiv(frac * NS_PER_S, TWO32);
  const pivotSinceNtp = pivot + NTP_UNIX_OFFSET_S * NS_PER_S;
  const era = floorDiv(pivotSinceNtp - inEraNs + NTP_ERA_NS / 2n, NTP_ERA_NS);
  return inEraNs + era * NTP_ERA_NS - NTP_UNIX_OFFSET_S * NS_PER_S;
}

/** The NTP era of a time (0 until 2036-02-07T06:28:16Z). */
export function ntpEra(ns: Nanos): bigint {
  return floorDiv(ns + NTP_UNIX_OFFSET_S * NS_PER_S, NTP_ERA_NS);
}

/** NTP short format (16.16 unsigned seconds) from float seconds, saturating; used for root delay and
 * root dispersion. */
export function toNtpShort(seconds: number): number {
  if (!(seconds > 0)) return 0;
  const v = Math.round(seconds * 65536);
  return v > 0xffffffff ? 0xffffffff : v;
}

export function fromNtpShort(v: number): number {
  return (v >>> 0) / 65536;
}

// ---------------------------------------------------------------------------------------------- PTP

/** A PTP timestamp: 48-bit seconds and 32-bit nanoseconds (0..999 999 999) on the PTP timescale (TAI,
 * epoch 1970-01-01T00:00:00 TAI). */
export interface PtpTimestamp {
  seconds: bigint;
  nanoseconds: number;
}

const PTP_MAX_SECONDS = (1n << 48n) - 1n;

/** UTC nanoseconds to the PTP timescale: TAI = UTC + taiUtcOffset (37 s since 2017). */
export function toPtp(ns: Nanos, taiUtcOffsetS: number): PtpTimestamp {
  const tai = ns + BigInt(taiUtcOffsetS) * NS_PER_S;
  if (tai < 0n) throw new RangeError('time before the PTP epoch');
  const seconds = tai / NS_PER_S;
  if (seconds > PTP_MAX_SECONDS) throw new RangeError('time beyond the 48-bit PTP seconds field');
  return { seconds, nanoseconds: Number(tai - seconds * NS_PER_S) };
}

export function fromPtp(ts: PtpTimestamp, taiUtcOffsetS: number): Nanos {
  if (ts.nanoseconds < 0 || ts.nanoseconds >= 1e9 || !Number.isInteger(ts.nanoseconds)) {
    throw new RangeError(`PTP nanoseconds field out of range: ${ts.nanoseconds}`);
  }
  if (ts.seconds < 0n || ts.seconds > PTP_MAX_SECONDS) throw new RangeError('PTP seconds field out of range');
  return ts.seconds * NS_PER_S + BigInt(ts.nanoseconds) - BigInt(taiUtcOffsetS) * NS_PER_S;
}

/** ISO 8601 of a second label that may be an inserted leap second: POSIX time has no 23:59:60, so a
 * leap second carries the POSIX time of the 00:00:00 after it and is printed as 23:59:60. */
export function toIsoLabel(ns: Nanos, leapSecond: boolean, fractionDigits?: number): string {
  if (!leapSecond) return toIso(ns, fractionDigits);
  const s = toIso(ns - NS_PER_S, fractionDigits);
  return s.replace(/T(\d\d):(\d\d):59/, 'T$1:$2:60');
}
