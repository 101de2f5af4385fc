/**
 * Reading the history: by metric and time range, each part of the range from the table that holds it, and
 * events by time. Works on any connection, so the CLI and the report read a live agent's database
 * read-only, without the writer.
 */
import Database from 'better-sqlite3';
import { SAMPLE_METRICS, METRIC_BY_NAME } from './metrics.ts';
import { combine, type Summary } from './rollup.ts';
import type { StoredEvent } from './types.ts';

export interface HistoryPoint extends Summary {
  t: number;
}

/** Which table a history query read. */
export type Resolution = 'second' | 'minute' | 'hour';

/** The tables, finest first, with the interval one row summarises. */
const TABLES: readonly { resolution: Resolution; stepS: number }[] = [
  { resolution: 'second', stepS: 1 }, { resolution: 'minute', stepS: 60 }, { resolution: 'hour', stepS: 3600 },
];

/** One piece of a query's range and the table that answered it. */
export interface HistorySpan {
  resolution: Resolution;
  fromS: number;
  toS: number;
  points: number;
}

export interface HistoryResult {
  /** The coarsest table that contributed a point (the natural table when none did). */
  resolution: Resolution;
  /** The spacing of the points: the bucket size, or the coarsest table's interval when that is longer. */
  stepS: number;
  /** Each piece of the range and the table it came from, in time order. */
  parts: HistorySpan[];
  points: HistoryPoint[];
}

/** Opens a database for reading only (never creates one, never migrates). */
export function openReadOnly(path: string): Database.Database {
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new Error(`cannot open the history database ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The span of time each table holds data for, from what is in it: the oldest row retention has not
 * pruned yet, to where the rollups have reached (the per-second table runs to now). Data, not the
 * retention settings and the wall clock, decide: a history recorded on another date, or a new agent
 * whose rollups have not run yet, is still read from where it is.
 */
function coverage(db: Database.Database): { fromS: number; toS: number }[] {
  const meta = (key: string) => {
    const v = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
    return v === undefined ? undefined : Number(v);
  };
  const oldest = (table: string) => db.prepare(`SELECT min(t) FROM ${table}`).pluck().get() as number | null;
  const span = (table: string, untilKey?: string) => {
    const from = oldest(table);
    if (from === null) return { fromS: Infinity, toS: -Infinity };
    return { fromS: from, toS: untilKey ? (meta(untilKey) ?? -Infinity) : Infinity };
  };
  return [span('samples'), span('rollup_1m', 'rollup_1m_until'), span('rollup_1h', 'rollup_1h_until')];
}

/**
 * The history of one metric between two Unix seconds, in buckets of `everyS`. The natural table is the
 * coarsest whose interval fits the bucket; each part of the range is answered by the first table that
 * covers it, in this order: the natural table, then the finer ones (recent data the rollups have not
 * reached yet), then the coarser ones (older data retention has pruned from the finer tables).
 */
export function queryHistory(db: Database.Database, metric: string, fromS: number, toS: number, everyS: number): HistoryResult {
  const m = METRIC_BY_NAME.get(metric);
  if (!m) throw new Error(`unknown metric ${JSON.stringify(metric)}: one of ${SAMPLE_METRICS.map((x) => x.name).join(', ')}`);
  const natural = everyS < 60 ? 0 : everyS < 3600 ? 1 : 2;
  const order = [natural, ...[0, 1, 2].filter((i) => i < natural).reverse(), ...[0, 1, 2].filter((i) => i > natural)];
  const cover = coverage(db);
  // Cut the range wherever a table's coverage begins or ends, and give each piece to the first table
  // in the order that covers it.
  const cuts = [...new Set([fromS, toS, ...cover.flatMap((c) => [c.fromS, c.toS]).filter((t) => t > fromS && t < toS)])].sort((a, b) => a - b);
  const pieces: { level: number; fromS: number; toS: number }[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const a = cuts[i]!;
    const b = cuts[i + 1]!;
    const level = order.find((l) => cover[l]!.fromS <= a && b <= cover[l]!.toS);
    if (level === undefined) continue;
    const last = pieces.at(-1);
    if (last && last.level === level && last.toS === a) last.toS = b;
    else pieces.push({ level, fromS: a, toS: b });
  }
  const rows: (Summary & { t: number })[] = [];
  const parts: HistorySpan[] = [];
  let coarsest = -1;
  // A rollup row summarises its whole interval: where the next piece begins inside the last row's
  // interval, it starts after it, so no second is counted twice.
  let coveredUntil = -Infinity;
  for (const p of pieces) {
    const from = Math.max(p.fromS, coveredUntil);
    if (from >= p.toS) continue;
    const got = p.level === 0
      ? (db.prepare(`SELECT t, ${m.name} AS v FROM samples WHERE t >= ? AND t < ? AND ${m.name} IS NOT NULL ORDER BY t`).all(from, p.toS) as { t: number; v: number }[])
        .map(({ t, v }) => ({ t, n: 1, min: v, max: v, mean: v, sd: 0 }))
      : db.prepare(`SELECT t, n, min, max, mean, sd FROM ${p.level === 1 ? 'rollup_1m' : 'rollup_1h'} WHERE metric = ? AND t >= ? AND t < ? ORDER BY t`)
        .all(m.id, from, p.toS) as (Summary & { t: number })[];
    rows.push(...got);
    parts.push({ resolution: TABLES[p.level]!.resolution, fromS: from, toS: p.toS, points: got.length });
    if (got.length > 0) {
      coarsest = Math.max(coarsest, p.level);
      coveredUntil = Math.max(coveredUntil, got.at(-1)!.t + TABLES[p.level]!.stepS);
    }
  }
  const level = coarsest < 0 ? natural : coarsest;
  const step = Math.max(1, Math.floor(everyS));
  const points: HistoryPoint[] = [];
  let bucket: number | undefined;
  let group: Summary[] = [];
  const close = () => {
    const s = combine(group);
    if (bucket !== undefined && s) points.push({ t: bucket, ...s });
    group = [];
  };
  for (const row of rows) {
    const b = Math.floor(row.t / step) * step; // buckets on whole multiples of the step
    if (b !== bucket) {
      close();
      bucket = b;
    }
    group.push(row);
  }
  close();
  return { resolution: TABLES[level]!.resolution, stepS: Math.max(step, TABLES[level]!.stepS), parts, points };
}

export function queryEvents(db: Database.Database, fromNs: bigint, toNs: bigint, limit = 10_000, types?: string[]): StoredEvent[] {
  const typeClause = types?.length ? ` AND type IN (${types.map(() => '?').join(', ')})` : '';
  const rows = db.prepare(`SELECT t_ns, type, data FROM events WHERE t_ns >= ? AND t_ns < ?${typeClause} ORDER BY t_ns, id LIMIT ?`)
    .safeIntegers(true).all(fromNs, toNs, ...(types ?? []), limit) as { t_ns: bigint; type: string; data: string }[];
  return rows.map((r) => ({ tNs: r.t_ns, type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }));
}
