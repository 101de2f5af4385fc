/**
 * The InfluxDB exporter (the `influx` package, the 1.x write API that InfluxDB 2.x and 3.x also accept
 * through their compatibility endpoint). Every `influx.interval_s` a set of points from Status, and a
 * point per alarm event, go to an in-memory FIFO that one sender drains in batches, in order. When a
 * write fails, what was not written goes to the durable queue (queue.ts) and so does everything after
 * it until a write succeeds again; the queue is then replayed oldest first. Nothing here ever waits on
 * InfluxDB from the event loop's point of view: writes are asynchronous and the queue is bounded.
 * A point's timestamp is fixed when it is made, so a batch sent twice (a timeout after InfluxDB had in
 * fact written it) overwrites itself there rather than doubling.
 */
import { InfluxDB, type IPoint, type IPoolOptions } from 'influx';
import type { Clock, Timer } from '../time/index.ts';
import type { Status, InfluxStats } from '../status/status.ts';
import type { AgentEvent } from '../status/events.ts';
import { pointsFrom, alarmPoint, type Point } from './influx-points.ts';
import { PointQueue } from './queue.ts';

export interface InfluxOptions {
  url: string;
  database: string;
  retentionPolicy: string;
  username: string;
  password: string;
  createDatabase: boolean;
  intervalS: number;
  batchPoints: number;
  timeoutMs: number;
  tags: Record<string, string>;
  queue: { path: string; maxPoints: number; maxAgeS: number };
}

// The exporter's state is Status's type (status/ imports nothing from the rooms that read it).
export type { InfluxStats };
export { INFLUX_DISABLED } from '../status/status.ts';

const statusOf = (e: unknown): number | undefined => (e as { res?: { statusCode?: number } }).res?.statusCode;

/**
 * The exporter keeps its own backoff (1 s to 30 s, a timer of the agent's clock that stop cancels).
 * The client library's pool has one too, of up to 10 s: after a failed request it takes the host out
 * of service behind a plain setTimeout nothing can cancel. That timer kept a stopped agent's process
 * alive for up to 10 s after SIGTERM while InfluxDB was down, and until it fired every retry failed
 * with "No host available" without trying. A zero delay leaves the host in service.
 */
type Backoff = NonNullable<IPoolOptions['backoff']>;
const NO_BACKOFF: Backoff = { getDelay: () => 0, next: () => NO_BACKOFF, reset: () => NO_BACKOFF };

export class InfluxExporter {
  private client: InfluxDB;
  private queue: PointQueue;
  private memory: Point[] = [];
  /** The durable queue's disk refused the last spill. */
  private diskRefused = false;
  private sending = false;
  private down = false;
  private dbCreated = false;
  private backoffMs = 1000;
  private retry: Timer | undefined;
  private ticker: Timer | undefined;
  private stopped = false;
  private lastDropAt: bigint | undefined;
  readonly stats = { written: 0, batches: 0, failures: 0, rejected: 0, lastError: null as string | null, lastWriteAt: null as bigint | null };

