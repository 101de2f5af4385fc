/**
 * The SNMP agent's defences that net-snmp lacks, tried with Net-SNMP's own tools and raw datagrams:
 * RFC 3414 timeliness (a captured request replayed later, after a restart, or to another engine is
 * refused with a Report), SET answered as RFC 3416 says for a read-only agent, request IDs outside
 * INTEGER dropped instead of thrown on, v1/v2c replies held to a multiple of their request, Reports and
 * each source's requests rate limited. The agent runs in this process on a monotonic clock the test
 * moves, so 150 s of snmpEngineTime pass at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SnmpAgent, type SnmpAgentOptions } from '../../src/snmp/agent.ts';
import { timeliness, EngineClock, TIME_WINDOW_S } from '../../src/snmp/usm.ts';
import { nextEngineBoots } from '../../src/snmp/engine-id.ts';
import { simConfig, virtualService } from '../helpers/virtual.ts';
import { defaultConfig } from '../../src/config/config.ts';
import { requirePeers } from '../helpers/env.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { v4Context } from '../../src/snmp/ntpv4-mib.ts';

const USER = { name: 'nms', auth: 'sha256' as const, authKey: 'auth-pass-123', priv: 'aes' as const, privKey: 'priv-pass-123' };
const V3 = ['-v3', '-l', 'authPriv', '-u', 'nms', '-a', 'SHA-256', '-A', 'auth-pass-123', '-x', 'AES', '-X', 'priv-pass-123'];
const SYS_NAME = '1.3.6.1.2.1.1.5.0';
/** The default snmp.max_reply_ratio: what a v1/v2c reply may be, times its request. */
const RATIO = defaultConfig().snmp.max_reply_ratio;
/** usmStatsNotInTimeWindows.0 and usmStatsUnknownEngineIDs.0, as BER OID contents. */
const NOT_IN_TIME_WINDOW = Buffer.from('2b060106030f01010200', 'hex');
const UNKNOWN_ENGINE_ID = Buffer.from('2b060106030f01010400', 'hex');

test('timeliness: our engine ID, our boots, and a time within 150 s; boots counted per engine ID across starts', (t) => {
  const id = Buffer.from('80001f8804aabbccdd', 'hex');
  const ours = { engineId: id, boots: 3, time: 1000 };
  assert.equal(timeliness(ours, { engineId: id, boots: 3, time: 1000 + TIME_WINDOW_S }), 'ok');
  assert.equal(timeliness(ours, { engineId: id, boots: 3, time: 1000 - TIME_WINDOW_S - 1 }), 'notInTimeWindow');
  assert.equal(timeliness(ours, { engineId: id, boots: 2, time: 1000 }), 'notInTimeWindow');
  assert.equal(timeliness({ ...ours, boots: 2 ** 31 - 1 }, { engineId: id, boots: 2 ** 31 - 1, time: 1000 }), 'notInTimeWindow', 'boots at its maximum: never in time');
  assert.equal(timeliness(ours, { engineId: Buffer.from('80001f8804aabbccde', 'hex'), boots: 3, time: 1000 }), 'unknownEngineID');
  let now = 5.7;
  const clock = new EngineClock(4, () => now);
  now += 151.9;
  assert.equal(clock.time, 151);

  const dir = mkdtempSync(join(tmpdir(), 'usm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual([1, 2, 3].map(() => nextEngineBoots('80001f8804aa', dir)), [1, 2, 3]);
  assert.equal(nextEngineBoots('80001f8804bb', dir), 1, 'a new engine ID starts the count again');
  assert.equal((readFileSync(join(dir, 'snmp-engine-boots'), 'utf8')), '80001f8804bb 1\n');
  // A state directory that cannot be written (here: under a file): the start is counted, and said.
  writeFileSync(join(dir, 'file'), '');
  const warned: string[] = [];
  assert.equal(nextEngineBoots('80001f8804bb', join(dir, 'file', 'state'), (m) => warned.push(m)), 1);
  assert.match(warned[0] ?? '', /replay protection across restarts needs a writable state directory/);
});

interface Harness {
  agent: SnmpAgent;
  port: number;
  advance(s: number): void;
  stop(): Promise<void>;
}

async function startAgent(o: Partial<SnmpAgentOptions> = {}): Promise<Harness> {
  const { svc, clock } = virtualService(simConfig());
  let monoS = 1000;
  const port = await freeUdpPort();
  const agent = new SnmpAgent({
    address: '127.0.0.1', port, root: '1.3.6.1.4.1.8072.9999.9999', engineId: '80001f880401020304050607', communities: ['ro-community-x'],
    v2cAllow: ['127.0.0.0/8'], users: [USER], system: { descr: 'test agent', contact: '', name: 'stratum1', location: '' },
    maxRequestBytes: 4096, maxRepetitions: 50, requestsPerSecond: 0, maxReplyRatio: RATIO, reportsPerSecond: 50, engineBoots: 1, ...o,
  }, () => svc.status(), () => {}, (st) => v4Context(st, () => clock.now(), 0), () => monoS);
  await agent.start();
  return { agent, port, advance: (s) => { monoS += s; }, stop: () => agent.stop() };
}

/** Net-SNMP's tools are run asynchronously: the agent answers from this process's event loop. */
function tool(cmd: string, port: number, args: string[], tail = 1): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, ['-m', '', '-On', '-t', '1', '-r', '0', ...args.slice(0, -tail), `127.0.0.1:${port}`, ...args.slice(-tail)]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('close', (status) => resolve({ status, out }));
  });
}

