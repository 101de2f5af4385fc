/**
 * Idle cost: the agent as `npm start` runs it (the simulator, NTP, SNMP, the history, /metrics and the
 * control endpoint, all on loopback), left alone, measured from /proc: CPU seconds per minute (user +
 * system) and RSS at the end. With `--compare DIR` the same measurement runs for the checkout in DIR
 * (another version of this project, with its node_modules), interleaved with ours, so the two are
 * compared in the same run. Ends with ONE JSON line. `--quick` (the smoke test inside npm test): one
 * round of 3 s after a 3 s warm-up.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeUdpPort } from '../test/helpers/ports.ts';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const ci = process.argv.indexOf('--compare');
const other = ci > 0 ? resolve(process.argv[ci + 1] ?? '') : undefined;
const ROUNDS = quick ? 1 : 3;
const WARM_S = quick ? 3 : 20;
const MEASURE_S = quick ? 3 : 60;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function proc(pid: number): { cpuS: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuS: (Number(x[11]) + Number(x[12])) / 100, rssKb: rss ? Number(rss[1]) : NaN };
}

async function measure(root: string): Promise<{ cpuSPerMin: number; rssKb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-idle-'));
  const cfg = join(dir, 'agent.yaml');
  const snmpPort = await freeUdpPort(); // net-snmp turns port 0 into 161
  writeFileSync(cfg, [
    'agent:', `  state_dir: ${JSON.stringify(dir)}`, 'receiver:', '  source: simulator', 'pps:', '  source: simulator',
    'ntp:', '  addresses: [127.0.0.1]', '  port: 0', 'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0',
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${snmpPort}`, '  communities: [bench]', 'logging:', '  level: warn', '',
  ].join('\n'));
  const p = spawn(process.execPath, [join(root, 'bin/stratum1.js'), 'run', '--simulate', '--config', cfg], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  p.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const t0 = Date.now();
  while (!out.includes('listening:')) {
    if (p.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`the agent in ${root} did not start:\n${out.slice(-2000)}`);
    await sleep(50);
  }
  await sleep(WARM_S * 1000);
  const a = proc(p.pid!);
  const w0 = performance.now();
  await sleep(MEASURE_S * 1000);
  const b = proc(p.pid!);
  const minutes = (performance.now() - w0) / 60_000;
  p.kill('SIGTERM');
  await new Promise((r) => p.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return { cpuSPerMin: (b.cpuS - a.cpuS) / minutes, rssKb: b.rssKb };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ours: { cpuSPerMin: number; rssKb: number }[] = [];
const theirs: { cpuSPerMin: number; rssKb: number }[] = [];
for (let i = 0; i < ROUNDS; i++) {
  ours.push(await measure(resolve(here, '..')));
  if (other) theirs.push(await measure(other));
  console.log(`round ${i + 1}: this checkout ${ours.at(-1)!.cpuSPerMin.toFixed(3)} CPU s/min, RSS ${ours.at(-1)!.rssKb} kB` +
    (other ? `; ${other}: ${theirs.at(-1)!.cpuSPerMin.toFixed(3)} CPU s/min, RSS ${theirs.at(-1)!.rssKb} kB` : ''));
}
const o = { cpuSPerMin: +median(ours.map((x) => x.cpuSPerMin)).toFixed(4), rssKb: median(ours.map((x) => x.rssKb)) };
const t = other ? { cpuSPerMin: +median(theirs.map((x) => x.cpuSPerMin)).toFixed(4), rssKb: median(theirs.map((x) => x.rssKb)) } : null;
console.log(JSON.stringify({
  bench: 'idle', quick, rounds: ROUNDS, measureS: MEASURE_S, ours: o, compared: t,
  ratio: t ? { cpu: +(o.cpuSPerMin / t.cpuSPerMin).toFixed(3), rss: +(o.rssKb / t.rssKb).toFixed(3) } : null,
}));