  constructor(private readonly o: InfluxOptions, private readonly clock: Clock, private readonly status: () => Status,
    private readonly log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void) {
    const u = new URL(o.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`influx.url must be http:// or https://, not ${u.protocol}`);
    this.client = new InfluxDB({
      host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), protocol: u.protocol === 'https:' ? 'https' : 'http',
      path: u.pathname === '/' ? '' : u.pathname.replace(/\/$/, ''),
      database: o.database, username: o.username || undefined, password: o.password || undefined,
      pool: { maxRetries: 0, requestTimeout: o.timeoutMs, backoff: NO_BACKOFF },
    });
    this.queue = new PointQueue(o.queue);
  }

  start(): void {
    this.ticker = this.clock.setInterval(() => this.tick(), this.o.intervalS * 1000);
    if (this.queue.notDurable) this.log('warn', 'InfluxDB: the outage queue is kept in memory (lost on a restart): its file cannot be opened', { file: this.o.queue.path, problem: this.queue.notDurable });
    if (this.queue.size > 0) this.log('info', 'InfluxDB: points queued before a restart will be replayed', { points: this.queue.size });
    this.pump();
  }

  /** One sample interval: the points of Status now. */
  tick(st: Status = this.status()): void {
    this.submit(pointsFrom(st, this.clock.now(), this.o.tags));
  }

  onEvent(e: AgentEvent): void {
    const p = alarmPoint(e, this.o.tags);
    if (p) this.submit([p]);
  }

  private submit(points: Point[]): void {
    if (this.stopped || points.length === 0) return;
    this.memory.push(...points);
    if (this.down) this.spill();
    else this.pump();
  }

  /**
   * Moves what waits in memory to the durable queue (behind what is there: order is kept). When the
   * disk refuses them too (full), they stay in memory, bounded like the queue: the oldest beyond the
   * bound are dropped, counted, and raise export_loss. Never throws: this runs in the failure path,
   * and an exception here once left the exporter without its retry for good.
   */
  private spill(): void {
    if (this.memory.length === 0) return;
    const r = this.queue.push(this.memory, this.clock.now());
    if ('error' in r) {
      if (!this.diskRefused) this.log('warn', 'InfluxDB queue: the disk refuses points, holding them in memory', { error: r.error.slice(0, 200), held: this.memory.length });
      this.diskRefused = true;
      // One bound for both: what is on disk and what waits in memory together.
      const over = this.memory.length + this.queue.size - this.o.queue.maxPoints;
      if (over > 0) this.dropped(this.memory.splice(0, Math.min(over, this.memory.length)).length, 'InfluxDB and the disk both refuse points: oldest in memory dropped');
      return;
    }
    this.memory = [];
    this.diskRefused = false;
    if (r.dropped > 0) this.dropped(0, 'InfluxDB queue full: oldest points dropped', r.dropped);
  }

  private dropped(outside: number, msg: string, inQueue = 0): void {
    if (outside > 0) this.queue.countDropped(outside);
    this.lastDropAt = this.clock.now();
    this.log('warn', msg, { dropped: outside + inQueue, total: this.queue.dropped });
  }

  private inFlight: Promise<void> = Promise.resolve();

  private pump(): void {
    if (this.sending || this.stopped) return;
    this.sending = true;
    this.inFlight = this.drain().finally(() => {
      this.sending = false;
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      if (this.o.createDatabase && !this.dbCreated) {
        try {
          await this.client.createDatabase(this.o.database);
          this.dbCreated = true;
        } catch (e) {
          if (!this.stopped) this.failed(e);
          return;
        }
      }
      const fromQueue = this.queue.size > 0 ? this.queue.peek(this.o.batchPoints) : undefined;
      const batch = fromQueue ? fromQueue.points : this.memory.splice(0, this.o.batchPoints);
      if (batch.length === 0) return;
      try {
        await this.client.writePoints(batch as IPoint[], { precision: 'n', database: this.o.database, retentionPolicy: this.o.retentionPolicy || undefined });
      } catch (e) {
        const code = statusOf(e);
        if (code === 400) {
          // InfluxDB refused these points as malformed (a field type conflict, say): they never will
          // be accepted, so they are counted and logged, not retried forever.
          this.stats.rejected += batch.length;
          this.log('warn', 'InfluxDB rejected points', { points: batch.length, error: (e as Error).message.slice(0, 300) });
          if (fromQueue && !this.queue.remove(fromQueue.lastId)) return;
          continue;
        }
        if (!fromQueue) this.memory.unshift(...batch);
        if (!this.stopped) this.failed(e);
        return;
      }
      if (fromQueue && !this.queue.remove(fromQueue.lastId)) {
        // Written, but the disk will not let them go: stop here rather than send them over and over.
        this.stats.written += batch.length;
        if (!this.stopped) this.failed(new Error('the queue cannot forget written points (disk full)'));
        return;
      }
      this.stats.written += batch.length;
      this.stats.batches++;
      this.stats.lastWriteAt = this.clock.now();
      if (this.down) {
        this.down = false;
        this.log('info', 'InfluxDB writes resumed', { queued: this.queue.size });
      }
      this.backoffMs = 1000;
    }
  }

  private failed(e: unknown): void {
    this.stats.failures++;
    const msg = `${statusOf(e) ? `HTTP ${statusOf(e)}: ` : ''}${(e as Error).message}`.slice(0, 300);
    this.stats.lastError = msg;
    if (!this.down) this.log('warn', 'InfluxDB write failed: queueing points until it comes back', { error: msg });
    this.down = true;
    // The retry first: whatever happens to the points below, the exporter tries again.
    this.retry?.cancel();
    this.retry = this.clock.setTimeout(() => {
      this.retry = undefined;
      this.pump();
    }, this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    this.spill();
  }

  snapshot(toIso: (t: bigint) => string): InfluxStats {
    return {
      enabled: true, url: this.o.url, connected: !this.down && this.stats.batches > 0, written: this.stats.written, batches: this.stats.batches,
      failures: this.stats.failures, rejected: this.stats.rejected, queued: this.queue.size + this.memory.length, dropped: this.queue.dropped,
      lastDropAt: this.lastDropAt === undefined ? null : toIso(this.lastDropAt),
      droppingRecently: this.lastDropAt !== undefined && this.clock.now() - this.lastDropAt < 600_000_000_000n, lastError: this.stats.lastError,
      lastWriteAt: this.stats.lastWriteAt === null ? null : toIso(this.stats.lastWriteAt),
    };
  }

  /** Stops after the write in flight (if any); what has not been written is kept in the durable
   * queue for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ticker?.cancel();
    this.retry?.cancel();
    // A write in flight ends by its own timeout (influx.timeout_ms); shutdown waits no longer than that.
    await Promise.race([this.inFlight, new Promise((r) => setTimeout(r, Math.min(this.o.timeoutMs, 5000)).unref())]);
    if (this.memory.length) {
      const r = this.queue.push(this.memory.splice(0), this.clock.now());
      if ('error' in r) this.log('warn', 'InfluxDB: points in memory lost at stop (the disk refuses them)', { error: r.error.slice(0, 200) });
    }
    this.queue.close();
  }
}
