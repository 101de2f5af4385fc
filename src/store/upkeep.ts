/**
 * Scheduled upkeep of the history store: rollups, pruning, incremental vacuum, a daily integrity check
 * and a daily online backup with the newest N kept. Each job's last run, result and duration are kept
 * for Status. The integrity check and the backup run in a worker thread (worker.js) so the event loop,
 * and the time it serves, never waits on them.
 *
 * The schedules are cron expressions run on the agent's Clock (schedule.ts), not on the host's timers:
 * on virtual time they fire at their virtual moments and never on the host's. A job whose previous run
 * (a worker job) has not finished when it comes due again skips that turn. stop() cancels the timers
 * and ends a worker job under way, so nothing is left reading or writing after the store closes.
 */
import { Worker } from 'node:worker_threads';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Timer } from '../time/index.ts';
import type { HistoryStore } from './store.ts';
import { onCron, parseCron, type CronSchedule } from './schedule.ts';

export type JobName = 'rollup' | 'prune' | 'vacuum' | 'integrity' | 'backup';
export const JOB_NAMES: readonly JobName[] = ['rollup', 'prune', 'vacuum', 'integrity', 'backup'];

export interface JobStatus {
  schedule: string;
  runs: number;
  lastRunS: number | null;
  ok: boolean | null;
  detail: string;
  durationMs: number | null;
}

export interface UpkeepOptions {
  schedules: Record<JobName, string>;
  backupDir: string;
  backupsKept: number;
  vacuumPages: number;
  /** Seconds after a minute ends before it is rolled up (the flush interval and a margin). */
  settleS: number;
}

/** Runs a job of worker.js against the database file. The answer comes once the thread has exited,
 * so its connection is closed by then: a reader still open when the agent's own connection closes
 * would keep the WAL from being checkpointed into the file. Aborting `signal` terminates the worker. */
export function runInWorker(job: 'integrity' | 'backup', path: string, dest?: string, signal?: AbortSignal): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve({ ok: false, detail: 'stopped before it started' });
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { job, path, dest } });
    let answer: { ok: boolean; detail: string } | null = null;
    const abort = () => void w.terminate();
    signal?.addEventListener('abort', abort, { once: true });
    w.once('message', (m: { ok: boolean; detail: string }) => {
      answer ??= m;
    });
    w.once('error', (e) => {
      answer ??= { ok: false, detail: e.message };
    });
    w.once('exit', (code) => {
      signal?.removeEventListener('abort', abort);
      resolve(answer ?? { ok: false, detail: signal?.aborted ? 'stopped before it finished' : `worker exited with code ${code}` });
    });
  });
}

export class Upkeep {
  readonly jobs: Record<JobName, JobStatus>;
  /** The parsed schedules; a job with an empty one never runs on its own. */
  private readonly schedules: Partial<Record<JobName, CronSchedule>> = {};
  private timers: Timer[] = [];
  /** Runs under way per job (scheduled or asked for), so that a job does not overlap itself. Kept
   * synchronously, not by a promise's callback: on virtual time, one advance of the clock may bring a
   * job due twice with no turn of the event loop between. */
  private readonly busy = new Map<JobName, number>();
  /** Runs under way, for stop() to wait on. */
  private readonly running = new Set<Promise<JobStatus>>();
  /** Aborted by stop(): ends the worker jobs under way. */
  private abort = new AbortController();

  /** The schedules are parsed here: a bad expression throws now, not at the first run. */
  constructor(private readonly store: HistoryStore, private readonly o: UpkeepOptions, private readonly clock: Clock,
    private readonly onResult: (job: JobName, s: JobStatus) => void = () => {}) {
    this.jobs = Object.fromEntries(JOB_NAMES.map((j) => [j, {
      schedule: o.schedules[j], runs: 0, lastRunS: null, ok: null, detail: '', durationMs: null,
    }])) as Record<JobName, JobStatus>;
    for (const j of JOB_NAMES) if (o.schedules[j]) this.schedules[j] = parseCron(o.schedules[j]);
  }

