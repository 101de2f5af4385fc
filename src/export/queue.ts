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

  /** Appends points in order, then enforces the bounds. Returns how many were dropped. */
  push(points: Point[], nowNs: bigint): number {
    const ins = this.db.prepare('INSERT INTO queue (t_ns, point) VALUES (?, ?)');
    let dropped = 0;
    this.db.transaction(() => {
      for (const p of points) ins.run(BigInt(p.timestamp), JSON.stringify(p));
      this.count += points.length;
      const cutoff = nowNs - BigInt(Math.round(this.o.maxAgeS * 1e9));
      dropped += this.db.prepare('DELETE FROM queue WHERE t_ns < ?').run(cutoff).changes;
      const over = this.count - dropped - this.o.maxPoints;
      if (over > 0) dropped += this.db.prepare('DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT ?)').run(over).changes;
    })();
    this.count -= dropped;
    this.dropped += dropped;
    return dropped;
  }

  /** The oldest points, up to `n`, with the id of the last one (to remove them once written). */
  peek(n: number): { points: Point[]; lastId: number } {
    const rows = this.db.prepare('SELECT id, point FROM queue ORDER BY id LIMIT ?').all(n) as { id: number; point: string }[];
    return { points: rows.map((r) => JSON.parse(r.point) as Point), lastId: rows.at(-1)?.id ?? 0 };
  }

  remove(lastId: number): void {
    const n = this.db.prepare('DELETE FROM queue WHERE id <= ?').run(lastId).changes;
    this.count -= n;
  }

  close(): void {
    this.db.close();
  }
}
