/**
 * A hostile LAN for the agent: two network namespaces joined by a veth pair, the real agent in A
 * (the simulator, NTP, the PTP grandmaster on the veth, SNMP v2c and v3, the history in a temp dir),
 * and B the LAN's other hosts: 192.0.2.2 and 16 more flooding addresses, and 192.0.2.3 for the
 * legitimate client. Floods run in B as child processes (test/hostile/flood.ts); the agent's RSS is
 * read from /proc, its Status over the control endpoint from inside A, its history's event rows from
 * the SQLite file. Shared by test/hostile and bench/hostile.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { netPair, type NetPair } from '../helpers/netns.ts';
import { startAgent, type RunningAgent } from '../helpers/agent.ts';
import { ROOT } from '../helpers/env.ts';
import type { Status } from '../../src/status/status.ts';
import type { FloodSpec } from './flood.ts';

export const AGENT = '192.0.2.1';
export const ATTACKER = '192.0.2.2';
export const LEGIT = '192.0.2.3';
/** The attacker's other addresses (several sources for the per-source limits). */
export const FLOODERS = Array.from({ length: 16 }, (_, i) => `192.0.2.${10 + i}`);
export const SNMP_PORT = 161;
export const NTP_PORT = 123;
export const COMMUNITY = 'hostile-lan-ro';
export const V3 = { user: 'hostile-ops', auth: 'auth-passphrase-1', priv: 'priv-passphrase-1' };
/** What the agent is configured with (the bounds asserted). */
export const LIMITS = { maxForeignMasters: 16, delayRespPerSecond: 200, managementPerSecond: 20, ntpIntervalS: 0.02, ntpBurst: 64 };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Lan {
  net: NetPair;
  dir: string;
  agent: RunningAgent;
  pid: number;
  /** Status, read from inside A without blocking this process. */
  status(): Promise<Status>;
  rssKb(): number;
  /** Samples RSS every 100 ms until stopped; the peak seen. */
  watchRss(): { stop(): number };
  /** Runs one flood (or client) in B; its JSON result. */
  inB<T>(spec: FloodSpec): Promise<T>;
  /** Rows in the history's events table (what the store has written). */
  eventRows(): number;
  /** One NTP request from `source` in B; true if answered. */
  ntpAnswers(source: string): Promise<boolean>;
  /** A v3 authPriv snmpget of sysName.0 from `source` in B. */
  snmpget(source: string): { ok: boolean; out: string };
  close(): Promise<void>;
}

function agentYaml(dir: string, dev: string): string {
  return [
    'receiver:', '  source: simulator',
    'simulator:', '  initial_offset_ms: 0', '  frequency_ppm: 0', '  wander_ppb_per_sqrt_s: 0', '  pps_jitter_ns: 0',
    'discipline:', '  lock_min_samples: 3', '  lock_freq_sigma_ppb: 5000', '  leap_seconds_file: ""',
    'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  enabled: false',
    'ntp:', `  addresses: [${AGENT}]`, `  port: ${NTP_PORT}`,
    // The legitimate client asks every 50 ms: each source may sustain 50 a second.
    '  rate_limit:', `    interval_s: ${LIMITS.ntpIntervalS}`, `    burst: ${LIMITS.ntpBurst}`,
    'ptp:', '  enabled: true', `  interface: ${dev}`, `  max_foreign_masters: ${LIMITS.maxForeignMasters}`,
    `  delay_resp_per_second: ${LIMITS.delayRespPerSecond}`, `  management_per_second: ${LIMITS.managementPerSecond}`,
    'snmp:', '  enabled: true', `  address: ${AGENT}`, `  port: ${SNMP_PORT}`, `  communities: [${COMMUNITY}]`, '  v2c_allow: [192.0.2.0/24]',
    '  users:', `    - { name: ${V3.user}, auth: sha256, auth_key: ${V3.auth}, priv: aes, priv_key: ${V3.priv} }`,
    'store:', '  enabled: true', '  flush_interval_s: 1',
    'agent:', `  state_dir: ${JSON.stringify(dir)}`, '',
  ].join('\n');
}

