/**
 * PTP benchmark: the same slave (linuxptp's ptp4l, software timestamps, servo on, no right to set the
 * clock) against ptp4l as grandmaster and against ours, one after the other in one run, in two network
 * namespaces joined by a veth pair. Each grandmaster serves for SECONDS after the slave reaches SLAVE;
 * the figures are the slave's reported |master offset| (median, p99, max) and path delay over its
 * locked (s2) samples. Both grandmasters stamp in software and share the host's clock, so the true
 * offset is zero and the reported offset is the timestamping error. Ends with ONE JSON line.
 * PTP_BENCH_SECONDS (120), PTP_BENCH_ONLY=ours|ptp4l, PTP_BENCH_DUMP=1 (keep the slave's log).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netPair } from '../test/helpers/netns.ts';

// `--quick` (the smoke test inside npm test): 5 s of samples each once the slave is in SLAVE. The
// slave's way to SLAVE (about 25 s each) stays: faster Sync and Announce rates made it slower (measured).
const quick = process.argv.includes('--quick');
const SECONDS = Number(process.env.PTP_BENCH_SECONDS ?? (quick ? 5 : 120));
const ONLY = process.env.PTP_BENCH_ONLY; // 'ours' or 'ptp4l': one side only (for quick looks)
const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bench-ptp-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const net = netPair('bp');
writeFileSync(join(dir, 'slave.conf'), ['[global]', 'slaveOnly 1', 'summary_interval 0', 'logging_level 6', `uds_address ${join(dir, 'slave.sock')}`, ''].join('\n'));
writeFileSync(join(dir, 'gm.conf'), ['[global]', 'priority1 100', 'clockClass 6', 'summary_interval 0', `uds_address ${join(dir, 'gm.sock')}`, ''].join('\n'));
writeFileSync(join(dir, 'agent.yaml'), [
  'receiver:', '  source: simulator',
  'simulator:', '  initial_offset_ms: 0', '  frequency_ppm: 0', '  wander_ppb_per_sqrt_s: 0', '  pps_jitter_ns: 0',
  'discipline:', '  lock_min_samples: 3', '  lock_freq_sigma_ppb: 5000',
  'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  enabled: false', 'ntp:', '  enabled: false', 'store:', '  enabled: false',
  'logging:', '  level: warn', 'ptp:', '  enabled: true', `  interface: ${net.a.dev}`, 'agent:', `  state_dir: ${JSON.stringify(dir)}`, '',
].join('\n'));

const noSysTime = ['setpriv', '--bounding-set', '-sys_time', '--inh-caps', '-sys_time'];
function run(ns: string, cmd: string[]): { p: ChildProcess; out: () => string } {
  const p = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  p.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  return { p, out: () => out };
}
const stop = (p: ChildProcess) => new Promise<void>((r) => {
  if (p.exitCode !== null || p.signalCode !== null) return r();
  p.once('exit', () => r());
  p.kill('SIGTERM');
});

interface Figures { samples: number; medianNs: number; p99Ns: number; maxNs: number; signedMedianNs: number; pathDelayMedianNs: number; secondsToSlave: number }

async function measure(name: string, gm: string[]): Promise<Figures> {
  const g = run(net.a.ns, gm);
  await sleep(name === 'ours' ? 3000 : 500);
  const t0 = Date.now();
  const s = run(net.b.ns, [...noSysTime, 'ptp4l', '-i', net.b.dev, '-4', '-S', '-m', '-f', join(dir, 'slave.conf')]);
  while (!/UNCALIBRATED to SLAVE/.test(s.out())) {
    if (Date.now() - t0 > 90_000) throw new Error(`${name}: the slave did not reach SLAVE:\n${s.out().slice(-1500)}\n${g.out().slice(-1500)}`);
    await sleep(200);
  }
  const toSlave = (Date.now() - t0) / 1000;
  const from = s.out().length;
  await sleep(SECONDS * 1000);
  const text = s.out().slice(from);
  if (process.env.PTP_BENCH_DUMP) {
    writeFileSync(join(dir, `${name}.log`), text);
    console.log(`slave log: ${join(dir, `${name}.log`)}`);
  }
  await stop(s.p);
  await stop(g.p);
  const v = [...text.matchAll(/master offset\s+(-?\d+) s2 freq\s+\S+ path delay\s+(-?\d+)/g)].map((m) => [Math.abs(Number(m[1])), Number(m[2]), Number(m[1])] as const);
  const off = v.map((x) => x[0]).sort((a, b) => a - b);
  const signed = v.map((x) => x[2]).sort((a, b) => a - b);
  const del = v.map((x) => x[1]).sort((a, b) => a - b);
  const f = {
    samples: v.length, medianNs: off[off.length >> 1]!, p99Ns: off[Math.min(off.length - 1, Math.floor(off.length * 0.99))]!, maxNs: off.at(-1)!,
    signedMedianNs: signed[signed.length >> 1]!, pathDelayMedianNs: del[del.length >> 1]!, secondsToSlave: toSlave,
  };
  console.log(`${name}: SLAVE after ${toSlave.toFixed(1)} s; ${f.samples} samples: |offset| median ${f.medianNs} ns, p99 ${f.p99Ns} ns, max ${f.maxNs} ns; signed median ${f.signedMedianNs} ns; path delay median ${f.pathDelayMedianNs} ns`);
  return f;
}

try {
  const skip = { samples: 0, medianNs: NaN, p99Ns: NaN, maxNs: NaN, signedMedianNs: NaN, pathDelayMedianNs: NaN, secondsToSlave: NaN };
  const ref = ONLY === 'ours' ? skip : await measure('ptp4l', [...noSysTime, 'ptp4l', '-i', net.a.dev, '-4', '-S', '-m', '-f', join(dir, 'gm.conf')]);
  const ours = ONLY === 'ptp4l' ? skip : await measure('ours', [process.execPath, resolve(here, '../bin/stratum1.js'), 'run', '--config', join(dir, 'agent.yaml')]);
  console.log(JSON.stringify({
    bench: 'ptp', quick, secondsEach: SECONDS, ptp4l: ref, ours,
    ratio: { median: +(ours.medianNs / ref.medianNs).toFixed(2), p99: +(ours.p99Ns / ref.p99Ns).toFixed(2), max: +(ours.maxNs / ref.maxNs).toFixed(2) },
  }));
} finally {
  net.remove();
}
