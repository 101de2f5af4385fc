/**
 * A real chronyd with a SOCK refclock, in a private directory: its own config, command socket, pid
 * file, drift file and refclocks log. Always `-x`: it never steers this machine's clock (it keeps its
 * corrections to itself). Queried with chronyc over its command socket; ended by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

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
  chmodSync(dir, 0o700); // chronyd refuses a command socket in a directory others can enter
  const sockPath = join(dir, 'chrony.sock');
  const cmdSock = join(dir, 'chronyd.sock');
  const conf = join(dir, 'chrony.conf');
  writeFileSync(conf, [
    `refclock SOCK ${sockPath} refid GPS poll ${poll} precision 1e-7`,
    `bindcmdaddress ${cmdSock}`, 'cmdport 0', 'port 0',
    `pidfile ${join(dir, 'chronyd.pid')}`, `driftfile ${join(dir, 'chronyd.drift')}`,
    `logdir ${dir}`, 'log refclocks', '',
  ].join('\n'));
  let out = '';
  const c: SockChronyd = {
    dir, sockPath, proc: undefined,
    async start() {
      rmSync(join(dir, 'chronyd.pid'), { force: true });
      // -x: never touch the clock. -u: stay the user we are (chronyd would drop to _chrony, who may
      // not enter this private directory).
      const p = spawn('chronyd', ['-x', '-d', '-u', userInfo().username, '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      p.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      c.proc = p;
      const end = Date.now() + 10_000;
      while (!(existsSync(sockPath) && existsSync(cmdSock))) {
        if (p.exitCode !== null || Date.now() > end) throw new Error(`chronyd did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const p = c.proc;
      c.proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
    chronyc(...args) {
      const r = spawnSync('chronyc', ['-h', cmdSock, ...args], { encoding: 'utf8', timeout: 5000 });
      if (r.status !== 0) throw new Error(`chronyc ${args.join(' ')}: ${r.stderr || r.stdout}`);
      return r.stdout;
    },
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
    output: () => out,
  };
  return c;
}
