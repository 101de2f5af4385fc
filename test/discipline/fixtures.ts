/**
 * Hand-made leap-seconds.list texts in the IERS format (NOT real data: the 2026-11-26 leap second is
 * invented so a test can cross one). NTP seconds: Unix + 2208988800.
 */
const ntp = (iso: string) => Date.parse(iso) / 1000 + 2208988800;

export const REAL_TAIL = [
  `${ntp('2015-07-01T00:00:00Z')}\t36\t# 1 Jul 2015`,
  `${ntp('2017-01-01T00:00:00Z')}\t37\t# 1 Jan 2017`,
].join('\n');

/** An insertion at the end of 2026-11-25 (invented), file valid until 2027-06-28. */
export const INVENTED_INSERTION = [
  '# hand-made test fixture, not IERS data',
  `#@\t${ntp('2027-06-28T00:00:00Z')}`,
  REAL_TAIL,
  `${ntp('2026-11-26T00:00:00Z')}\t38\t# invented for a test`,
  '',
].join('\n');

/** The real table's shape, expired on 2026-06-28 (as tzdata 2025 on this machine). */
export const EXPIRED = ['#@\t' + ntp('2026-06-28T00:00:00Z'), REAL_TAIL, ''].join('\n');
