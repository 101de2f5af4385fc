/**
 * The durable queue of points that could not be written (SQLite, WAL, synchronous=FULL): kept in order,
 * bounded by a number of points and an age; what the bound forces out is counted. Points reach it only
 * while the database is down or refusing writes, so in normal running it costs the card nothing.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Point } from './influx-points.ts';

export interface QueueOptions {
  path: string;
  maxPoints: number;
  maxAgeS: number;
}

const CREATE = 'CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY AUTOINCREMENT, t_ns INTEGER NOT NULL, point TEXT NOT NULL)';

export class PointQueue {
  private db: Database.Database;
  private count: number;
  dropped = 0;
  /** Why the queue lives in memory instead of on disk (undefined: on disk, as configured). */
  readonly notDurable: string | undefined;

  constructor(private readonly o: QueueOptions) {
    let db: Database.Database | undefined;
    let problem: string | undefined;
    try {
      mkdirSync(dirname(o.path), { recursive: true });
      db = new Database(o.path, { timeout: 50 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(CREATE);
    } catch (e) {
      // A read-only or missing state directory must not stop the export, let alone the agent: the
      // queue is kept in memory (same bounds), and lost on a restart.
      problem = (e as Error).message;
      db?.close();
      db = new Database(':memory:');
      db.exec(CREATE);
    }
    this.db = db;
    this.notDurable = problem;
    this.count = this.db.prepare('SELECT count(*) FROM queue').pluck().get() as number;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Appends points in order, then enforces the bounds. Returns how many were dropped, or the error
   * when the disk refused them (full, read-only, I/O error): nothing of this call is then in the
   * queue (the transaction rolled back) and the count still says what is on disk.
   */
  push(points: Point[], nowNs: bigint): { dropped: number } | { error: string } {
    const ins = this.db.prepare('INSERT INTO queue (t_ns, point) VALUES (?, ?)');
    let dropped = 0;
    try {
      this.db.transaction(() => {
        for (const p of points) ins.run(BigInt(p.timestamp), JSON.stringify(p));
        const cutoff = nowNs - BigInt(Math.round(this.o.maxAgeS * 1e9));
        dropped += this.db.prepare('DELETE FROM queue WHERE t_ns < ?').run(cutoff).changes;
        const over = this.count + points.length - dropped - this.o.maxPoints;
        if (over > 0) dropped += this.db.prepare('DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT ?)').run(over).changes;
      })();
    } catch (e) {
      return { error: (e as Error).message };
    }
    this.count += points.length - dropped;
    this.dropped += dropped;
    return { dropped };
  }

  /** Points dropped outside the file (held in memory while the disk refused them, beyond the bound). */
  countDropped(n: number): void {
    this.dropped += n;
  }

  /** The oldest points, up to `n`, with the id of the last one (to remove them once written). */
  peek(n: number): { points: Point[]; lastId: number } {
    const rows = this.db.prepare('SELECT id, point FROM queue ORDER BY id LIMIT ?').all(n) as { id: number; point: string }[];
    return { points: rows.map((r) => JSON.parse(r.point) as Point), lastId: rows.at(-1)?.id ?? 0 };
  }

  /** Forgets the points up to `lastId` once written. A disk that refuses even this (full) leaves them
   * to be sent again: InfluxDB overwrites a point with the same timestamp, so nothing doubles. */
  remove(lastId: number): boolean {
    try {
      const n = this.db.prepare('DELETE FROM queue WHERE id <= ?').run(lastId).changes;
      this.count -= n;
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    try {
      this.db.close();
    } catch { /* closing a database on a failed disk: nothing more to save */ }
  }
}
