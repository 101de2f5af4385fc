/**
 * The SNMP agent against Net-SNMP's own tools: snmpwalk and snmpget, v2c and v3 (SHA-256/AES), values
 * matching Status; every failure mode an NMS operator will meet; hostile input that must not crash it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { requirePeers, SHARED, ROOT } from '../helpers/env.ts';
import { resolve } from 'node:path';
import { V4_SCALARS } from '../../src/snmp/ntpv4-mib.ts';
import { startAgent, type RunningAgent } from '../helpers/agent.ts';
import { allScalars, allTables } from '../../src/snmp/mib.ts';
import { DEFAULT_ROOT } from '../../src/snmp/smi.ts';
import { freeUdpPort } from '../helpers/ports.ts';

const V3 = ['-v3', '-l', 'authPriv', '-u', 'nms', '-a', 'SHA-256', '-A', 'auth-pass-123', '-x', 'AES', '-X', 'priv-pass-123'];


async function withAgent(fn: (a: RunningAgent, port: number) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'snmp-'));
  const port = await freeUdpPort();
  writeFileSync(join(dir, 'c.yaml'), [
    'receiver:', '  source: simulator',
    'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0',
    'ntp:', '  addresses: [127.0.0.1]', '  port: 0',
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${port}`, '  communities: [ro-community-x]',
    // 127.0.0.3 and 127.0.0.4 are allowed too: the fuzzer and the guesser send from there, so their
    // guessing does not get 127.0.0.1 refused (a source that keeps guessing communities is not heard).
    '  v2c_allow: [127.0.0.1/32, 127.0.0.3/32, 127.0.0.4/32]', '  location: "rack 4"', '  contact: "noc@example.org"',
    '  users:', '    - { name: nms, auth_key: auth-pass-123, priv_key: priv-pass-123 }',
    'agent:', `  state_dir: ${JSON.stringify(dir)}`, '',
  ].join('\n'));
  const a = await startAgent(join(dir, 'c.yaml'));
  try {
    await fn(a, port);
  } finally {
    await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function snmp(cmd: string, port: number, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, ['-m', '', '-On', '-t', '1', '-r', '0', ...args.slice(0, -1), `127.0.0.1:${port}`, args.at(-1)!], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function parseWalk(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const x = /^\.(\S+) = (?:[A-Za-z0-9-]+: )?(.*)$/.exec(line);
    if (x) m.set(x[1]!, x[2]!.replace(/^"|"$/g, ''));
  }
  return m;
}

test('snmpwalk v2c and v3 (SHA-256/AES): every declared object is served, values match Status', async (t) => {
  if (!requirePeers(t, 'snmpwalk', 'snmpget')) return;
  await withAgent(async (a, port) => {
    await a.waitFor((s) => s.gnss.satellitesInView > 0 && s.discipline.state !== 'FREERUN', 30_000, 'a sky and samples');
    // No trap receiver configured: a test trap says nothing was sent (it said "sent" before).
    const tt = (await (await fetch(a.statusUrl.replace(/\/status$/, '/traps/test'), { method: 'POST' })).json()) as { error?: string; sent?: string[] };
    assert.match(tt.error ?? '', /no trap receivers configured/);
    // The agent refreshes its values from Status once a second: let it, then compare the walk with
    // Status read just before and just after it (a value must equal one of them).
    await new Promise((r) => setTimeout(r, 1500));
    const before = await a.status();
    const v2 = snmp('snmpwalk', port, ['-v2c', '-c', 'ro-community-x', DEFAULT_ROOT]);
    assert.equal(v2.status, 0, v2.out);
    const st = await a.status();
    const either = (got: unknown, f: (x: typeof st) => unknown, what: string) =>
      assert.ok(got === f(st) || got === f(before), `${what}: walked ${String(got)}, Status ${String(f(before))} then ${String(f(st))}`);
    const w = parseWalk(v2.out);
    // Every scalar the definition declares is there, and nothing else than what it declares.
    const declared = new Set(allScalars().map((s) => `${DEFAULT_ROOT}.${s.oid.join('.')}.0`));
    for (const oid of declared) assert.ok(w.has(oid), `missing ${oid}`);
    const tableCols = allTables().flatMap((tb) => tb.def.columns.filter((c) => !c.index).map((c) => `${DEFAULT_ROOT}.${tb.oid.join('.')}.1.${c.sub}.`));
    for (const oid of w.keys()) assert.ok(declared.has(oid) || tableCols.some((p) => oid.startsWith(p)), `served but not declared: ${oid}`);
    const val = (name: string) => {
      const s = allScalars().find((x) => x.def.name === name)!;
      return w.get(`${DEFAULT_ROOT}.${s.oid.join('.')}.0`);
    };
    assert.equal(val('s1AgentName'), st.agent.name);
    assert.equal(val('s1AgentSimulated'), '1');
    either(Number(val('s1GnssSatellitesInView')), (x) => x.gnss.satellitesInView, 'satellites in view');
    either(Number(val('s1GnssFixMode')), (x) => x.gnss.fixMode, 'fix mode');
    // The simulated position wanders (metres over a minute, like a real fix): the walk may have read a
    // second between the two snapshots, so the altitude must be near one of them, within 3 m.
    const alt = Number(val('s1GnssAltitude'));
    const near = [before, st].map((x) => Math.abs(alt - Math.round((x.gnss.altitudeMslM ?? 0) * 100)));
    assert.ok(Math.min(...near) <= 300, `altitude: walked ${alt} cm, Status ${before.gnss.altitudeMslM} then ${st.gnss.altitudeMslM} m`);
    either(Number(val('s1DisciplineStratum')), (x) => x.discipline.stratum, 'stratum');
    either(val('s1DisciplineRefId'), (x) => x.discipline.refId, 'refid');
    // Satellite table: one row per satellite in view.
    const satRows = [...w.keys()].filter((k) => k.startsWith(tableCols[1]!)).length;
    either(satRows, (x) => x.gnss.satellites.length, 'satellite rows');
    // The system group.
    const sys = parseWalk(snmp('snmpwalk', port, ['-v2c', '-c', 'ro-community-x', '1.3.6.1.2.1.1']).out);
    assert.equal(sys.get('1.3.6.1.2.1.1.2.0'), `.${DEFAULT_ROOT}`);
    assert.equal(sys.get('1.3.6.1.2.1.1.5.0'), st.agent.name);
    assert.equal(sys.get('1.3.6.1.2.1.1.6.0'), 'rack 4');
    assert.equal(sys.get('1.3.6.1.2.1.1.4.0'), 'noc@example.org');
    assert.match(sys.get('1.3.6.1.2.1.1.1.0') ?? '', /^stratum1-agent /);
    // v3 authPriv reads the same tree.
    const v3 = snmp('snmpwalk', port, [...V3, DEFAULT_ROOT]);
    assert.equal(v3.status, 0, v3.out);
    assert.equal(parseWalk(v3.out).size, w.size);
  });
});

test('wrong community, wrong password, unknown user, v2c from outside the allowed networks, and writes all fail', async (t) => {
  if (!requirePeers(t, 'snmpget', 'snmpset')) return;
  await withAgent(async (_a, port) => {
    const sysName = '1.3.6.1.2.1.1.5.0';
    assert.equal(snmp('snmpget', port, ['-v2c', '-c', 'ro-community-x', sysName]).status, 0);
    const wrongCommunity = snmp('snmpget', port, ['-v2c', '-c', 'public', sysName]);
    assert.notEqual(wrongCommunity.status, 0);
    assert.match(wrongCommunity.out, /Timeout/);
    const wrongPass = snmp('snmpget', port, ['-v3', '-l', 'authPriv', '-u', 'nms', '-a', 'SHA-256', '-A', 'not-the-pass', '-x', 'AES', '-X', 'priv-pass-123', sysName]);
    assert.notEqual(wrongPass.status, 0);
    const unknown = snmp('snmpget', port, ['-v3', '-l', 'authPriv', '-u', 'mallory', '-a', 'SHA-256', '-A', 'auth-pass-123', '-x', 'AES', '-X', 'priv-pass-123', sysName]);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.out, /Unknown user name/);
    // The right community from a source outside v2c_allow (127.0.0.2): dropped.
    const outside = spawnSync('snmpget', ['-m', '', '-t', '1', '-r', '0', '--clientaddr=127.0.0.2', '-v2c', '-c', 'ro-community-x', `127.0.0.1:${port}`, sysName], { encoding: 'utf8' });
    assert.notEqual(outside.status, 0, outside.stdout);
    assert.match(`${outside.stdout}${outside.stderr}`, /Timeout/);
    // v3 from there is fine: the gate is for community-based access.
    const v3outside = spawnSync('snmpget', ['-m', '', '-t', '1', '-r', '0', '--clientaddr=127.0.0.2', ...V3, `127.0.0.1:${port}`, sysName], { encoding: 'utf8' });
    assert.equal(v3outside.status, 0, v3outside.stderr);
    // Read-only: a set is refused.
    const set = spawnSync('snmpset', ['-m', '', '-t', '1', '-r', '0', ...V3, `127.0.0.1:${port}`, sysName, 's', 'pwned'], { encoding: 'utf8' });
    assert.notEqual(set.status, 0, set.stdout);
    assert.match(`${set.stdout}${set.stderr}`, /notWritable|noAccess|readOnly|Error/i);
    assert.equal(snmp('snmpget', port, ['-v2c', '-c', 'ro-community-x', sysName]).out.includes('pwned'), false);
  });
});

test('hostile input (malformed BER, oversize, huge GetBulk) never crashes the agent', async (t) => {
  if (!requirePeers(t, 'snmpbulkget', 'snmpget')) return;
  await withAgent(async (a, port) => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.3', () => r()));
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    // A valid v2c GetRequest for sysName.0 (community ro-community-x), to mutate. First, it is answered.
    const good = Buffer.from('302e020101040e726f2d636f6d6d756e6974792d78a019020101020100020100300e300c06082b060102010105000500', 'hex');
    const answered = new Promise<boolean>((res) => {
      s.once('message', () => res(true));
      setTimeout(() => res(false), 2000);
    });
    s.send(good, port, '127.0.0.1');
    assert.ok(await answered, 'the unmutated request is answered');
    const sends: Buffer[] = [Buffer.alloc(0), Buffer.from([0x30]), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(60000, 0x30)];
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      sends.push(rnd() < 0.1 ? Buffer.concat([b, Buffer.alloc(Math.floor(rnd() * 100))]) : b.subarray(0, Math.floor(rnd() * b.length) + 1));
    }
    for (const b of sends) s.send(b, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 1000));
    s.close();
    // Huge repetitions: answered, but capped.
    const bulk = snmp('snmpbulkget', port, ['-v2c', '-c', 'ro-community-x', '-Cr2147483647', DEFAULT_ROOT]);
    assert.equal(bulk.status, 0, bulk.out);
    const rows = bulk.out.trim().split('\n').length;
    assert.ok(rows <= 50, `${rows} varbinds in a bulk response`);
    // Still alive and answering.
    assert.equal(snmp('snmpget', port, ['-v2c', '-c', 'ro-community-x', '1.3.6.1.2.1.1.5.0']).status, 0);
    assert.equal(a.proc.exitCode, null);
  });
});

test('community guessing is bounded, and a non-minimal BER version does not slip past the v2c source gate', async (t) => {
  // Found under attack: 25 000 guesses a second with no limit; and the gate read only the one-octet
  // version encoding, so a v2c request from outside v2c_allow with a two-octet version was answered.
  if (!requirePeers(t, 'snmpget')) return;
  await withAgent(async (a, port) => {
    const sysName = '1.3.6.1.2.1.1.5.0';
    const request = (community: string, version = Buffer.from([0x02, 0x01, 0x01])) => {
      const c = Buffer.from(community);
      const pdu = Buffer.from('a019020101020100020100300e300c06082b060102010105000500', 'hex');
      const body = Buffer.concat([version, Buffer.from([0x04, c.length]), c, pdu]);
      return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    };
    const ask = async (from: string, msg: Buffer) => {
      const s = createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, from, () => r()));
      const got = new Promise<boolean>((res) => {
        s.once('message', () => res(true));
        setTimeout(() => res(false), 1000);
      });
      s.send(msg, port, '127.0.0.1');
      const r = await got;
      s.close();
      return r;
    };
    assert.equal(await ask('127.0.0.4', request('ro-community-x')), true, 'the right community is answered');
    assert.equal(await ask('127.0.0.4', request('ro-community-x', Buffer.from([0x02, 0x02, 0x00, 0x01]))), true, 'a two-octet version is still v2c');
    // From outside v2c_allow, the two-octet version is v2c too: dropped.
    assert.equal(await ask('127.0.0.2', request('ro-community-x', Buffer.from([0x02, 0x02, 0x00, 0x01]))), false);
    // 500 guesses from one source: it is not heard for a while, even with the right community.
    const g = createSocket('udp4');
    await new Promise<void>((r) => g.bind(0, '127.0.0.4', () => r()));
    for (let i = 0; i < 500; i++) g.send(request(`guess-${i}`), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 500));
    g.close();
    assert.equal(await ask('127.0.0.4', request('ro-community-x')), false, 'a guessing source is refused');
    // Others are not affected.
    assert.equal(snmp('snmpget', port, ['-v2c', '-c', 'ro-community-x', sysName]).status, 0);
    const st = await a.waitFor((x) => x.snmp.badCommunity >= 10, 3000, 'the guesses counted');
    assert.ok(st.snmp.guessingRefused >= 1, `refused ${st.snmp.guessingRefused}`);
    assert.ok(st.snmp.badCommunity <= 20, `${st.snmp.badCommunity} wrong communities reached the check: the rest were refused unread`);
  });
});

test('NTPv4-MIB (RFC 5907): every object resolves by name in the RFC\'s module and matches Status', async (t) => {
  if (!requirePeers(t, 'snmpwalk', 'snmptranslate')) return;
  await withAgent(async (a, port) => {
    await a.waitFor((s) => s.discipline.state !== 'FREERUN', 30_000, 'samples');
    await new Promise((r) => setTimeout(r, 1500));
    const mibs = ['-M', `${resolve(SHARED, 'reference')}:${resolve(ROOT, 'node_modules/net-snmp/lib/mibs')}`, '-m', 'NTPv4-MIB'];
    const r = spawnSync('snmpwalk', [...mibs, '-v2c', '-c', 'ro-community-x', '-t', '1', '-r', '0', `127.0.0.1:${port}`, '1.3.6.1.2.1.197'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const st = await a.status();
    const lines = r.stdout.trim().split('\n');
    // Every line decoded by name from the RFC's module (no numeric leftovers).
    for (const l of lines) assert.match(l, /^NTPv4-MIB::ntp\w+\.[\w.]+ = /, l);
    for (const sc of V4_SCALARS) assert.ok(lines.some((l) => l.startsWith(`NTPv4-MIB::${sc.name}.0 = `)), `${sc.name} served`);
    const get = (name: string) => lines.find((l) => l.startsWith(`NTPv4-MIB::${name}`))?.split(' = ')[1];
    assert.equal(get('ntpEntStatusStratum.0'), `Gauge32: ${st.discipline.stratum}`);
    assert.match(get('ntpEntStatusCurrentMode.0') ?? '', st.discipline.synchronized ? /syncToRefclock\(5\)/ : /notSynchronized\(2\)/);
    assert.equal(get('ntpEntTimePrecision.0'), `INTEGER: ${st.ntp.precisionLog2}`);
    assert.equal(get('ntpAssocRefId.1'), 'STRING: GPS');
    assert.equal(get('ntpAssocAddress.1'), 'Hex-STRING: 7F 7F 16 00 ');
    assert.match(get('ntpEntStatPktReceived.client') ?? '', /^Counter32: \d+/);
    assert.match(get('ntpEntNotifBits.0') ?? '', /entNotifModeChange\(1\) entNotifStratumChange\(2\) entNotifSyspeerChanged\(3\) entNotifLeapSecondAnnounced\(7\)/);
  });
});
