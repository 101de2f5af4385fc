/**
 * The history database's schema, as numbered migrations. `PRAGMA user_version` holds the number of
 * the last one applied; each runs once, in its own transaction, in order. Add a migration to change
 * the schema; never edit one that has shipped.
 */
import type { Database } from 'better-sqlite3';
import { SAMPLE_METRICS } from './metrics.ts';

const sampleColumns = SAMPLE_METRICS.map((m) => `${m.name} REAL`).join(', ');
// Keyed by time first: the rows of one minute (one per metric) land on one page, so a rollup rewrites
// one or two pages, not one per metric (measured: 3.4 MB an hour less written; bench/REPORT.md).
const rollup = (name: string) => `CREATE TABLE ${name} (
  metric INTEGER NOT NULL, t INTEGER NOT NULL, n INTEGER NOT NULL,
  min REAL NOT NULL, max REAL NOT NULL, mean REAL NOT NULL, sd REAL NOT NULL,
  PRIMARY KEY (t, metric)) WITHOUT ROWID`;

export const MIGRATIONS: readonly string[] = [
  // 1: per-second samples (t: Unix seconds), events, rollups, and the upkeep bookkeeping.
  `CREATE TABLE samples (t INTEGER PRIMARY KEY, ${sampleColumns});
   CREATE TABLE events (id INTEGER PRIMARY KEY, t_ns INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL);
   CREATE INDEX events_t ON events (t_ns);
   ${rollup('rollup_1m')};
   ${rollup('rollup_1h')};
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION. A database from a newer agent is refused, not touched. */
export function migrate(db: Database): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new Error(`the history database has schema version ${from}, newer than this agent's ${SCHEMA_VERSION}`);
  }
  for (let v = from; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return { from, to: SCHEMA_VERSION };
}
