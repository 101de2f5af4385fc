/**
 * A real chronyd (test/helpers/chronyd.ts: private directory, always `-x`) with a SOCK refclock and
 * its refclocks log.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chronyd } from './chronyd.ts';

export interface SockChronyd {
  dir: string;
  /** Where chronyd reads samples (export.chrony_sock). */
  sockPath: string;
  proc: ChildProcess | undefined;
  start(): Promise<void>;
  /** Ends chronyd by its PID and waits for it to exit. */
  stop(): Promise<void>;
  chronyc(...args: string[]): string;
  /** The GPS row of `chronyc -c sources` and `chronyc -c sourcestats` (CSV, seconds). */
  source(): SourceRow | undefined;
  stats(): StatsRow | undefined;
  /** Each raw sample chronyd took (refclocks.log): its time (UTC text, to the microsecond) and raw
   * offset (true minus system, s). */
  samples(): { time: string; rawOffsetS: number }[];
  output(): string;
}

export interface SourceRow { mode: string; state: string; reach: number; lastRxS: number; offsetS: number; measuredOffsetS: number; errorS: number }
export interface StatsRow { samples: number; runs: number; spanS: number; freqPpm: number; skewPpm: number; offsetS: number; stdDevS: number }

/** chronyd's config for a SOCK refclock at dir/chrony.sock: poll 2 (4 s) with the default median
 * filter, which wants four samples a poll, our one a second. */
export function sockChronyd(dir: string, poll = 2): SockChronyd {
  const sockPath = join(dir, 'chrony.sock');
  const d = chronyd('chronyd', dir, [`refclock SOCK ${sockPath} refid GPS poll ${poll} precision 1e-7`, 'port 0', `logdir ${dir}`, 'log refclocks'], { waitFor: sockPath });
  const c: SockChronyd = {
    dir, sockPath,
    get proc() { return d.proc; },
    start: () => d.start(),
    stop: () => d.stop(),
    chronyc: (...args) => d.chronyc(...args),
    source() {
      // -c sources: mode, state, name, stratum, poll, reach (octal), last rx, offset, measured offset, error
      const row = c.chronyc('-c', 'sources').split('\n').map((l) => l.split(',')).find((f) => f[2] === 'GPS');
      if (!row) return undefined;
      return {
        mode: row[0]!, state: row[1]!, reach: parseInt(row[5]!, 8), lastRxS: Number(row[6]),
        offsetS: Number(row[7]), measuredOffsetS: Number(row[8]), errorS: Number(row[9]),
      };
    },
    stats() {
      // -c sourcestats: name, np, nr, span, frequency, freq skew, offset, std dev
      const row = c.chronyc('-c', 'sourcestats').split('\n').map((l) => l.split(',')).find((f) => f[0] === 'GPS');
      if (!row) return undefined;
      return {
        samples: Number(row[1]), runs: Number(row[2]), spanS: Number(row[3]), freqPpm: Number(row[4]), skewPpm: Number(row[5]),
        offsetS: Number(row[6]), stdDevS: Number(row[7]),
      };
    },
    samples() {
      const f = join(dir, 'refclocks.log');
      if (!existsSync(f)) return [];
      const rows: { time: string; rawOffsetS: number }[] = [];
      for (const line of readFileSync(f, 'utf8').split('\n')) {
        // Date Time Refid DP L P RawOffset CookedOffset Disp.; filtered rows have '-' for the raw offset
        const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) GPS\s+\d+ \S \d+\s+(\S+)/.exec(line);
        if (m) rows.push({ time: m[1]!, rawOffsetS: Number(m[2]) });
      }
      return rows;
    },
    output: () => d.output(),
  };
  return c;
}