/** A relay between a tool and the agent that keeps every datagram the tool sent. */
async function relay(to: number): Promise<{ port: number; sent: Buffer[]; close(): void }> {
  const s = createSocket('udp4');
  const sent: Buffer[] = [];
  let client: { address: string; port: number } | undefined;
  s.on('message', (m, r) => {
    if (r.port === to) {
      if (client) s.send(m, client.port, client.address);
      return;
    }
    client = { address: r.address, port: r.port };
    sent.push(Buffer.from(m));
    s.send(m, to, '127.0.0.1');
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, sent, close: () => s.close() };
}

async function bound(from = '127.0.0.1'): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, from, () => r()));
  return s;
}

/** Sends one datagram and collects the replies for a while. */
async function exchange(msg: Buffer, port: number, waitMs = 300, from = '127.0.0.1'): Promise<Buffer[]> {
  const s = await bound(from);
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  s.send(msg, port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, waitMs));
  s.close();
  return got;
}

test('a captured SNMPv3 request is refused when replayed after 150 s, after a restart, or to another engine; managers resynchronise', async (t) => {
  if (!requirePeers(t, 'snmpget')) return;
  const a = await startAgent();
  const r = await relay(a.port);
  t.after(async () => {
    r.close();
    await a.stop();
  });
  const first = await tool('snmpget', r.port, [...V3, SYS_NAME]);
  assert.equal(first.status, 0, first.out);
  assert.match(first.out, /STRING: "stratum1"/);
  // The last datagram is the authenticated, encrypted GetRequest (the first was discovery).
  const captured = r.sent.at(-1)!;
  assert.ok(r.sent.length >= 2, `${r.sent.length} datagrams seen`);

  // Within the window a replay is answered (RFC 3414 accepts it: the window is the defence), and not
  // with a Report.
  const soon = await exchange(captured, a.port);
  assert.equal(soon.length, 1);
  assert.equal(soon[0]!.includes(NOT_IN_TIME_WINDOW), false);

  a.advance(TIME_WINDOW_S + 1);
  const late = await exchange(captured, a.port);
  assert.equal(late.length, 1, 'a Report comes back');
  assert.ok(late[0]!.includes(NOT_IN_TIME_WINDOW), 'usmStatsNotInTimeWindows: the replay is refused');
  assert.equal(a.agent.stats.notInTimeWindow, 1);
  // A manager starting now still gets its answer: discovery gives it our boots and time.
  const again = await tool('snmpget', a.port, [...V3, SYS_NAME]);
  assert.equal(again.status, 0, again.out);

  // The same engine started again (boots 2, time from 0): the capture is refused.
  await a.stop();
  const restarted = await startAgent({ engineBoots: 2 });
  const afterRestart = await exchange(captured, restarted.port);
  assert.ok(afterRestart[0]?.includes(NOT_IN_TIME_WINDOW), 'refused after a restart');
  assert.equal((await tool('snmpget', restarted.port, [...V3, SYS_NAME])).status, 0);
  await restarted.stop();

  // Another box with the same user and passphrases (a fleet): the capture names the first engine.
  const other = await startAgent({ engineId: '80001f8804aaaaaaaaaaaaaa' });
  const elsewhere = await exchange(captured, other.port);
  assert.ok(elsewhere[0]?.includes(UNKNOWN_ENGINE_ID), 'usmStatsUnknownEngineIDs: not answered for another engine');
  assert.equal(other.agent.stats.unknownEngineId, 1);
  assert.equal((await tool('snmpget', other.port, [...V3, SYS_NAME])).status, 0);
  await other.stop();
});

