/**
 * The history store: SQLite (better-sqlite3) in WAL mode with synchronous=FULL, so a commit that
 * returned survives a crash or a power cut and an interrupted one leaves the file as it was. Samples
 * and events are buffered in memory and written in one transaction per flush (every few seconds), which
 * keeps the writes to an SD card small. A disk that fails (full, read-only, locked) costs nothing but
 * the history: the buffer is kept (bounded; what the bound forces out is counted), the failure is in
 * the stats that Status shows, and the next flush tries again. A corrupt file is moved aside and a new
 * one started, loudly.
 *
 * better-sqlite3 is synchronous: every call here runs on the event loop, so each is kept small
 * (a flush is a few rows; a rollup a minute's; a prune an hour's). The long jobs (integrity check,
 * backup) run in a worker thread on their own connection (upkeep.ts).
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, renameSync, statSync, openSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './schema.ts';
import { SAMPLE_METRICS, type Sample } from './metrics.ts';
import { queryHistory, queryEvents, type HistoryResult } from './query.ts';
import { summarize, combine, type Summary } from './rollup.ts';
import type { Retention, StoredEvent } from './types.ts';

export type { HistoryPoint, Resolution } from './query.ts';
export type { Retention, StoredEvent } from './types.ts';

export interface StoreOptions {
  path: string;
  /** How long SQLite waits on a lock before giving up (kept short: it blocks the event loop). */
  busyTimeoutMs: number;
  /** Samples plus events held in memory while the disk fails; the oldest go first. */
  maxPending: number;
  retention: Retention;
}

export interface StoreStats {
  open: boolean;
  /** The last flush (or open) succeeded. */
  healthy: boolean;
  lastError: string | null;
  lastErrorAt: number | null;
  lastFlushAt: number | null;
  flushes: number;
  samplesWritten: number;
  eventsWritten: number;
  pending: number;
  dropped: number;
  writeFailures: number;
  consecutiveFailures: number;
  movedAside: string[];
}

export type StoreProblem = { kind: 'failed' | 'recovered' | 'movedAside'; detail: string };


const DAY = 86_400;
const codeOf = (e: unknown): string => String((e as { code?: unknown }).code ?? '');
export const isCorrupt = (e: unknown): boolean => /^SQLITE_(CORRUPT|NOTADB)/.test(codeOf(e)) || /malformed|not a database/i.test(String((e as Error).message));

export class HistoryStore {
  private db: Database.Database | undefined;
  private st: ReturnType<HistoryStore['statements']> | undefined;
  private samples: Sample[] = [];
  private events: StoredEvent[] = [];
  readonly stats: StoreStats = {
    open: false, healthy: true, lastError: null, lastErrorAt: null, lastFlushAt: null, flushes: 0, samplesWritten: 0,
    eventsWritten: 0, pending: 0, dropped: 0, writeFailures: 0, consecutiveFailures: 0, movedAside: [],
  };

  /** `nowS` dates errors and retention (Unix seconds); `problem` hears of failures, recoveries and
   * files moved aside, once per transition. */
  constructor(readonly o: StoreOptions, private readonly nowS: () => number, private readonly problem: (p: StoreProblem) => void = () => {}) {}

  /** Opens (or creates) the database; false if it cannot be opened now (retried at the next flush). */
  open(): boolean {
    if (this.db) return true;
    try {
      this.openOnce();
      return true;
    } catch (e) {
      if (isCorrupt(e)) {
        this.moveAside(e);
        try {
          this.openOnce();
          return true;
        } catch (e2) {
          this.fail(e2);
          return false;
        }
      }
      this.fail(e);
      return false;
    }
  }

