/**
 * SNMP benchmark: our agent beside Net-SNMP's snmpd (Debian's, private config on loopback), in one
 * run, measured by the same client (the net-snmp package, v2c, in this process):
 * - a full GetBulk walk of our subtree (our MIB, the system group, NTPv4-MIB) and of an snmpd subtree
 *   of similar size (its HOST-RESOURCES and system groups), 20 times each, interleaved: median time,
 *   and time per object;
 * - GET latency of sysName.0: 2000 sequential requests each: median and p99.
 * Ends with ONE JSON line of its figures.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import snmp from 'net-snmp';
import { freeUdpPort } from '../test/helpers/ports.ts';

const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(here, '../bin/stratum1.js');
const tmp = mkdtempSync(join(tmpdir(), 'bench-snmp-'));
chmodSync(tmp, 0o700);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// `--quick` (the smoke test inside npm test): 2 walks and 200 GETs each, on free ports.
const quick = process.argv.includes('--quick');
const OURS = await freeUdpPort();
const SNMPD = await freeUdpPort();

async function startOurs(): Promise<ChildProcess> {
  const cfg = join(tmp, 'agent.yaml');
  writeFileSync(cfg, [
    'receiver:', '  source: simulator', 'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0', 'ntp:', '  addresses: [127.0.0.1]', '  port: 0',
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${OURS}`, '  communities: [bench]', '  max_repetitions: 50',
    // Throughput is what is measured here: the per-source limit and the v2c reply cap (on by default)
    // would measure themselves, and snmpd has neither.
    '  requests_per_second: 0', '  max_reply_ratio: 0',
    'logging:', '  level: warn', 'agent:', `  state_dir: ${JSON.stringify(tmp)}`, '',
  ].join('\n'));
  const p = spawn(process.execPath, [BIN, 'run', '--simulate', '--config', cfg], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  while (!out.includes('listening:')) await sleep(50);
  await sleep(6000); // a sky, so the satellite table is full
  return p;
}

function startSnmpd(): ChildProcess {
  const conf = join(tmp, 'snmpd.conf');
  writeFileSync(conf, [`agentaddress udp:127.0.0.1:${SNMPD}`, 'rocommunity bench 127.0.0.1', ''].join('\n'));
  return spawn('snmpd', ['-f', '-Lo', '-C', '-c', conf, '-M', '/nonexistent', '-m', '', '-r'], { stdio: 'ignore' });
}

function session(port: number) {
  return snmp.createSession('127.0.0.1', 'bench', { port, version: snmp.Version2c, timeout: 2000, retries: 0 });
}

function walk(port: number, oids: string[]): Promise<{ ms: number; objects: number }> {
  const s = session(port);
  const t0 = performance.now();
  let objects = 0;
  return new Promise((res, rej) => {
    let i = 0;
    const next = () => {
      if (i >= oids.length) {
        s.close();
        res({ ms: performance.now() - t0, objects });
        return;
      }
      s.subtree(oids[i++]!, 50, (vbs: unknown[]) => { objects += vbs.length; }, (err: Error | null) => (err ? rej(err) : next()));
    };
    next();
  });
}

async function getLatency(port: number, n: number): Promise<number[]> {
  const s = session(port);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((res, rej) => s.get(['1.3.6.1.2.1.1.5.0'], (err: Error | null) => (err ? rej(err) : res())));
    out.push(performance.now() - t0);
  }
  s.close();
  return out;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

if (spawnSync('sh', ['-c', 'command -v snmpd']).status !== 0) {
  console.error('snmpd is not installed (Debian package snmpd): no reference, no benchmark');
  process.exit(1);
}
const ours = await startOurs();
const ref = startSnmpd();
await sleep(1000);
try {
  const OUR_TREES = ['1.3.6.1.2.1.1', '1.3.6.1.4.1.8072.9999.9999', '1.3.6.1.2.1.197'];
  // system, interfaces, ip's address tables and the snmp group: about the size of ours here.
  const REF_TREES = ['1.3.6.1.2.1.1', '1.3.6.1.2.1.2', '1.3.6.1.2.1.4.20', '1.3.6.1.2.1.11'];
  const ow: { ms: number; objects: number }[] = [];
  const rw: { ms: number; objects: number }[] = [];
  for (let i = 0; i < (quick ? 2 : 20); i++) {
    ow.push(await walk(OURS, OUR_TREES));
    rw.push(await walk(SNMPD, REF_TREES));
  }
  const og = await getLatency(OURS, quick ? 200 : 2000);
  const rg = await getLatency(SNMPD, quick ? 200 : 2000);
  const oMs = pct(ow.map((x) => x.ms), 0.5);
  const rMs = pct(rw.map((x) => x.ms), 0.5);
  const oObj = ow[0]!.objects;
  const rObj = rw[0]!.objects;
  console.log(`bulk walk: ours ${oObj} objects in ${r3(oMs)} ms (${r3((oMs / oObj) * 1000)} us/object); snmpd ${rObj} objects in ${r3(rMs)} ms (${r3((rMs / rObj) * 1000)} us/object)`);
  console.log(`GET sysName.0: ours median ${r3(pct(og, 0.5))} ms, p99 ${r3(pct(og, 0.99))} ms; snmpd median ${r3(pct(rg, 0.5))} ms, p99 ${r3(pct(rg, 0.99))} ms`);
  console.log(JSON.stringify({
    bench: 'snmp', quick, walkObjectsOurs: oObj, walkMsOurs: r3(oMs), walkObjectsSnmpd: rObj, walkMsSnmpd: r3(rMs),
    walkUsPerObjectRatio: r3((oMs / oObj) / (rMs / rObj)),
    getMedianMsOurs: r3(pct(og, 0.5)), getP99MsOurs: r3(pct(og, 0.99)), getMedianMsSnmpd: r3(pct(rg, 0.5)), getP99MsSnmpd: r3(pct(rg, 0.99)),
    getMedianRatio: r3(pct(og, 0.5) / pct(rg, 0.5)), getP99Ratio: r3(pct(og, 0.99) / pct(rg, 0.99)),
  }));
} finally {
  ours.kill('SIGTERM');
  ref.kill('SIGTERM');
  await sleep(300);
  rmSync(tmp, { recursive: true, force: true });
}
