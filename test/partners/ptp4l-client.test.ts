/**
 * The ptp4l client over a real Unix datagram socket (the native addon), against a scripted ptp4l of
 * ours bound the same way: recorded responses answered with the request's sequenceId make a whole
 * round; hostile or broken replies give clear errors within the timeout and never throw; a socket
 * nobody listens on is reported at once; only GETs are sent; our socket is removed at close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addon, addonProblem } from '../../src/native/addon.ts';
import { Ptp4lUdsClient, pollPtp4l, ptp4lFacts, privateSocketDir } from '../../src/partners/ptp4l.ts';
import { decode, MGMT_ACTION } from '../../src/ptp/codec.ts';
import { PTP4L_IDS, type Ptp4lDataSet } from '../../src/partners/ptp4l-codec.ts';
import { REC } from './ptp4l-recorded.ts';

const BY_CODE = new Map<number, Ptp4lDataSet>(Object.entries(PTP4L_IDS).map(([k, v]) => [v, k as Ptp4lDataSet]));

/** A scripted ptp4l: `reply(request) -> datagrams` sent back to the sender's path. */
function fakePtp4l(path: string, reply: (req: Buffer, id: Ptp4lDataSet | undefined) => Buffer[]) {
  const requests: Buffer[] = [];
  const h = addon!.unixDgramBind(path, (msg, from) => {
    requests.push(msg);
    const id = msg.length >= 54 ? BY_CODE.get(msg.readUInt16BE(52)) : undefined;
    for (const r of reply(msg, id)) addon!.unixDgramSendTo(h, r, from);
  });
  return { requests, close: () => addon!.unixDgramUnbind(h) };
}

/** The recorded response for id, with the request's sequenceId. */
function answer(req: Buffer, id: Ptp4lDataSet): Buffer {
  const b = Buffer.from(REC[`slave_${id}`], 'hex');
  b.writeUInt16BE(req.readUInt16BE(30), 30);
  return b;
}