  private openOnce(): void {
    mkdirSync(dirname(this.o.path), { recursive: true });
    // Made 0640 before SQLite opens it (its -wal and -shm files take the database's mode): the history
    // is the agent's and its group's, not everyone's. Set by chmod, not left to the umask (the unit's
    // 0077 would make it 0600, and `stratum1 history` in the stratum1 group could not read it).
    if (!existsSync(this.o.path)) {
      closeSync(openSync(this.o.path, 'a', 0o640));
      chmodSync(this.o.path, 0o640);
    }
    const db = new Database(this.o.path, { timeout: this.o.busyTimeoutMs });
    try {
      // auto_vacuum takes effect only before the first table: set on a new file, ignored after.
      db.pragma('auto_vacuum = INCREMENTAL');
      if (db.pragma('journal_mode = WAL', { simple: true }) !== 'wal') throw new Error('cannot use WAL mode');
      db.pragma('synchronous = FULL');
      // A damaged file must be found now, not by a query months later.
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw Object.assign(new Error(`database disk image is malformed: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
      migrate(db);
      this.st = this.statements(db);
      this.db = db;
      this.stats.open = true;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private statements(db: Database.Database) {
    const cols = SAMPLE_METRICS.map((m) => m.name);
    return {
      sample: db.prepare(`INSERT OR REPLACE INTO samples (t, ${cols.join(', ')}) VALUES (?${', ?'.repeat(cols.length)})`),
      event: db.prepare('INSERT INTO events (t_ns, type, data) VALUES (?, ?, ?)'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      lowerMeta: db.prepare('UPDATE meta SET value = ? WHERE key = ? AND CAST(value AS INTEGER) > ?'),
      rollup1m: db.prepare('INSERT OR REPLACE INTO rollup_1m (metric, t, n, min, max, mean, sd) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      rollup1h: db.prepare('INSERT OR REPLACE INTO rollup_1h (metric, t, n, min, max, mean, sd) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    };
  }

  /** Moves a damaged file (and its WAL and shared-memory files) aside, keeping it for a post-mortem. */
  private moveAside(e: unknown): void {
    this.closeDb();
    const stamp = new Date(this.nowS() * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const to = `${this.o.path}.corrupt-${stamp}`;
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        if (existsSync(this.o.path + suffix)) renameSync(this.o.path + suffix, to + suffix);
      } catch { /* the rename failing leaves the open to fail and retry */ }
    }
    this.stats.movedAside.push(to);
    this.problem({ kind: 'movedAside', detail: `${(e as Error).message}; moved to ${to}, starting a new database` });
  }

  private fail(e: unknown): void {
    const msg = `${codeOf(e) ? codeOf(e) + ': ' : ''}${(e as Error).message}`;
    this.stats.writeFailures++;
    this.stats.consecutiveFailures++;
    this.stats.lastError = msg;
    this.stats.lastErrorAt = this.nowS();
    if (this.stats.healthy) {
      this.stats.healthy = false;
      this.problem({ kind: 'failed', detail: msg });
    }
    // A connection on a file that went read-only or away is reopened from scratch next time.
    if (/READONLY|IOERR|CANTOPEN/.test(codeOf(e))) this.closeDb();
  }

  addSample(s: Sample): void {
    this.samples.push(s);
    this.bound();
  }

  addEvent(e: StoredEvent): void {
    this.events.push(e);
    this.bound();
  }

  private bound(): void {
    while (this.samples.length + this.events.length > this.o.maxPending) {
      // Samples go before events: a second of figures is worth less than the record of a fault.
      if (this.samples.length) this.samples.shift();
      else this.events.shift();
      this.stats.dropped++;
    }
    this.stats.pending = this.samples.length + this.events.length;
  }

  /** Writes what is buffered in one transaction. Returns false (and keeps the buffer) on failure. */
  flush(): boolean {
    if (!this.open()) return false;
    const samples = this.samples;
    const events = this.events;
    if (samples.length + events.length === 0 && this.stats.healthy) return true;
    try {
      this.write(samples, events);
    } catch (e) {
      if (isCorrupt(e)) {
        this.moveAside(e);
        if (this.open()) {
          try {
            this.write(samples, events);
          } catch (e2) {
            this.fail(e2);
            return false;
          }
        } else return false;
      } else {
        this.fail(e);
        return false;
      }
    }
    this.samples = [];
    this.events = [];
    this.stats.pending = 0;
    this.stats.flushes++;
    this.stats.samplesWritten += samples.length;
    this.stats.eventsWritten += events.length;
    this.stats.lastFlushAt = this.nowS();
    this.stats.consecutiveFailures = 0;
    if (!this.stats.healthy) {
      this.stats.healthy = true;
      this.problem({ kind: 'recovered', detail: `${samples.length} samples and ${events.length} events written` });
    }
    return true;
  }

  private write(samples: Sample[], events: StoredEvent[]): void {
    const st = this.st!;
    this.db!.transaction(() => {
      let first = Infinity;
      for (const s of samples) {
        st.sample.run(s.t, ...s.values);
        if (s.t < first) first = s.t;
      }
      for (const e of events) st.event.run(e.tNs, e.type, JSON.stringify(e.data));
      // Seconds written late (after an outage of the disk) reopen the rollups that already passed them.
      if (first !== Infinity) {
        const m = Math.floor(first / 60) * 60;
        const h = Math.floor(first / 3600) * 3600;
        st.lowerMeta.run(String(m), 'rollup_1m_until', m);
        st.lowerMeta.run(String(h), 'rollup_1h_until', h);
      }
    })();
  }

  private closeDb(): void {
    try {
      this.db?.close();
    } catch { /* closing a broken connection may itself fail */ }
    this.db = undefined;
    this.st = undefined;
    this.stats.open = false;
  }

  close(): void {
    this.flush();
    this.closeDb();
  }

  /** A value kept in the database's meta table (undefined if absent or the database is unavailable). */
  meta(key: string): string | undefined {
    if (!this.open()) return undefined;
    return this.st!.getMeta.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): boolean {
    if (!this.open()) return false;
    try {
      this.st!.setMeta.run(key, value);
      return true;
    } catch (e) {
      this.fail(e);
      return false;
    }
  }

  get database(): Database.Database | undefined {
    return this.db;
  }

  sizeBytes(): number {
    let total = 0;
    for (const suffix of ['', '-wal']) {
      try {
        total += statSync(this.o.path + suffix).size;
      } catch { /* not there */ }
    }
    return total;
  }

  /** Rolls complete minutes of samples up into rollup_1m, and complete hours of those into rollup_1h.
   * `settleS`: how long after its end a minute counts as complete (samples still in the buffer). */
  rollup(nowS: number, settleS: number): { minutes: number; hours: number } {
    if (!this.open()) return { minutes: 0, hours: 0 };
    const db = this.db!;
    const st = this.st!;
    let minutes = 0;
    let hours = 0;
    db.transaction(() => {
      const endM = Math.floor((nowS - settleS) / 60) * 60;
      const fromM = Number(st.getMeta.get('rollup_1m_until') ?? (db.prepare('SELECT min(t) FROM samples').pluck().get() as number | null) ?? endM);
      const startM = Math.floor(Math.max(fromM, nowS - this.o.retention.samplesDays * DAY) / 60) * 60;
      const rows = db.prepare('SELECT * FROM samples WHERE t >= ? AND t < ? ORDER BY t').all(startM, endM) as Record<string, number | null>[];
      const byMinute = new Map<number, Record<string, number | null>[]>();
      for (const r of rows) {
        const m = Math.floor(r.t! / 60) * 60;
        const list = byMinute.get(m) ?? [];
        list.push(r);
        byMinute.set(m, list);
      }
      for (const [m, list] of byMinute) {
        for (const metric of SAMPLE_METRICS) {
          const s = summarize(list.map((r) => r[metric.name]).filter((v): v is number => v !== null && v !== undefined));
          if (s) st.rollup1m.run(metric.id, m, s.n, s.min, s.max, s.mean, s.sd);
        }
        minutes++;
      }
      st.setMeta.run('rollup_1m_until', String(Math.max(endM, fromM)));

      const endH = Math.floor(endM / 3600) * 3600;
      const fromH = Number(st.getMeta.get('rollup_1h_until') ?? Math.floor(startM / 3600) * 3600);
      const mins = db.prepare('SELECT metric, t, n, min, max, mean, sd FROM rollup_1m WHERE t >= ? AND t < ? ORDER BY t').all(fromH, endH) as (Summary & { metric: number; t: number })[];
      const byHour = new Map<string, Summary[]>();
      for (const r of mins) {
        const k = `${r.metric}:${Math.floor(r.t / 3600) * 3600}`;
        const list = byHour.get(k) ?? [];
        list.push(r);
        byHour.set(k, list);
      }
      const seen = new Set<number>();
      for (const [k, list] of byHour) {
        const [metric, h] = k.split(':').map(Number) as [number, number];
        const s = combine(list)!;
        st.rollup1h.run(metric, h, s.n, s.min, s.max, s.mean, s.sd);
        seen.add(h);
      }
      hours = seen.size;
      st.setMeta.run('rollup_1h_until', String(Math.max(endH, fromH)));
    })();
    return { minutes, hours };
  }

  /** Deletes what is past its retention. Returns the rows deleted per table. */
  prune(nowS: number): Record<string, number> {
    if (!this.open()) return {};
    const r = this.o.retention;
    const db = this.db!;
    const out: Record<string, number> = {};
    db.transaction(() => {
      out.samples = db.prepare('DELETE FROM samples WHERE t < ?').run(nowS - r.samplesDays * DAY).changes;
      out.rollup_1m = db.prepare('DELETE FROM rollup_1m WHERE t < ?').run(nowS - r.minuteDays * DAY).changes;
      out.rollup_1h = db.prepare('DELETE FROM rollup_1h WHERE t < ?').run(nowS - r.hourDays * DAY).changes;
      out.events = db.prepare('DELETE FROM events WHERE t_ns < ?').run(BigInt(nowS - r.eventsDays * DAY) * 1_000_000_000n).changes;
    })();
    return out;
  }

  /** Returns up to `pages` free pages to the filesystem; then a checkpoint truncates the WAL. */
  vacuum(pages: number): { freed: number } {
    if (!this.open()) return { freed: 0 };
    const db = this.db!;
    const before = db.pragma('freelist_count', { simple: true }) as number;
    db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { freed: before - (db.pragma('freelist_count', { simple: true }) as number) };
  }

  /** The history of one metric between two Unix seconds, in buckets of `everyS` (query.ts). */
  history(metric: string, fromS: number, toS: number, everyS: number): HistoryResult {
    if (!this.open()) throw new Error(`the history database cannot be opened: ${this.stats.lastError}`);
    return queryHistory(this.db!, metric, fromS, toS, everyS);
  }

  /** Events between two times (nanoseconds), oldest first (query.ts). */
  eventsBetween(fromNs: bigint, toNs: bigint, limit = 10_000): StoredEvent[] {
    if (!this.open()) throw new Error(`the history database cannot be opened: ${this.stats.lastError}`);
    return queryEvents(this.db!, fromNs, toNs, limit);
  }
}
