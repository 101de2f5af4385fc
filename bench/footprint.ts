/**
 * Footprint: the agent run from the TypeScript sources through tsx (a checkout) beside the same agent
 * compiled to JavaScript (`npm run build`, what the Debian package runs), interleaved in the same run,
 * on the simulator with the services `npm start` has (NTP, SNMP, the history, /metrics, the control
 * endpoint, all on loopback). For each:
 * - start: from the spawn of the process to its first NTP reply (a request every 10 ms);
 * - RSS after 60 s from the start (VmRSS, and VmHWM, the peak);
 * - idle CPU: user + system CPU time over 60 s after that warm-up, as % of one core.
 * The compiled tree is made here (tsc into a temporary directory beside links to this checkout's
 * package.json, node_modules and native addon; no src/, so bin/stratum1.js runs dist/).
 * `--flags "NODE FLAGS"` adds a third variant: the compiled agent run with those flags of Node's (for
 * example --max-semi-space-size=1), to measure what a flag buys.
 * `--quick` (the smoke test inside npm test): one round, RSS at 5 s, CPU over 3 s.
 * Ends with ONE JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import dgram from 'node:dgram';
import { freeUdpPort } from '../test/helpers/ports.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 1 : 3;
const RSS_AT_S = quick ? 5 : 60;
const CPU_S = quick ? 3 : 60;
const fi = process.argv.indexOf('--flags');
const nodeFlags = fi > 0 ? (process.argv[fi + 1] ?? '').split(/\s+/).filter(Boolean) : [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function proc(pid: number): { cpuS: number; rssKb: number; hwmKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  const hz = 100; // USER_HZ on Linux
  return { cpuS: (Number(x[11]) + Number(x[12])) / hz, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** The first NTP reply from 127.0.0.1:port, polling every 10 ms: its arrival (performance.now()). */
function firstNtpReply(port: number, give: () => boolean): Promise<number> {
  return new Promise((res, rej) => {
    const s = dgram.createSocket('udp4');
    const q = Buffer.alloc(48);
    q[0] = 0x23;
    s.on('message', () => {
      const t = performance.now();
      clearInterval(timer);
      s.close();
      res(t);
    });
    s.on('error', () => { /* ICMP port unreachable before the server binds */ });
    const timer = setInterval(() => {
      if (give()) {
        clearInterval(timer);
        s.close();
        rej(new Error('gave up'));
        return;
      }
      s.send(q, port, '127.0.0.1');
    }, 10);
  });
}

/** The compiled tree: dist/ from tsc, with links to this checkout's modules and addon. */
function compiledTree(dir: string): string {
  const tree = join(dir, 'compiled');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  const b = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--out', join(tree, 'dist')], { encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed: ${b.stdout}${b.stderr}`);
  cpSync(join(root, 'bin/stratum1.js'), join(tree, 'bin/stratum1.js'));
  for (const f of ['package.json', 'node_modules', 'build']) symlinkSync(join(root, f), join(tree, f));
  return tree;
}

interface Figures { startMs: number; rssKb: number; hwmKb: number; idleCpuPct: number }

async function measure(tree: string, dir: string, flags: string[] = []): Promise<Figures> {
  const state = mkdtempSync(join(dir, 'state-'));
  const cfg = join(state, 'agent.yaml');
  const ntpPort = await freeUdpPort();
  const snmpPort = await freeUdpPort(); // net-snmp turns port 0 into 161
  writeFileSync(cfg, [
    'agent:', `  state_dir: ${JSON.stringify(state)}`, 'receiver:', '  source: simulator', 'pps:', '  source: simulator',
    'ntp:', '  addresses: [127.0.0.1]', `  port: ${ntpPort}`, 'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0',
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${snmpPort}`, '  communities: [bench]', 'logging:', '  level: warn', '',
  ].join('\n'));
  const t0 = performance.now();
  const p = spawn(process.execPath, [...flags, join(tree, 'bin/stratum1.js'), 'run', '--simulate', '--config', cfg], { cwd: tree, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    const served = await firstNtpReply(ntpPort, () => p.exitCode !== null || performance.now() - t0 > 30_000)
      .catch(() => { throw new Error(`the agent in ${tree} did not serve NTP:\n${out.slice(-2000)}`); });
    await sleep(Math.max(0, RSS_AT_S * 1000 - (performance.now() - t0)));
    const a = proc(p.pid!);
    const w0 = performance.now();
    await sleep(CPU_S * 1000);
    const b = proc(p.pid!);
    const wallS = (performance.now() - w0) / 1000;
    return { startMs: Math.round(served - t0), rssKb: a.rssKb, hwmKb: a.hwmKb, idleCpuPct: +(100 * (b.cpuS - a.cpuS) / wallS).toFixed(3) };
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-footprint-'));
try {
  const trees = { source: root, compiled: compiledTree(dir) };
  const runs: Record<'source' | 'compiled' | 'flags', Figures[]> = { source: [], compiled: [], flags: [] };
  const variants = nodeFlags.length > 0 ? ['source', 'compiled', 'flags'] as const : ['source', 'compiled'] as const;
  for (let i = 0; i < ROUNDS; i++) {
    for (const k of variants) {
      runs[k].push(k === 'flags' ? await measure(trees.compiled, dir, nodeFlags) : await measure(trees[k], dir));
      const f = runs[k].at(-1)!;
      console.log(`round ${i + 1} ${k === 'flags' ? `compiled ${nodeFlags.join(' ')}` : k}: NTP served ${f.startMs} ms after spawn, RSS ${(f.rssKb / 1024).toFixed(1)} MB at ${RSS_AT_S} s (peak ${(f.hwmKb / 1024).toFixed(1)} MB), idle CPU ${f.idleCpuPct} % of a core`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const summary = (fs: Figures[]) => ({
    startMs: median(fs.map((f) => f.startMs)), rssMb: +(median(fs.map((f) => f.rssKb)) / 1024).toFixed(1),
    peakMb: +(median(fs.map((f) => f.hwmKb)) / 1024).toFixed(1), idleCpuPct: median(fs.map((f) => f.idleCpuPct)),
  });
  const s = summary(runs.source);
  const c = summary(runs.compiled);
  const f = nodeFlags.length > 0 ? { flags: nodeFlags.join(' '), ...summary(runs.flags) } : null;
  console.log(JSON.stringify({
    bench: 'footprint', quick, rounds: ROUNDS, rssAtS: RSS_AT_S, cpuOverS: CPU_S, source: s, compiled: c, compiledWithFlags: f,
    ratio: { start: +(c.startMs / s.startMs).toFixed(3), rss: +(c.rssMb / s.rssMb).toFixed(3), cpu: s.idleCpuPct > 0 ? +(c.idleCpuPct / s.idleCpuPct).toFixed(3) : null },
    budget: { rssMb: 80, idleCpuPct: 1, compiledWithin: c.rssMb < 80 && c.idleCpuPct < 1 },
  }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
