/**
 * Small helpers for the fault-matrix tests (test/faults/): an InfluxDB stand-in that is up (counts the
 * points it is sent) or down (nothing listens on its port), rows counted in the agent's SQLite files
 * from outside, a timed SIGTERM, and code run inside a network namespace.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import Database from 'better-sqlite3';
import type { ChildProcess } from 'node:child_process';
import { freeTcpPort } from './ports.ts';
import type { Status } from '../../src/status/status.ts';

export interface InfluxStandIn {
  url: string;
  /** Points (lines) received by /write and answered 204. */
  points(): number;
  close(): Promise<void>;
}

/** InfluxDB 1.x as far as the agent uses it: /query (CREATE DATABASE) and /write. Down: the port is
 * free and nothing listens there (connection refused, the usual outage). */
export async function influxStandIn(up: boolean): Promise<InfluxStandIn> {
  const port = await freeTcpPort();
  let points = 0;
  let srv: Server | undefined;
  if (up) {
    srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
      req.on('end', () => {
        if (req.url!.startsWith('/write')) {
          points += body.split('\n').filter(Boolean).length;
          return void res.writeHead(204).end();
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
      });
    });
    await new Promise<void>((r) => srv!.listen(port, '127.0.0.1', () => r()));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    points: () => points,
    close: () => new Promise<void>((r) => (srv ? srv.close(() => r()) : r())),
  };
}

/** The same stand-in (up) inside a network namespace, on 127.0.0.1:port there: a child process that
 * reports each write's points on its standard output. */
export async function influxStandInNetns(ns: string, port: number): Promise<InfluxStandIn & { proc: ChildProcess }> {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', `
    import { createServer } from 'node:http';
    let points = 0;
    createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c.toString('utf8'); });
      req.on('end', () => {
        if (req.url.startsWith('/write')) {
          points += body.split('\\n').filter(Boolean).length;
          process.stdout.write('points ' + points + '\\n');
          return void res.writeHead(204).end();
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{"statement_id":0}]}');
      });
    }).listen(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));
    process.on('SIGTERM', () => process.exit(0));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let points = 0;
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('the InfluxDB stand-in did not start')), 10_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n')) {
        if (line === 'ready') { clearTimeout(timer); res(); }
        const m = /^points (\d+)$/.exec(line);
        if (m) points = Number(m[1]);
      }
    });
  });
  return {
    proc, url: `http://127.0.0.1:${port}`, points: () => points,
    close: () => new Promise<void>((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return r();
      proc.once('exit', () => r());
      proc.kill('SIGTERM');
    }),
  };
}

/** Rows of a table in an SQLite file, read from outside the agent (read-only); undefined without the file. */
export function rowCount(file: string, table: string, where = ''): number | undefined {
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, timeout: 2000 });
  try {
    return db.prepare(`SELECT count(*) FROM ${table} ${where}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

/** PRAGMA quick_check of an SQLite file ('ok' when sound). */
export function quickCheck(file: string): string {
  const db = new Database(file, { readonly: true, timeout: 2000 });
  try {
    return String(db.pragma('quick_check', { simple: true }));
  } finally {
    db.close();
  }
}

/**
 * Reads the disk between two Status snapshots and keeps the reading only when the counters `key` picks
 * are the same in both: nothing was written between the first snapshot and the disk read. (Status is
 * rebuilt every 250 ms, so the second snapshot is taken more than that after the disk read.)
 */
export async function steadyRead<T>(status: () => Promise<Status>, key: (s: Status) => unknown, disk: () => T, tries = 40): Promise<{ st: Status; disk: T }> {
  for (let i = 0; i < tries; i++) {
    const a = await status();
    const d = disk();
    await new Promise((r) => setTimeout(r, 300));
    const b = await status();
    if (JSON.stringify(key(a)) === JSON.stringify(key(b))) return { st: a, disk: d };
  }
  throw new Error(`the counters never stood still for ${tries} reads`);
}

/** The names of the alarms raised now (any severity), sorted. */
export const raisedAlarms = (s: Status): string[] => s.alarms.filter((a) => a.severity !== 'none').map((a) => a.name).sort();

/** Sends SIGTERM and waits for the exit, at most `limitMs`: the exit code (or 'hung') and the time taken. */
export async function sigtermTimed(proc: ChildProcess, limitMs = 10_000): Promise<{ code: number | null | 'hung'; signal: string | null; ms: number }> {
  if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, signal: proc.signalCode, ms: 0 };
  const t0 = performance.now();
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  proc.kill('SIGTERM');
  const r = await Promise.race([exited, new Promise<'hung'>((res) => setTimeout(() => res('hung'), limitMs))]);
  const ms = Math.round(performance.now() - t0);
  return r === 'hung' ? { code: 'hung', signal: null, ms } : { ...r, ms };
}

/** Runs a command inside a network namespace, without blocking the event loop (the other cases'
 * stand-ins in this process must go on answering). */
export function runInNetns(ns: string, argv: string[], timeoutMs = 10_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => { clearTimeout(timer); res({ status, stdout, stderr }); });
  });
}

/** Runs an ES module snippet with this Node inside a network namespace; its standard output. */
export async function nodeInNetns(ns: string, code: string, timeoutMs = 10_000): Promise<string> {
  const r = await runInNetns(ns, [process.execPath, '--input-type=module', '-e', code], timeoutMs);
  if (r.status !== 0) throw new Error(`node in ${ns} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** The agent's Status from its control endpoint inside a network namespace. */
export async function statusInNetns(ns: string, statusUrl: string): Promise<Status> {
  return JSON.parse(await nodeInNetns(ns, `process.stdout.write(await (await fetch(${JSON.stringify(statusUrl)})).text());`)) as Status;
}

/** The stratum of an NTP reply from 127.0.0.1:port inside a network namespace. */
export async function ntpStratumInNetns(ns: string, port: number): Promise<number> {
  const out = await nodeInNetns(ns, `
    import { createSocket } from 'node:dgram';
    const s = createSocket('udp4');
    const req = Buffer.alloc(48); req[0] = 0x23;
    const timer = setTimeout(() => { console.error('no NTP reply'); process.exit(1); }, 2000);
    s.on('message', (m) => { clearTimeout(timer); console.log(m.length + ' ' + m[1]); s.close(); });
    s.send(req, ${port}, '127.0.0.1');`);
  const [len, stratum] = out.trim().split(' ').map(Number);
  if (len !== 48) throw new Error(`an NTP reply of ${len} bytes`);
  return stratum!;
}

/** A UDP listener inside a network namespace that counts the datagrams it receives (a trap sink). */
export function udpCounterInNetns(ns: string, port: number): { count(): number; ready: Promise<void>; stop(): void } {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', `
    import { createSocket } from 'node:dgram';
    const s = createSocket('udp4');
    let n = 0;
    s.on('message', () => { n++; process.stdout.write('n ' + n + '\\n'); });
    s.bind(${port}, '127.0.0.1', () => process.stdout.write('ready\\n'));
    process.on('SIGTERM', () => process.exit(0));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let n = 0;
  let onReady: () => void;
  const ready = new Promise<void>((r) => { onReady = r; });
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    for (const line of d.split('\n')) {
      if (line === 'ready') onReady();
      const m = /^n (\d+)$/.exec(line);
      if (m) n = Number(m[1]);
    }
  });
  return { count: () => n, ready, stop: () => { if (p.exitCode === null) p.kill('SIGTERM'); } };
}
