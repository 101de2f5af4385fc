/**
 * The hostile host: run inside the attacker's network namespace as
 *   node --import tsx test/hostile/flood.ts '<JSON spec>'
 * it sends one bounded flood (at most `maxPackets`, at most `durationMs`), or runs the legitimate NTP
 * client beside one, or measures SNMP's reply sizes, and prints ONE JSON line of what it sent and got.
 * Only to the addresses it is given (the test's namespaces, 192.0.2.0/24).
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { announce, delayReq, garbage, identity, managementGet, ntpRequest, rng, snmpV2c, snmpV3Discovery, PDU } from './packets.ts';

export type FloodSpec =
  | { kind: 'ptp'; what: 'announce' | 'delayreq' | 'management' | 'garbage'; durationMs: number; maxPackets: number; bind: string; target: string; identities: number }
  | { kind: 'ntp-flood'; durationMs: number; maxPackets: number; sources: string[]; socketsPerSource: number; target: string; port: number; perSecond?: number }
  | { kind: 'ntp-client'; durationMs: number; intervalMs: number; bind: string; target: string; port: number }
  | { kind: 'snmp-flood'; durationMs: number; maxPackets: number; sources: string[]; target: string; port: number }
  | { kind: 'snmp-amp'; bind: string; target: string; port: number; community: string };

export interface FloodResult {
  sent: number;
  sentBytes: number;
  received: number;
  receivedBytes: number;
  ms: number;
}

export interface ClientResult {
  sent: number;
  received: number;
  lossPct: number;
  rttMs: { median: number | null; p99: number | null; max: number | null };
  /** The server's T3 - T2 (receive to transmit, its own timestamps): time its requests waited in the
   * socket's queue and were handled. */
  residenceMs: { median: number | null; p99: number | null; max: number | null };
}

export interface AmpCase { type: string; what: string; requestBytes: number; replyBytes: number; replies: number; ratio: number }

const PTP_GROUP = '224.0.1.129';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));

async function open(bind: string, multicast = false): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((res, rej) => {
    s.once('error', rej);
    s.bind(0, bind, () => {
      s.off('error', rej);
      res();
    });
  });
  s.on('error', () => { /* ICMP errors and full buffers: the flood goes on */ });
  if (multicast) {
    s.setMulticastInterface(bind);
    s.setMulticastTTL(1);
  }
  return s;
}

/** Sends `next(i)` as fast as the sockets take it (or `perSecond`), until maxPackets or durationMs;
 * counts replies. */
async function flood(sockets: Socket[], durationMs: number, maxPackets: number,
  next: (i: number) => { s: Socket; buf: Buffer; port: number; address: string }, perSecond = Infinity): Promise<FloodResult> {
  const r: FloodResult = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, ms: 0 };
  for (const s of sockets) s.on('message', (m) => { r.received++; r.receivedBytes += m.length; });
  const t0 = performance.now();
  while (r.sent < maxPackets && performance.now() - t0 < durationMs) {
    // A bounded send queue: the sender never holds more than a few thousand datagrams in memory.
    if (sockets.some((s) => s.getSendQueueCount() > 2000) || r.sent >= ((performance.now() - t0) / 1000) * perSecond) {
      await sleep(1);
      continue;
    }
    for (let k = 0; k < 64 && r.sent < maxPackets; k++) {
      const p = next(r.sent);
      p.s.send(p.buf, p.port, p.address);
      r.sent++;
      r.sentBytes += p.buf.length;
    }
    await tick();
  }
  r.ms = Math.round(performance.now() - t0);
  await sleep(300); // the last replies
  return r;
}

