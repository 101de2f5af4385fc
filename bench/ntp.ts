/**
 * NTP server benchmark: our agent beside chronyd (Debian's, `local stratum 1`, -x so it never touches
 * the clock), both on loopback ports, measured by the same load generator in the same run, interleaved.
 *
 * 1. Throughput: NTPv4 client requests from 8 sockets at a set rate for 2 s each, rates rising until
 *    loss passes 1 %; replies matched by origin timestamp. The highest rate under 1 % loss, and the
 *    server's CPU time per request (/proc), for each. The generator is bench/ntpload.c, compiled here
 *    (a Node generator tops out near 80 000 requests/s on this machine, below chronyd's ceiling); without
 *    a C compiler the Node generator is used and the report says so.
 * 2. Time error a client sees with one shared clock (both serve this machine's clock: ours through
 *    the discipline on a perfect simulated oscillator, chronyd directly): 5000 requests at 1000/s,
 *    offset = ((T2-T1)+(T3-T4))/2 with user-space client timestamps; median and p99 |offset|; the
 *    server's T3-T2.
 * 3. Memory: one million requests from 100 000 distinct source addresses (127.0.0.0/8) to our agent,
 *    its RSS before and after.
 *
 * Ends with ONE JSON line of its figures. `--quick` (the smoke test inside npm test, beside other tests:
 * light) uses one short load step and 20 000 requests from 2 000 addresses.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync, rmSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SystemClock, toNtp64, fromNtp64 } from '../src/time/index.ts';
import { freeUdpPort } from '../test/helpers/ports.ts';

const quick = process.argv.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));
const BIN = resolve(here, '../bin/stratum1.js');
const clock = new SystemClock({ recalibrateEveryMs: 0 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = mkdtempSync(join(tmpdir(), 'bench-ntp-'));
chmodSync(tmp, 0o700);
// Free ports, so the quick run inside npm test never meets another test's server.
const OURS_PORT = await freeUdpPort();
const CHRONY_PORT = await freeUdpPort();

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(x[11]) + Number(x[12])) / 100;
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function startOurs(): Promise<{ proc: ChildProcess; pid: number; statusPort: number }> {
  const cfg = join(tmp, 'agent.yaml');
  writeFileSync(cfg, [
    'receiver:', '  source: simulator',
    'simulator:', '  initial_offset_ms: 0', '  frequency_ppm: 0', '  wander_ppb_per_sqrt_s: 0', '  pps_jitter_ns: 0',
    'discipline:', '  lock_min_samples: 3', '  lock_freq_sigma_ppb: 5000', '  leap_seconds_file: ""',
    'control:', '  http:', '    address: 127.0.0.1', '    port: 0', 'prometheus:', '  port: 0',
    'ntp:', '  addresses: [127.0.0.1]', `  port: ${OURS_PORT}`, '  rate_limit:', '    enabled: false',
    'logging:', '  level: warn',
    'agent:', `  state_dir: ${JSON.stringify(tmp)}`, '',
  ].join('\n'));
  const proc = spawn(process.execPath, [BIN, 'run', '--simulate', '--config', cfg], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  while (!out.includes('listening:')) await sleep(50);
  const statusPort = Number(/control-http tcp 127\.0\.0\.1:(\d+)/.exec(out)![1]);
  // Wait for LOCKED: the server answers with stratum 1.
  for (let i = 0; i < 120; i++) {
    const r = await query(OURS_PORT);
    if (r && r.stratum === 1) break;
    await sleep(500);
  }
  return { proc, pid: proc.pid!, statusPort };
}

async function startChrony(): Promise<{ proc: ChildProcess; pid: number }> {
  const conf = join(tmp, 'chrony.conf');
  writeFileSync(conf, ['local stratum 1', 'allow 127.0.0.1', `port ${CHRONY_PORT}`, 'bindaddress 127.0.0.1', 'cmdport 0', `pidfile ${join(tmp, 'chronyd.pid')}`, ''].join('\n'));
  const proc = spawn('chronyd', ['-u', 'root', '-x', '-d', '-f', conf], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const r = await query(CHRONY_PORT);
    if (r) break;
    await sleep(100);
  }
  return { proc, pid: proc.pid! };
}

function request(id: bigint): Buffer {
  const b = Buffer.alloc(48);
  b[0] = (4 << 3) | 3;
  b.writeBigUInt64BE(id, 40);
  return b;
}

function query(port: number): Promise<{ stratum: number } | undefined> {
  return new Promise((res) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => { s.close(); res(undefined); }, 300);
    s.on('message', (m) => { clearTimeout(t); s.close(); res({ stratum: m[1]! }); });
    s.send(request(1n), port, '127.0.0.1');
  });
}

/** Sends `rate` requests/s for `seconds` from 8 sockets; counts replies matched by origin. */
let cLoad: string | undefined;
{
  const exe = join(tmp, 'ntpload');
  const cc = spawnSync('cc', ['-O2', '-o', exe, resolve(here, 'ntpload.c')], { encoding: 'utf8' });
  if (cc.status === 0) cLoad = exe;
  else console.log(`no C compiler (${cc.error?.message ?? cc.stderr.trim()}): using the Node load generator`);
}