  private nowS(): number {
    return Math.floor(Number(this.clock.now() / 1_000_000_000n));
  }

  /** Arms each scheduled job on the clock. */
  start(): void {
    if (this.timers.length) return;
    for (const j of JOB_NAMES) {
      const schedule = this.schedules[j];
      if (!schedule) continue;
      this.timers.push(onCron(this.clock, schedule, () => {
        if (!this.busy.get(j)) void this.run(j);
      }));
    }
  }

  /** Cancels the schedules and ends the worker jobs under way (they report 'stopped before it
   * finished', and a partial backup is deleted); resolves once every run under way has ended. The
   * jobs that run on the event loop are never under way when this is called. */
  stop(): Promise<void> {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.abort.abort();
    this.abort = new AbortController();
    return Promise.allSettled(this.running).then(() => {});
  }

  /** Runs one job now; never throws (a failure is the job's result). */
  run(job: JobName): Promise<JobStatus> {
    const p = this.runOnce(job, this.abort.signal);
    this.running.add(p);
    const forget = () => void this.running.delete(p);
    void p.then(forget, forget);
    return p;
  }

  private async runOnce(job: JobName, signal: AbortSignal): Promise<JobStatus> {
    this.busy.set(job, (this.busy.get(job) ?? 0) + 1);
    const s = this.jobs[job];
    const t0 = performance.now();
    const now = this.nowS();
    let ok = true;
    let detail: string;
    try {
      switch (job) {
        case 'rollup': {
          const r = this.store.rollup(now, this.o.settleS);
          detail = `${r.minutes} minutes, ${r.hours} hours`;
          break;
        }
        case 'prune': {
          const r = this.store.prune(now);
          detail = Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') || 'database not open';
          break;
        }
        case 'vacuum':
          detail = `${this.store.vacuum(this.o.vacuumPages).freed} pages freed`;
          break;
        case 'integrity': {
          this.store.flush();
          const r = await runInWorker('integrity', this.store.o.path, undefined, signal);
          ok = r.ok;
          detail = r.detail;
          break;
        }
        case 'backup': {
          const r = await this.backup(now, signal);
          ok = r.ok;
          detail = r.detail;
          break;
        }
      }
    } catch (e) {
      ok = false;
      detail = `${(e as { code?: string }).code ? (e as { code?: string }).code + ': ' : ''}${(e as Error).message}`;
    }
    Object.assign(s, { runs: s.runs + 1, lastRunS: now, ok, detail, durationMs: Math.round((performance.now() - t0) * 10) / 10 });
    // Here, not in a callback on the promise: a job on the event loop is over before run() returns.
    this.busy.set(job, this.busy.get(job)! - 1);
    this.onResult(job, s);
    return s;
  }

  private async backup(now: number, signal: AbortSignal): Promise<{ ok: boolean; detail: string }> {
    // The backups, like the history, are the agent's group's to read (0750, 0640), whatever the umask
    // (the unit's 0077 would make them the agent's alone).
    if (!existsSync(this.o.backupDir)) {
      mkdirSync(this.o.backupDir, { recursive: true, mode: 0o750 });
      chmodSync(this.o.backupDir, 0o750);
    }
    const stamp = new Date(now * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const dest = join(this.o.backupDir, `history-${stamp}.db`);
    this.store.flush();
    const r = await runInWorker('backup', this.store.o.path, dest, signal);
    if (!r.ok) {
      rmSync(dest, { force: true });
      return r;
    }
    chmodSync(dest, 0o640);
    // Keep the newest N (the names sort by time).
    const all = readdirSync(this.o.backupDir).filter((f) => /^history-\d{8}T\d{6}\.db$/.test(f)).sort();
    const removed = all.slice(0, Math.max(0, all.length - this.o.backupsKept));
    for (const f of removed) rmSync(join(this.o.backupDir, f), { force: true });
    return { ok: true, detail: `${r.detail}${removed.length ? `; removed ${removed.length} old` : ''}` };
  }
}