async function ptp(spec: Extract<FloodSpec, { kind: 'ptp' }>): Promise<FloodResult> {
  const s = await open(spec.bind, true);
  const r = rng(spec.what.length * 7919);
  const fixed = identity(1);
  const res = await flood([s], spec.durationMs, spec.maxPackets, (i) => {
    switch (spec.what) {
      case 'announce':
        return { s, buf: announce(identity(i % spec.identities), i & 0xffff), port: 320, address: PTP_GROUP };
      case 'delayreq':
        // Half from one port identity, half each from a new one (past the per-port table).
        return { s, buf: delayReq(i % 2 ? fixed : identity(i), 1, i & 0xffff), port: 319, address: PTP_GROUP };
      case 'management':
        return { s, buf: managementGet(identity(i % spec.identities), i & 0xffff), port: 320, address: PTP_GROUP };
      default: {
        const buf = garbage(r, 120);
        // A third look like PTPv2 (version 2, a known type, a random length) so they get past the first checks.
        if (i % 3 === 0 && buf.length > 4) {
          buf[0] = [0, 1, 8, 9, 11, 13][i % 6]!;
          buf[1] = 2;
          buf.writeUInt16BE(Math.floor(r() * 300), 2);
        }
        return { s, buf, port: i % 2 ? 319 : 320, address: i % 4 < 2 ? PTP_GROUP : spec.target };
      }
    }
  });
  s.close();
  return res;
}

async function ntpFlood(spec: Extract<FloodSpec, { kind: 'ntp-flood' }>): Promise<FloodResult> {
  const sockets: Socket[] = [];
  for (const a of spec.sources) for (let k = 0; k < spec.socketsPerSource; k++) sockets.push(await open(a));
  const r = rng(123);
  const res = await flood(sockets, spec.durationMs, spec.maxPackets, (i) => {
    const s = sockets[i % sockets.length]!;
    // One in eight is garbage (short, long, other modes); the rest are client requests.
    let buf: Buffer;
    if (i % 8 === 7) {
      buf = garbage(r, 200);
      if (buf.length >= 48 && i % 16 === 15) buf[0] = 0x20 | Math.floor(r() * 8); // version 4, any mode
    } else {
      buf = ntpRequest(BigInt(i));
    }
    return { s, buf, port: spec.port, address: spec.target };
  }, spec.perSecond);
  for (const s of sockets) s.close();
  return res;
}

async function ntpClient(spec: Extract<FloodSpec, { kind: 'ntp-client' }>): Promise<ClientResult> {
  const s = await open(spec.bind);
  const sentAt = new Map<bigint, number>();
  const rtts: number[] = [];
  const residence: number[] = [];
  s.on('message', (m) => {
    if (m.length < 48) return;
    const tag = m.readBigUInt64BE(24); // origin: our transmit field, echoed
    const t = sentAt.get(tag);
    if (t === undefined) return;
    sentAt.delete(tag);
    rtts.push(performance.now() - t);
    residence.push(Number(m.readBigUInt64BE(40) - m.readBigUInt64BE(32)) / 2 ** 32 * 1000);
  });
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < spec.durationMs) {
    const tag = 0x5eed_0000_0000_0000n + BigInt(++n);
    sentAt.set(tag, performance.now());
    s.send(ntpRequest(tag), spec.port, spec.target);
    await sleep(spec.intervalMs);
  }
  await sleep(1000); // a reply later than this counts as lost
  s.close();
  const stats = (v: number[]) => {
    const sorted = [...v].sort((a, b) => a - b);
    const q = (p: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 100) / 100 : null);
    return { median: q(0.5), p99: q(0.99), max: q(1) };
  };
  return { sent: n, received: rtts.length, lossPct: Math.round(((n - rtts.length) / Math.max(1, n)) * 10000) / 100, rttMs: stats(rtts), residenceMs: stats(residence) };
}

const SYS_DESCR = '1.3.6.1.2.1.1.1.0';