async function loadC(port: number, rate: number, seconds: number, pid: number): Promise<{ sent: number; received: number; loss: number; cpuUsPerReq: number }> {
  const cpu0 = cpuSeconds(pid);
  const r = await new Promise<string>((res) => {
    const p = spawn(cLoad!, [String(port), String(rate), String(seconds), '8'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('exit', () => res(out));
  });
  const cpu = cpuSeconds(pid) - cpu0;
  const j = JSON.parse(r) as { sent: number; received: number };
  return { sent: j.sent, received: j.received, loss: 1 - j.received / j.sent, cpuUsPerReq: (cpu * 1e6) / Math.max(1, j.received) };
}

async function load(port: number, rate: number, seconds: number, pid: number): Promise<{ sent: number; received: number; loss: number; cpuUsPerReq: number }> {
  const socks: Socket[] = [];
  const total = Math.round(rate * seconds);
  const seen = new Uint8Array(total);
  let received = 0;
  const MAGIC = 0x5151n << 48n;
  for (let i = 0; i < 8; i++) {
    const s = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 });
    s.on('message', (m) => {
      if (m.length < 48) return;
      const o = m.readBigUInt64BE(24);
      if (o >> 48n !== 0x5151n) return;
      const id = Number(o & 0xffffffffn);
      if (id < total && !seen[id]) {
        seen[id] = 1;
        received++;
      }
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    socks.push(s);
  }
  const cpu0 = cpuSeconds(pid);
  const pkt = request(0n);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) {
      const b = Buffer.from(pkt);
      b.writeBigUInt64BE(MAGIC | BigInt(sent), 40);
      socks[sent & 7]!.send(b, port, '127.0.0.1');
      sent++;
    }
    await new Promise((r) => setImmediate(r));
  }
  await sleep(300);
  const cpu = cpuSeconds(pid) - cpu0;
  for (const s of socks) s.close();
  return { sent, received, loss: 1 - received / sent, cpuUsPerReq: (cpu * 1e6) / Math.max(1, received) };
}

/** 1000 requests/s, client timestamps in user space: offsets and server T3-T2. */
async function offsets(port: number, n: number): Promise<{ offsetsNs: number[]; serverNs: number[] }> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const t1 = new Map<bigint, bigint>();
  const offs: number[] = [];
  const srv: number[] = [];
  s.on('message', (m) => {
    const t4 = clock.now();
    const org = m.readBigUInt64BE(24);
    const a = t1.get(org);
    if (a === undefined) return;
    t1.delete(org);
    const t2 = fromNtp64(m.readBigUInt64BE(32), t4);
    const t3 = fromNtp64(m.readBigUInt64BE(40), t4);
    offs.push(Number((t2 - a) + (t3 - t4)) / 2);
    srv.push(Number(t3 - t2));
  });
  // One request at a time, 1 ms apart, so the client's event loop is idle when each reply arrives
  // (a burst would put the client's own queueing into T4).
  for (let i = 0; i < n; i++) {
    const t = clock.now();
    const xmt = toNtp64(t);
    t1.set(xmt, t);
    s.send(request(xmt), port, '127.0.0.1');
    await sleep(1);
  }
  await sleep(300);
  s.close();
  return { offsetsNs: offs, serverNs: srv };
}

/** One million requests from `addrs` distinct source addresses. */
async function manySources(port: number, pid: number, addrs: number, perAddr: number, statusPort: number): Promise<{ rssBeforeKb: number; rssAfterKb: number; received: number; processed: number }> {
  const before = rssKb(pid);
  const received0 = await ntpReceived(statusPort);
  let received = 0;
  const BATCH = 500;
  for (let base = 0; base < addrs; base += BATCH) {
    const socks: Socket[] = [];
    for (let k = base; k < Math.min(addrs, base + BATCH); k++) {
      const a = `127.${1 + ((k >> 16) & 0xff)}.${(k >> 8) & 0xff}.${k & 0xff}`;
      const s = createSocket('udp4');
      s.on('message', () => { received++; });
      s.on('error', () => {});
      await new Promise<void>((r) => s.bind(0, a, () => r()));
      socks.push(s);
    }
    // Paced at about 15 000 requests a second, under the server's ceiling, so the kernel drops nothing.
    for (let j = 0; j < perAddr; j++) {
      for (const s of socks) s.send(request(BigInt(j + 1)), port, '127.0.0.1');
      await sleep(Math.ceil((socks.length / 15000) * 1000));
    }
    await sleep(50);
    for (const s of socks) s.close();
  }
  await sleep(500);
  return { rssBeforeKb: before, rssAfterKb: rssKb(pid), received, processed: (await ntpReceived(statusPort)) - received0 };
}