/** A v2c message with one PDU, built from its parts. */
function v2c(pduType: number, requestId: Buffer, varbinds: Buffer[], community = 'ro-community-x', errs = [0, 0]): Buffer {
  const tlv = (tag: number, body: Buffer) => {
    const len = body.length < 128 ? Buffer.from([body.length]) : body.length < 256 ? Buffer.from([0x81, body.length]) : Buffer.from([0x82, body.length >> 8, body.length & 255]);
    return Buffer.concat([Buffer.from([tag]), len, body]);
  };
  const pdu = tlv(pduType, Buffer.concat([requestId, tlv(2, Buffer.from([errs[0]!])), tlv(2, Buffer.from([errs[1]!])), tlv(0x30, Buffer.concat(varbinds))]));
  return tlv(0x30, Buffer.concat([tlv(2, Buffer.from([1])), tlv(4, Buffer.from(community)), pdu]));
}
/** The error-status of a v1/v2c response: the second INTEGER inside the PDU. */
function errorStatus(b: Buffer): number {
  const tlv = (at: number) => {
    let len = b[at + 1]!;
    let head = 2;
    if (len & 0x80) {
      head += len & 0x7f;
      len = b.subarray(at + 2, at + head).reduce((v, x) => v * 256 + x, 0);
    }
    return { tag: b[at]!, body: at + head, end: at + head + len };
  };
  const msg = tlv(0);
  const version = tlv(msg.body);
  const community = tlv(version.end);
  const pdu = tlv(community.end);
  assert.equal(pdu.tag, 0xa2, 'a response PDU');
  const requestId = tlv(pdu.body);
  const status = tlv(requestId.end);
  return b.subarray(status.body, status.end).reduce((v, x) => v * 256 + x, 0);
}
const varbind = (oidHex: string, value = Buffer.from([0x05, 0x00])) => {
  const oid = Buffer.from(oidHex, 'hex');
  const body = Buffer.concat([Buffer.from([0x06, oid.length]), oid, value]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
};

test('SET: notWritable for an object that exists, noCreation for one that does not; a request ID outside INTEGER is dropped, not thrown on', async (t) => {
  if (!requirePeers(t, 'snmpset')) return;
  const a = await startAgent();
  t.after(() => a.stop());
  const exists = await tool('snmpset', a.port, [...V3, SYS_NAME, 's', 'x'], 3);
  assert.match(exists.out, /notWritable/);
  const missing = await tool('snmpset', a.port, [...V3, '1.3.6.1.4.1.8072.9999.9999.42.0', 's', 'x'], 3);
  assert.match(missing.out, /noCreation/);
  assert.match((await tool('snmpset', a.port, ['-v2c', '-c', 'ro-community-x', '1.3.6.1.2.1.1.99.0', 'i', '1'], 3)).out, /noCreation/);
  assert.match((await tool('snmpset', a.port, ['-v1', '-c', 'ro-community-x', '1.3.6.1.2.1.1.99.0', 'i', '1'], 3)).out, /noSuchName/);
  // Request ID 2^32-1 in five octets: net-snmp read it, then threw writing the answer (for a SET, where
  // only the process-wide handler caught it). Now it is not answered and counted as malformed.
  const huge = Buffer.from([0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff]);
  const sysNameVb = varbind('2b06010201010500', Buffer.from([0x04, 0x01, 0x41]));
  for (const pduType of [0xa3, 0xa0, 0xa1]) {
    assert.deepEqual(await exchange(v2c(pduType, huge, [sysNameVb]), a.port, 200), []);
  }
  assert.equal(a.agent.stats.droppedMalformed, 3);
  // The largest valid ID is answered.
  const max = await exchange(v2c(0xa3, Buffer.from([0x02, 0x04, 0x7f, 0xff, 0xff, 0xff]), [sysNameVb]), a.port, 200);
  assert.equal(max.length, 1);
});

test('amplification: v1/v2c replies stay within max_reply_ratio, Reports are capped each second, a source over its rate is not heard', async (t) => {
  if (!requirePeers(t, 'snmpbulkwalk', 'snmpget')) return;
  // A long sysDescr (200 octets), as a vendor string can be: the object amplification is made of.
  const a = await startAgent({ requestsPerSecond: 100, reportsPerSecond: 20, system: { descr: 'd'.repeat(200), contact: '', name: 'stratum1', location: '' } });
  t.after(() => a.stop());
  const id = Buffer.from([0x02, 0x01, 0x07]);
  // GetBulk from sysObjectID on (short values), 50 repetitions asked: fewer rows, within the ratio.
  // (Messages on every assert.ok here: without one, Node reads the failing expression back from the
  // source, and under tsx it read the wrong place and once never returned.)
  const bulkReq = v2c(0xa5, id, [varbind('2b06010201010200')], 'ro-community-x', [0, 50]);
  const bulk = await exchange(bulkReq, a.port);
  assert.equal(bulk.length, 1);
  t.diagnostic(`GetBulk: ${bulkReq.length} B in, ${bulk[0]!.length} B out (max_reply_ratio ${RATIO})`);
  assert.ok(bulk[0]!.length <= RATIO * bulkReq.length, `${bulk[0]!.length} B out for ${bulkReq.length} B in`);
  assert.ok(bulk[0]!.length > 2 * bulkReq.length, 'more than one row still fits');
  // Non-repeaters beyond the bindings, and 200 one-arc bindings: tooBig instead of 200 answers.
  const many = Array.from({ length: 200 }, () => varbind('2b06'));
  const nonRep = v2c(0xa5, id, many, 'ro-community-x', [127, 0]);
  const nonRepReply = await exchange(nonRep, a.port);
  assert.equal(nonRepReply.length, 1);
  assert.ok(nonRepReply[0]!.length <= RATIO * nonRep.length, `${nonRepReply[0]!.length} B out for ${nonRep.length} B in`);
  const next = v2c(0xa1, id, many);
  const nextReply = await exchange(next, a.port);
  assert.ok(nextReply[0]!.length <= RATIO * next.length, `${nextReply[0]!.length} B out for ${next.length} B in`);
  // 200 GetNexts answered with sysDescr.0 would be 20 times the request: tooBig, with no bindings.
  const descr = Array.from({ length: 200 }, () => varbind('2b060102010101'));
  const tooBig = await exchange(v2c(0xa1, id, descr), a.port);
  assert.equal(errorStatus(tooBig[0]!), 1, 'error-status tooBig');
  assert.ok(tooBig[0]!.length < 64, `${tooBig[0]!.length} B`);
  assert.ok(a.agent.stats.repliesCapped >= 2, `${a.agent.stats.repliesCapped} capped`);
  // One object is always answered, over the ratio or not.
  const one = v2c(0xa0, id, [varbind('2b06010201010100')]);
  const oneReply = await exchange(one, a.port);
  assert.equal(errorStatus(oneReply[0]!), 0);
  assert.ok(oneReply[0]!.length > RATIO * one.length, `${oneReply[0]!.length} B: one object, answered over the ratio`);
  // A walk still works (more round trips).
  const walk = await tool('snmpbulkwalk', a.port, ['-v2c', '-c', 'ro-community-x', '1.3.6.1.2.1.1']);
  assert.equal(walk.status, 0, walk.out);
  assert.ok(walk.out.trim().split('\n').length >= 7, walk.out);

  // SNMPv3 discovery probes (no engine ID, reportable), as snmpget sends them: 200 at once, at most 20 Reports.
  const r = await relay(a.port);
  assert.equal((await tool('snmpget', r.port, [...V3, SYS_NAME])).status, 0);
  r.close();
  const probe = r.sent[0]!;
  const s = await bound('127.0.0.6');
  let reports = 0;
  let reportBytes = 0;
  s.on('message', (m) => { reports++; reportBytes = m.length; });
  for (let i = 0; i < 200; i++) s.send(probe, a.port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 500));
  s.close();
  t.diagnostic(`discovery: ${probe.length} B in, ${reportBytes} B out; ${reports} Reports for 200 probes`);
  assert.ok(reports >= 1 && reports <= 21, `${reports} Reports`);
  assert.ok(a.agent.stats.reportsCapped >= 1, `${a.agent.stats.reportsCapped} capped`);

  // 1000 GETs from one source at once: about the burst (200) is heard; another source is unaffected.
  const get = v2c(0xa0, id, [varbind('2b06010201010500')]);
  const flood = await bound('127.0.0.7');
  let answered = 0;
  flood.on('message', () => { answered++; });
  for (let i = 0; i < 1000; i++) flood.send(get, a.port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 500));
  flood.close();
  t.diagnostic(`per-source limit: ${answered} of 1000 answered, ${a.agent.stats.rateLimited} refused unread`);
  assert.ok(answered >= 100 && answered <= 300, `${answered} answered`);
  assert.ok(a.agent.stats.rateLimited >= 1, `${a.agent.stats.rateLimited} refused`);
  assert.equal((await exchange(get, a.port, 300, '127.0.0.8')).length, 1);
});

test('the requests Net-SNMP sends are answered in full under the default caps', async (t) => {
  if (!requirePeers(t, 'snmpwalk', 'snmpget')) return;
  const a = await startAgent();
  t.after(() => a.stop());
  const walk3 = await tool('snmpwalk', a.port, [...V3, '1.3.6.1.2.1.1']);
  const walk2 = await tool('snmpwalk', a.port, ['-v2c', '-c', 'ro-community-x', '1.3.6.1.2.1.1']);
  assert.equal(walk3.status, 0, walk3.out);
  const oids = (out: string) => out.trim().split('\n').map((l) => l.split(' = ')[0]);
  assert.deepEqual(oids(walk2.out), oids(walk3.out), 'v2c (capped) and v3 (not capped) walks return the same objects');
  const several = await tool('snmpget', a.port, ['-v2c', '-c', 'ro-community-x', '1.3.6.1.2.1.1.1.0', '1.3.6.1.2.1.1.5.0', '1.3.6.1.2.1.1.3.0'], 3);
  assert.equal(several.status, 0, several.out);
  assert.equal(several.out.trim().split('\n').length, 3);
});
