/**
 * Scheduled upkeep of the history store, on cron schedules (node-cron): rollups, pruning, incremental
 * vacuum, a daily integrity check and a daily online backup with the newest N kept. Each job's last run,
 * result and duration are kept for Status. The integrity check and the backup run in a worker thread
 * (worker.js) so the event loop, and the time it serves, never waits on them.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { Worker } from 'node:worker_threads';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryStore } from './store.ts';

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

/** Runs a job of worker.js against the database file. */
export function runInWorker(job: 'integrity' | 'backup', path: string, dest?: string): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: { job, path, dest } });
    let answered = false;
    w.once('message', (m: { ok: boolean; detail: string }) => {
      answered = true;
      resolve(m);
    });
    w.once('error', (e) => {
      answered = true;
      resolve({ ok: false, detail: e.message });
    });
    w.once('exit', (code) => {
      if (!answered) resolve({ ok: false, detail: `worker exited with code ${code}` });
    });
  });
}

export class Upkeep {
  readonly jobs: Record<JobName, JobStatus>;
  private tasks: ScheduledTask[] = [];

  constructor(private readonly store: HistoryStore, private readonly o: UpkeepOptions, private readonly nowS: () => number,
    private readonly onResult: (job: JobName, s: JobStatus) => void = () => {}) {
    this.jobs = Object.fromEntries(JOB_NAMES.map((j) => [j, {
      schedule: o.schedules[j], runs: 0, lastRunS: null, ok: null, detail: '', durationMs: null,
    }])) as Record<JobName, JobStatus>;
  }

  start(): void {
    for (const j of JOB_NAMES) {
      if (!this.o.schedules[j]) continue;
      this.tasks.push(cron.schedule(this.o.schedules[j], () => this.run(j), { name: `store-${j}`, noOverlap: true, unref: true }));
    }
  }

  stop(): void {
    for (const t of this.tasks) void t.destroy();
    this.tasks = [];
  }

  /** Runs one job now; never throws (a failure is the job's result). */
  async run(job: JobName): Promise<JobStatus> {
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
          const r = await runInWorker('integrity', this.store.o.path);
          ok = r.ok;
          detail = r.detail;
          break;
        }
        case 'backup': {
          const r = await this.backup(now);
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
    this.onResult(job, s);
    return s;
  }

  private async backup(now: number): Promise<{ ok: boolean; detail: string }> {
    mkdirSync(this.o.backupDir, { recursive: true });
    const stamp = new Date(now * 1000).toISOString().replace(/[-:]/g, '').slice(0, 15);
    const dest = join(this.o.backupDir, `history-${stamp}.db`);
    this.store.flush();
    const r = await runInWorker('backup', this.store.o.path, dest);
    if (!r.ok) {
      rmSync(dest, { force: true });
      return r;
    }
    // Keep the newest N (the names sort by time).
    const all = readdirSync(this.o.backupDir).filter((f) => /^history-\d{8}T\d{6}\.db$/.test(f)).sort();
    const removed = all.slice(0, Math.max(0, all.length - this.o.backupsKept));
    for (const f of removed) rmSync(join(this.o.backupDir, f), { force: true });
    return { ok: true, detail: `${r.detail}${removed.length ? `; removed ${removed.length} old` : ''}` };
  }
}
