/**
 * Reading the history: by metric and time range from the finest table that holds the range, and
 * events by time. Works on any connection, so the CLI and the report read a live agent's database
 * read-only, without the writer.
 */
import Database from 'better-sqlite3';
import { SAMPLE_METRICS, METRIC_BY_NAME } from './metrics.ts';
import { combine, type Summary } from './rollup.ts';
import type { Retention, StoredEvent } from './store.ts';

export interface HistoryPoint extends Summary {
  t: number;
}

/** Which table a history query read. */
export type Resolution = 'second' | 'minute' | 'hour';

const DAY = 86_400;

/** Opens a database for reading only (never creates one, never migrates). */
export function openReadOnly(path: string): Database.Database {
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new Error(`cannot open the history database ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export function queryHistory(db: Database.Database, r: Retention, metric: string, fromS: number, toS: number, everyS: number, nowS: number): { resolution: Resolution; points: HistoryPoint[] } {
  const m = METRIC_BY_NAME.get(metric);
  if (!m) throw new Error(`unknown metric ${JSON.stringify(metric)}: one of ${SAMPLE_METRICS.map((x) => x.name).join(', ')}`);
  const covers = (days: number) => fromS >= nowS - days * DAY;
  let resolution: Resolution;
  let rows: (Summary & { t: number })[];
  if (everyS < 60 && covers(r.samplesDays)) {
    resolution = 'second';
    rows = (db.prepare(`SELECT t, ${m.name} AS v FROM samples WHERE t >= ? AND t < ? AND ${m.name} IS NOT NULL ORDER BY t`).all(fromS, toS) as { t: number; v: number }[])
      .map(({ t, v }) => ({ t, n: 1, min: v, max: v, mean: v, sd: 0 }));
  } else {
    resolution = everyS < 3600 && covers(r.minuteDays) ? 'minute' : 'hour';
    rows = db.prepare(`SELECT t, n, min, max, mean, sd FROM ${resolution === 'minute' ? 'rollup_1m' : 'rollup_1h'} WHERE metric = ? AND t >= ? AND t < ? ORDER BY t`)
      .all(m.id, fromS, toS) as (Summary & { t: number })[];
  }
  const step = Math.max(1, Math.floor(everyS));
  const points: HistoryPoint[] = [];
  let bucket: number | undefined;
  let parts: Summary[] = [];
  const close = () => {
    const s = combine(parts);
    if (bucket !== undefined && s) points.push({ t: bucket, ...s });
    parts = [];
  };
  for (const row of rows) {
    const b = Math.floor(row.t / step) * step; // buckets on whole multiples of the step
    if (b !== bucket) {
      close();
      bucket = b;
    }
    parts.push(row);
  }
  close();
  return { resolution, points };
}

export function queryEvents(db: Database.Database, fromNs: bigint, toNs: bigint, limit = 10_000, types?: string[]): StoredEvent[] {
  const typeClause = types?.length ? ` AND type IN (${types.map(() => '?').join(', ')})` : '';
  const rows = db.prepare(`SELECT t_ns, type, data FROM events WHERE t_ns >= ? AND t_ns < ?${typeClause} ORDER BY t_ns, id LIMIT ?`)
    .safeIntegers(true).all(fromNs, toNs, ...(types ?? []), limit) as { t_ns: bigint; type: string; data: string }[];
  return rows.map((r) => ({ tNs: r.t_ns, type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }));
}