async function ntpReceived(statusPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${statusPort}/status`);
  return ((await res.json()) as { ntp: { received: number } }).ntp.received;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const med = (xs: number[]) => pct(xs, 0.5);
const r1 = (v: number) => Math.round(v * 10) / 10;

const ours = await startOurs();
const chrony = await startChrony();
try {
  const rates = quick ? [5000] : [10000, 20000, 30000, 40000, 50000, 60000, 80000, 100000, 130000, 160000, 200000, 250000, 300000];
  const secs = quick ? 1 : 2;
  const best = { ours: 0, chrony: 0 };
  const cpu = { ours: NaN, chrony: NaN };
  const done = { ours: false, chrony: false };
  console.log('rate/s        ours: loss   CPU us/req     chronyd: loss   CPU us/req');
  for (const rate of rates) {
    const row: string[] = [String(rate).padStart(7)];
    for (const [name, srv, port] of [['ours', ours, OURS_PORT], ['chrony', chrony, CHRONY_PORT]] as const) {
      if (done[name]) {
        row.push('        -          -');
        continue;
      }
      const r = cLoad ? await loadC(port, rate, secs, srv.pid) : await load(port, rate, secs, srv.pid);
      row.push(`${(100 * r.loss).toFixed(2).padStart(9)} % ${r.cpuUsPerReq.toFixed(1).padStart(9)}`);
      if (r.loss < 0.01) {
        best[name] = rate;
        cpu[name] = r.cpuUsPerReq;
      } else done[name] = true;
      await sleep(300);
    }
    console.log(row.join('      '));
    if (done.ours && done.chrony) break;
  }
  const n = quick ? 1000 : 5000;
  const oo = await offsets(OURS_PORT, n);
  const co = await offsets(CHRONY_PORT, n);
  const abs = (xs: number[]) => xs.map(Math.abs);
  console.log(`client-seen |offset| at 1000/s: ours median ${r1(med(abs(oo.offsetsNs)) / 1000)} us, p99 ${r1(pct(abs(oo.offsetsNs), 0.99) / 1000)} us; ` +
    `chronyd median ${r1(med(abs(co.offsetsNs)) / 1000)} us, p99 ${r1(pct(abs(co.offsetsNs), 0.99) / 1000)} us`);
  console.log(`server T3-T2: ours median ${r1(med(oo.serverNs) / 1000)} us, chronyd median ${r1(med(co.serverNs) / 1000)} us`);
  const addrs = quick ? 2_000 : 100_000;
  const memRequests = quick ? 20_000 : 1_000_000;
  const mem = await manySources(OURS_PORT, ours.pid, addrs, memRequests / addrs, ours.statusPort);
  console.log(`${memRequests} requests sent from ${addrs} addresses, ${mem.processed} processed, ${mem.received} replies: ` +
    `agent RSS ${mem.rssBeforeKb} kB before, ${mem.rssAfterKb} kB after`);
  console.log(JSON.stringify({
    bench: 'ntp', quick, generator: cLoad ? 'c' : 'node', maxRateOurs: best.ours, maxRateChronyd: best.chrony, rateRatio: r1(best.ours / best.chrony * 100) / 100,
    cpuUsPerRequestOurs: r1(cpu.ours), cpuUsPerRequestChronyd: r1(cpu.chrony),
    offsetMedianUsOurs: r1(med(abs(oo.offsetsNs)) / 1000), offsetP99UsOurs: r1(pct(abs(oo.offsetsNs), 0.99) / 1000),
    offsetMedianUsChronyd: r1(med(abs(co.offsetsNs)) / 1000), offsetP99UsChronyd: r1(pct(abs(co.offsetsNs), 0.99) / 1000),
    serverDelayMedianUsOurs: r1(med(oo.serverNs) / 1000), serverDelayMedianUsChronyd: r1(med(co.serverNs) / 1000),
    offsetP99Ratio: r1(pct(abs(oo.offsetsNs), 0.99) / pct(abs(co.offsetsNs), 0.99)),
    memRequests, memProcessed: mem.processed, memSources: addrs, rssBeforeKb: mem.rssBeforeKb, rssAfterKb: mem.rssAfterKb,
  }));
} finally {
  ours.proc.kill('SIGTERM');
  chrony.proc.kill('SIGTERM');
  await sleep(300);
  clock.stop();
  rmSync(tmp, { recursive: true, force: true });
  spawnSync('true');
}
