/**
 * Leap seconds from the IERS/NIST leap-seconds.list that tzdata installs (NTP-era seconds of each
 * change and the TAI-UTC offset from then on; `#@` gives the file's expiry). Pure: the text comes in,
 * questions are answered for a given time.
 */
import { type Nanos, NS_PER_S, NTP_UNIX_OFFSET_S } from '../time/index.ts';

export interface LeapEntry {
  /** POSIX time from which `taiUtc` applies (00:00:00 UTC after the leap second). */
  at: Nanos;
  taiUtc: number;
}

export interface LeapTable {
  entries: LeapEntry[];
  expires: Nanos | undefined;
}

export const DEFAULT_LEAP_FILE = '/usr/share/zoneinfo/leap-seconds.list';

export class LeapFileError extends Error {}

export function parseLeapSecondsList(text: string): LeapTable {
  const entries: LeapEntry[] = [];
  let expires: Nanos | undefined;
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line.startsWith('#@')) {
      const v = line.slice(2).trim();
      if (!/^\d+$/.test(v)) throw new LeapFileError(`line ${i + 1}: expiry "${v}" is not NTP seconds`);
      expires = (BigInt(v) - NTP_UNIX_OFFSET_S) * NS_PER_S;
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\d+)\s+(\d+)(\s*#.*)?$/.exec(line);
    if (!m) throw new LeapFileError(`line ${i + 1}: "${line.slice(0, 40)}" is not "NTP-seconds TAI-UTC"`);
    entries.push({ at: (BigInt(m[1]!) - NTP_UNIX_OFFSET_S) * NS_PER_S, taiUtc: Number(m[2]) });
  }
  if (entries.length === 0) throw new LeapFileError('no entries');
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.at <= entries[i - 1]!.at) throw new LeapFileError(`entries out of order at ${i + 1}`);
    if (Math.abs(entries[i]!.taiUtc - entries[i - 1]!.taiUtc) !== 1) throw new LeapFileError(`entry ${i + 1} changes TAI-UTC by more than 1 s`);
  }
  return { entries, expires };
}

/** TAI-UTC in force at POSIX time t (0 before the table begins: 1972 is far behind us). */
export function taiUtcAt(table: LeapTable, t: Nanos): number {
  let v = table.entries[0]!.taiUtc;
  for (const e of table.entries) {
    if (e.at <= t) v = e.taiUtc;
    else break;
  }
  return v;
}

/** The next change after t: at (POSIX 00:00:00 after the leap), +1 for an inserted second, -1 deleted. */
export function nextLeap(table: LeapTable, t: Nanos): { at: Nanos; delta: 1 | -1 } | undefined {
  for (let i = 1; i < table.entries.length; i++) {
    const e = table.entries[i]!;
    if (e.at > t) return { at: e.at, delta: e.taiUtc > table.entries[i - 1]!.taiUtc ? 1 : -1 };
  }
  return undefined;
}

/** RFC 5905 leap indicator for time t: 1 (insert) or 2 (delete) during the last day before a leap at
 * the end of it, else 0. (3, unsynchronized, is the discipline's to decide.) */
export function leapIndicator(table: LeapTable | undefined, t: Nanos): 0 | 1 | 2 {
  if (!table) return 0;
  const n = nextLeap(table, t);
  if (!n || n.at - t > 86_400n * NS_PER_S) return 0;
  return n.delta === 1 ? 1 : 2;
}

/** A continuous (TAI-like) count for a UTC label: POSIX seconds plus TAI-UTC, where an inserted leap
 * second 23:59:60 (which shares the POSIX time of the 00:00:00 after it) still has the old offset. */
export function labelToTai(table: LeapTable | undefined, posix: Nanos, leapSecond: boolean): Nanos {
  if (!table) return posix;
  const off = taiUtcAt(table, leapSecond ? posix - NS_PER_S : posix);
  return posix + BigInt(off) * NS_PER_S;
}

export function isExpired(table: LeapTable, t: Nanos): boolean {
  return table.expires !== undefined && t >= table.expires;
}
