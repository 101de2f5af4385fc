/**
 * Rollups (pure): the minimum, maximum, mean and standard deviation of a metric over an interval, and
 * how to combine interval summaries into a longer one exactly (Chan et al.'s parallel variance), so
 * hourly rollups come from minute rollups without reading a second of raw history again.
 */
export interface Summary {
  n: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation: the spread figure. */
  sd: number;
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  let mean = 0;
  let m2 = 0;
  let n = 0;
  for (const v of values) {
    n++;
    if (v < min) min = v;
    if (v > max) max = v;
    const d = v - mean; // Welford: no cancellation on large offsets
    mean += d / n;
    m2 += d * (v - mean);
  }
  return { n, min, max, mean, sd: Math.sqrt(Math.max(0, m2 / n)) };
}

export function combine(parts: readonly Summary[]): Summary | undefined {
  let acc: { n: number; min: number; max: number; mean: number; m2: number } | undefined;
  for (const p of parts) {
    if (p.n <= 0) continue;
    const m2 = p.sd * p.sd * p.n;
    if (!acc) {
      acc = { n: p.n, min: p.min, max: p.max, mean: p.mean, m2 };
      continue;
    }
    const n = acc.n + p.n;
    const d = p.mean - acc.mean;
    acc = {
      n, min: Math.min(acc.min, p.min), max: Math.max(acc.max, p.max),
      mean: acc.mean + (d * p.n) / n, m2: acc.m2 + m2 + (d * d * acc.n * p.n) / n,
    };
  }
  return acc && { n: acc.n, min: acc.min, max: acc.max, mean: acc.mean, sd: Math.sqrt(Math.max(0, acc.m2 / acc.n)) };
}