async function snmpFlood(spec: Extract<FloodSpec, { kind: 'snmp-flood' }>): Promise<FloodResult> {
  const sockets: Socket[] = [];
  for (const a of spec.sources) sockets.push(await open(a));
  const r = rng(4242);
  const res = await flood(sockets, spec.durationMs, spec.maxPackets, (i) => {
    const s = sockets[i % sockets.length]!;
    let buf: Buffer;
    switch (i % 4) {
      case 0: buf = snmpV2c(`guess-${i}`, PDU.GET, i, [SYS_DESCR]); break; // a wrong community
      case 1: buf = snmpV2c('public', PDU.GETBULK, i, ['1.3', '1.3', '1.3'], 0, 1000); break; // the usual guess, a big bulk
      case 2: buf = snmpV3Discovery(i); break;
      default: buf = garbage(r, 300); if (buf.length > 2) buf[0] = 0x30; // BER-looking garbage
    }
    return { s, buf, port: spec.port, address: spec.target };
  });
  for (const s of sockets) s.close();
  return res;
}

/** Each request type once, alone, waiting for its replies: the bytes that come back per byte sent. */
async function snmpAmp(spec: Extract<FloodSpec, { kind: 'snmp-amp' }>): Promise<AmpCase[]> {
  const s = await open(spec.bind);
  let got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  const c = spec.community;
  const times = (n: number, oid: string) => Array<string>(n).fill(oid);
  const cases: [string, string, Buffer][] = [
    ['v2c GET', 'sysDescr.0', snmpV2c(c, PDU.GET, 1, [SYS_DESCR])],
    ['v2c GET', '32 x sysDescr.0', snmpV2c(c, PDU.GET, 2, times(32, SYS_DESCR))],
    ['v2c GET', '256 x sysDescr.0', snmpV2c(c, PDU.GET, 3, times(256, SYS_DESCR))],
    ['v2c GETNEXT', '1.3', snmpV2c(c, PDU.GETNEXT, 4, ['1.3'])],
    ['v2c GETNEXT', '64 x 1.3', snmpV2c(c, PDU.GETNEXT, 5, times(64, '1.3'))],
    ['v2c GETNEXT', '500 x 1.3', snmpV2c(c, PDU.GETNEXT, 6, times(500, '1.3'))],
    ['v2c GETBULK', '1.3, nonRepeaters 0, maxRepetitions 1000', snmpV2c(c, PDU.GETBULK, 7, ['1.3'], 0, 1000)],
    ['v2c GETBULK', '4 x 1.3, nonRepeaters 0, maxRepetitions 1000', snmpV2c(c, PDU.GETBULK, 8, times(4, '1.3'), 0, 1000)],
    ['v2c GETBULK', '16 x 1.3, nonRepeaters 0, maxRepetitions 1000', snmpV2c(c, PDU.GETBULK, 9, times(16, '1.3'), 0, 1000)],
    ['v2c GETBULK', '64 x 1.3, nonRepeaters 32, maxRepetitions 1000', snmpV2c(c, PDU.GETBULK, 10, times(64, '1.3'), 32, 1000)],
    ['v2c GETBULK', '256 x 1.3, nonRepeaters 256, maxRepetitions 0', snmpV2c(c, PDU.GETBULK, 11, times(256, '1.3'), 256, 0)],
    ['v3 discovery', 'empty GET, no engine ID, no user', snmpV3Discovery(12)],
  ];
  const out: AmpCase[] = [];
  for (const [type, what, req] of cases) {
    got = [];
    s.send(req, spec.port, spec.target);
    await sleep(600);
    const replyBytes = got.reduce((a, m) => a + m.length, 0);
    out.push({ type, what, requestBytes: req.length, replyBytes, replies: got.length, ratio: Math.round((replyBytes / req.length) * 100) / 100 });
    await sleep(200); // well under any per-source request rate
  }
  s.close();
  return out;
}

export async function run(spec: FloodSpec): Promise<unknown> {
  switch (spec.kind) {
    case 'ptp': return ptp(spec);
    case 'ntp-flood': return ntpFlood(spec);
    case 'ntp-client': return ntpClient(spec);
    case 'snmp-flood': return snmpFlood(spec);
    case 'snmp-amp': return snmpAmp(spec);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as FloodSpec;
  const res = await run(spec);
  process.stdout.write(`${JSON.stringify(res)}\n`);
}