test('a whole round over a real Unix datagram socket: GETs only, the recorded answers, our socket private and removed at close', async (t) => {
  if (!addon) {
    if (process.env.CI) throw new Error(`native addon missing: ${addonProblem}`);
    t.skip(`native addon missing: ${addonProblem}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ptp4l-client-'));
  const fake = fakePtp4l(join(dir, 'ptp4l'), (req, id) => (id ? [answer(req, id)] : []));
  const own = privateSocketDir(join(dir, 'state'));
  assert.equal(statSync(own).mode & 0o777, 0o700, 'the private directory is 0700');
  const c = new Ptp4lUdsClient(join(dir, 'ptp4l'), own, 500);
  try {
    const r = await pollPtp4l(c.ask);
    assert.ok(r.ok, `the round: ${r.ok ? '' : r.error}`);
    const f = ptp4lFacts(r.value, 'SLAVE');
    assert.deepEqual([f.portState, f.inExpectedState, f.grandmasterIdentity, f.offsetFromMasterNs], ['SLAVE', true, '126584.fffe.4e0d22', 203], 'the facts');
    assert.equal(fake.requests.length, 6, 'six questions');
    for (const q of fake.requests) {
      const d = decode(q);
      assert.ok(d.ok && d.kind === 'management' && d.management.action === MGMT_ACTION.GET, 'every request is a GET');
    }
    assert.ok(existsSync(c.localPath) && c.localPath.startsWith(own), `our socket in the private dir: ${c.localPath}`);
  } finally {
    c.close();
    fake.close();
  }
  assert.ok(!existsSync(c.localPath), 'our socket is removed at close');
  rmSync(dir, { recursive: true, force: true });
});

test('hostile replies: clear errors within the timeout, never an exception; late or foreign datagrams are ignored and counted', async (t) => {
  if (!addon) {
    if (process.env.CI) throw new Error(`native addon missing: ${addonProblem}`);
    t.skip(`native addon missing: ${addonProblem}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ptp4l-client-'));
  let mode = 'garbage';
  const fake = fakePtp4l(join(dir, 'ptp4l'), (req, id) => {
    const good = answer(req, id ?? 'CURRENT_DATA_SET');
    switch (mode) {
      case 'garbage': return [Buffer.from('not PTP at all, just words')];
      case 'short': return [good.subarray(0, 40)];
      case 'wrong-length': {
        const b = Buffer.from(good);
        b.writeUInt16BE(b.readUInt16BE(50) - 2, 50);
        b.writeUInt16BE(b.length - 2, 2);
        return [b.subarray(0, b.length - 2)];
      }
      case 'other-seq': {
        const b = Buffer.from(good);
        b.writeUInt16BE((req.readUInt16BE(30) + 1) & 0xffff, 30);
        return [b, b, b];
      }
      case 'flood-then-answer': return [...Array.from({ length: 200 }, () => Buffer.alloc(1500, 0x41)), good];
      default: return [];
    }
  });
  const c = new Ptp4lUdsClient(join(dir, 'ptp4l'), privateSocketDir(join(dir, 'state')), 300);
  try {
    const g = await c.ask('CURRENT_DATA_SET');
    assert.ok(!g.ok && /malformed reply/.test(g.error), `garbage: ${JSON.stringify(g)}`);
    mode = 'short';
    const s = await c.ask('CURRENT_DATA_SET');
    assert.ok(!s.ok && /malformed reply/.test(s.error), `short: ${JSON.stringify(s)}`);
    mode = 'wrong-length';
    const w = await c.ask('CURRENT_DATA_SET');
    assert.deepEqual(w, { ok: false, error: 'CURRENT_DATA_SET of 16 octets, linuxptp sends 18' }, 'wrong length');
    mode = 'other-seq';
    const before = c.ignored;
    const o = await c.ask('CURRENT_DATA_SET');
    assert.ok(!o.ok && /no reply from ptp4l at .*\(GET CURRENT_DATA_SET, 300 ms\)/.test(o.error), `other sequence: ${JSON.stringify(o)}`);
    assert.equal(c.ignored - before, 3, 'three foreign replies ignored');
    mode = 'flood-then-answer';
    const f = await c.ask('CURRENT_DATA_SET');
    assert.ok(!f.ok && /malformed reply/.test(f.error), `a flood of junk: the first junk datagram is the answer's error: ${JSON.stringify(f)}`);
    mode = 'silent';
    const n = await c.ask('PORT_DATA_SET', 2);
    assert.ok(!n.ok && /no reply from ptp4l/.test(n.error), `silence: ${JSON.stringify(n)}`);
  } finally {
    c.close();
    fake.close();
  }
  const gone = new Ptp4lUdsClient(join(dir, 'nobody-here'), privateSocketDir(join(dir, 'state')), 300);
  try {
    const r = await gone.ask('DEFAULT_DATA_SET');
    assert.ok(!r.ok && /cannot reach ptp4l at .*nobody-here: no such socket/.test(r.error), `no socket: ${JSON.stringify(r)}`);
    const round = await pollPtp4l(gone.ask);
    assert.ok(!round.ok, 'the round fails');
  } finally {
    gone.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

test('sockets left by a killed agent (its PID gone) are removed; a running agent\'s are kept', (t) => {
  if (!addon) {
    if (process.env.CI) throw new Error(`native addon missing: ${addonProblem}`);
    t.skip(`native addon missing: ${addonProblem}`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ptp4l-client-'));
  const own = privateSocketDir(join(dir, 'state'));
  // A process that has exited: its PID no longer runs.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  assert.ok(deadPid > 0, 'a PID that has exited');
  const stale = join(own, `ptp4l.${deadPid}.deadbeef`);
  const alive = join(own, `ptp4l.${process.ppid}.cafef00d`);
  // Sockets bound and left behind, as a killed process leaves them (python exits without unlinking).
  const py = spawnSync('python3', ['-c', 'import socket,sys\nfor p in sys.argv[1:]:\n  socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(p)', stale, alive]);
  if (py.status !== 0) {
    if (process.env.CI) throw new Error(`python3 could not bind: ${String(py.stderr)}`);
    t.skip('python3 missing');
    return;
  }
  assert.ok(existsSync(stale) && existsSync(alive), 'both left behind');
  const c = new Ptp4lUdsClient('/nonexistent/ptp4l', own);
  c.close();
  assert.ok(!existsSync(stale), 'the dead agent\'s socket is removed');
  assert.ok(existsSync(alive), 'a running process\'s socket is kept');
  rmSync(dir, { recursive: true, force: true });
});
