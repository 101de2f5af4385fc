/**
 * The history database's schema, as numbered migrations. `PRAGMA user_version` holds the number of
 * the last one applied; each runs once, in its own transaction, in order. Add a migration to change
 * the schema; never edit one that has shipped.
 */
import type { Database } from 'better-sqlite3';
import { SAMPLE_METRICS } from './metrics.ts';

/** The columns of migration 1, as shipped (the list is frozen here; later metrics come by migration). */
const FIRST_COLUMNS = ['offset_ns', 'frequency_ppb', 'time_error_ns', 'pps_jitter_ns', 'satellites_used', 'satellites_in_view', 'pdop', 'hdop',
  'fix_mode', 'state', 'local_offset_ns', 'ntp_requests_per_s'];
const sampleColumns = FIRST_COLUMNS.map((m) => `${m} REAL`).join(', ');
const addColumns = (names: string[]) => names.map((m) => `ALTER TABLE samples ADD COLUMN ${m} REAL;`).join('\n   ');
/** Every metric must have a column from some migration (checked at load: a new metric needs one). */
const ADDED_COLUMNS = [
  ['receiver_minus_upstream_ns', 'position_distance_m', 'cn0_mean_dbhz', 'integrity_failing'],
  ['chrony_offset_ns', 'chrony_stratum', 'chrony_synchronised', 'ptp4l_offset_ns', 'ptp4l_in_expected_state'],
];
const missing = SAMPLE_METRICS.map((m) => m.name).filter((n) => !FIRST_COLUMNS.includes(n) && !ADDED_COLUMNS.flat().includes(n));
if (missing.length) throw new Error(`history metrics without a column migration: ${missing.join(', ')}`);
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
  // 2: integrity figures (issue "Time you can trust").
  addColumns(ADDED_COLUMNS[0]!),
  // 3: partner mode (issue "Partner mode"): chronyd's and ptp4l's figures.
  addColumns(ADDED_COLUMNS[1]!),
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
