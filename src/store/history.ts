/**
 * The history as the running agent keeps it: one sample of Status a second and every event go to the
 * store's buffer, written every flush interval; the upkeep jobs run on their schedules, on the same
 * clock; the store's failures and recoveries become events. Its state is a part of Status.
 */
import { resolve } from 'node:path';
import { configFingerprint, fingerprintKey, type Config } from '../config/config.ts';
import type { Clock, Timer } from '../time/index.ts';
import { toIso } from '../time/index.ts';
import type { AgentEvent, EventBus } from '../status/events.ts';
import type { Status, StoreStatus } from '../status/status.ts';
import { HistoryStore, type StoreProblem } from './store.ts';
import { Upkeep, type JobName } from './upkeep.ts';
import { sampleFrom } from './metrics.ts';

export function storeOptions(cfg: Config) {
  const s = cfg.store;
  return {
    path: resolve(cfg.agent.state_dir, s.file), busyTimeoutMs: s.busy_timeout_ms, maxPending: s.max_pending,
    retention: { samplesDays: s.retention.samples_days, minuteDays: s.retention.minute_days, hourDays: s.retention.hour_days, eventsDays: s.retention.events_days },
  };
}

export class History {
  readonly store: HistoryStore;
  readonly upkeep: Upkeep;
  private flushTimer: Timer | undefined;

  constructor(private readonly cfg: Config, private readonly clock: Clock, private readonly bus: EventBus,
    private readonly log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void) {
    const s = cfg.store;
    const nowS = () => Math.floor(Number(clock.now() / 1_000_000_000n));
    this.store = new HistoryStore(storeOptions(cfg), nowS, (p) => this.onProblem(p));
    this.upkeep = new Upkeep(this.store, {
      schedules: s.schedules, backupDir: resolve(cfg.agent.state_dir, s.backup_dir), backupsKept: s.backups_kept,
      vacuumPages: s.vacuum_pages, settleS: s.flush_interval_s + 2,
    }, clock, (job, r) => this.onJob(job, r.ok, r.detail));
    bus.onAny((e) => this.record(e));
  }

  private onProblem(p: StoreProblem): void {
    const at = this.clock.now();
    if (p.kind === 'failed') this.bus.emit({ type: 'storeFailed', at, problem: p.detail });
    else if (p.kind === 'recovered') this.bus.emit({ type: 'storeRecovered', at, detail: p.detail });
    else {
      this.log('error', 'history database damaged: moved aside, a new one started', { detail: p.detail });
      this.bus.emit({ type: 'storeMovedAside', at, detail: p.detail });
    }
  }

  private onJob(job: JobName, ok: boolean | null, detail: string): void {
    if (ok) this.log('debug', `store ${job}`, { detail });
    else this.log('warn', `store ${job} failed`, { detail });
  }

  private record(e: AgentEvent): void {
    const { type, at, ...rest } = e;
    const data: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) data[k] = typeof v === 'bigint' ? toIso(v, 6) : v;
    this.store.addEvent({ tNs: at, type, data });
  }

  start(): void {
    this.store.open();
    this.noteConfig();
    this.flushTimer = this.clock.setInterval(() => this.store.flush(), this.cfg.store.flush_interval_s * 1000);
    this.upkeep.start();
  }

  /** Compares the configuration with the one the last run recorded; a difference is a configChanged
   * event naming the options (secrets only by name). */
  private noteConfig(): void {
    const now = configFingerprint(this.cfg, fingerprintKey(this.cfg.agent.state_dir));
    const before = this.store.meta('config');
    if (before !== undefined) {
      let old: Record<string, string> = {};
      try {
        old = JSON.parse(before) as Record<string, string>;
      } catch { /* unreadable: everything counts as changed */ }
      const keys = [...new Set([...Object.keys(old), ...Object.keys(now)])].filter((k) => old[k] !== now[k]).sort();
      if (keys.length) this.bus.emit({ type: 'configChanged', at: this.clock.now(), changed: keys.slice(0, 20), more: Math.max(0, keys.length - 20) });
    }
    this.store.setMeta('config', JSON.stringify(now));
  }

  /** Records one second of Status (the service calls this once a second). */
  sample(st: Status): void {
    this.store.addSample(sampleFrom(Math.floor(Number(this.clock.now() / 1_000_000_000n)), st));
  }

  stop(): void {
    this.flushTimer?.cancel();
    // Cancels the schedules and terminates a worker job under way; the worker's connection is
    // read-only, so nothing writes the database once the store below has closed it.
    void this.upkeep.stop();
    this.store.close();
  }

  snapshot(): StoreStatus {
    const s = this.store.stats;
    const iso = (t: number | null) => (t === null ? null : new Date(t * 1000).toISOString());
    return {
      enabled: true, path: this.store.o.path, open: s.open, healthy: s.healthy, lastError: s.lastError, lastErrorAt: iso(s.lastErrorAt),
      lastFlushAt: iso(s.lastFlushAt), flushes: s.flushes, samplesWritten: s.samplesWritten, eventsWritten: s.eventsWritten,
      pending: s.pending, dropped: s.dropped, writeFailures: s.writeFailures, consecutiveFailures: s.consecutiveFailures,
      movedAside: [...s.movedAside], sizeBytes: this.store.sizeBytes(),
      jobs: Object.fromEntries(Object.entries(this.upkeep.jobs).map(([k, j]) => [k, {
        schedule: j.schedule, runs: j.runs, lastRun: iso(j.lastRunS), ok: j.ok, detail: j.detail, durationMs: j.durationMs,
      }])),
    };
  }
}