/** Runs a command in a namespace without blocking this process. */
function execAsync(ns: string, cmd: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d.length > 4000 ? d.slice(0, 4000) : d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

export async function hostileLan(tag: string): Promise<Lan> {
  const net = netPair(tag);
  const dir = mkdtempSync(join(tmpdir(), 'hostile-'));
  let agent: RunningAgent | undefined;
  const cleanup = async () => {
    await agent?.stop();
    net.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const a of [LEGIT, ...FLOODERS]) {
      const r = spawnSync('ip', ['-n', net.b.ns, 'addr', 'add', `${a}/24`, 'dev', net.b.dev], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`ip addr add ${a}: ${r.stderr}`);
    }
    const cfg = join(dir, 'agent.yaml');
    writeFileSync(cfg, agentYaml(dir, net.a.dev));
    agent = await startAgent(cfg, net.a.ns);
  } catch (e) {
    await cleanup();
    throw e;
  }
  const a = agent;
  const status = async (): Promise<Status> => {
    const r = await execAsync(net.a.ns, [process.execPath, '-e', `fetch(${JSON.stringify(a.statusUrl)}).then((r) => r.text()).then((t) => process.stdout.write(t))`], 15_000);
    if (r.code !== 0) throw new Error(`status: exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as Status;
  };
  const pid = (await status()).agent.pid;
  const rssKb = () => {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (!m) throw new Error(`no VmRSS for ${pid}`);
    return Number(m[1]);
  };
  const dbPath = join(dir, 'history.db');
  const inB = async <T>(spec: FloodSpec): Promise<T> => {
    const r = await execAsync(net.b.ns, [process.execPath, '--import', 'tsx', resolve(ROOT, 'test/hostile/flood.ts'), JSON.stringify(spec)], 60_000);
    if (r.code !== 0) throw new Error(`${spec.kind} in B: exit ${r.code}: ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
  };
  return {
    net, dir, agent: a, pid, status, rssKb,
    watchRss() {
      let peak = rssKb();
      const timer = setInterval(() => {
        try {
          peak = Math.max(peak, rssKb());
        } catch { /* the agent is gone: the test says so elsewhere */ }
      }, 100);
      return { stop: () => { clearInterval(timer); return Math.max(peak, rssKb()); } };
    },
    inB,
    eventRows() {
      const db = new Database(dbPath, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
    async ntpAnswers(source) {
      const r = await inB<{ received: number }>({ kind: 'ntp-client', durationMs: 200, intervalMs: 100, bind: source, target: AGENT, port: NTP_PORT });
      return r.received > 0;
    },
    snmpget(source) {
      const r = net.exec(net.b.ns, ['env', 'MIBS=', 'snmpget', `--clientaddr=${source}`, '-v3', '-l', 'authPriv', '-u', V3.user, '-a', 'SHA-256', '-A', V3.auth,
        '-x', 'AES', '-X', V3.priv, '-r', '2', '-t', '2', '-On', `${AGENT}:${SNMP_PORT}`, '1.3.6.1.2.1.1.5.0'], { timeoutMs: 20_000 });
      return { ok: r.status === 0 && /\.1\.3\.6\.1\.2\.1\.1\.5\.0 = STRING/.test(r.stdout), out: `${r.stdout}${r.stderr}`.trim() };
    },
    close: cleanup,
  };
}

/** Sum of a counter record. */
export const total = (r: Record<string, number> | undefined): number => Object.values(r ?? {}).reduce((a, b) => a + b, 0);

/** Namespaces and ports 123, 161, 319, 320 need root. Under CI (CI=true, which runs as root) a missing
 * right is a failure; elsewhere the test is skipped, loudly. */
export function requireRoot(t: { skip(msg: string): void }): boolean {
  if (process.getuid?.() === 0) return true;
  const msg = 'NOT ROOT: the hostile-LAN test needs network namespaces (run as root, as CI does)';
  if (process.env.CI) throw new Error(msg);
  console.error(`\n*** SKIPPED: ${msg} ***\n`);
  t.skip(msg);
  return false;
}
