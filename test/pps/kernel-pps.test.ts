/**
 * The kernel PPS reader against files laid out like the kernel's sysfs class
 * (/sys/class/pps/ppsN/assert holding "SECONDS.NANOSECONDS#SEQUENCE"), through the pulse gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClock, NS_PER_S } from '../../src/time/index.ts';
import { KernelPpsSource } from '../../src/pps/sysfs.ts';
import { PpsMonitor } from '../../src/pps/monitor.ts';
import { parseSysfsTimestamp, type PpsEdge } from '../../src/pps/edge.ts';
import type { AgentEvent } from '../../src/status/events.ts';

const T0 = 1_764_072_000n * NS_PER_S; // a whole second

function fixture() {
  const root = mkdtempSync(join(tmpdir(), 'pps-'));
  mkdirSync(join(root, 'pps0'));
  const write = (sec: bigint, nsec: number, seq: number, file = 'assert') =>
    writeFileSync(join(root, 'pps0', file), `${sec}.${String(nsec).padStart(9, '0')}#${seq}\n`);
  writeFileSync(join(root, 'pps0', 'assert'), '0.000000000#0\n');
  writeFileSync(join(root, 'pps0', 'clear'), '0.000000000#0\n');
  const clock = new SimClock(T0);
  const events: AgentEvent[] = [];
  const mon = new PpsMonitor({ minIntervalS: 0.9, maxIntervalS: 1.1, lostAfterS: 1.5 }, (e) => events.push(e));
  const edges: PpsEdge[] = [];
  const errors: string[] = [];
  const src = new KernelPpsSource({ root, device: 'pps0', pollMs: 100, useClearEdge: true }, clock,
    (e) => { edges.push(e); mon.onEdge(e, clock.now()); }, (m) => errors.push(m));
  return { root, write, clock, events, mon, edges, errors, src, done: () => rmSync(root, { recursive: true }) };
}

test('sysfs timestamps parse exactly; a never-seen edge and garbage are told apart', () => {
  assert.deepEqual(parseSysfsTimestamp('1764072000.000001234#42\n'), { time: T0 + 1234n, sequence: 42 });
  assert.equal(parseSysfsTimestamp('0.000000000#0'), undefined);
  assert.throws(() => parseSysfsTimestamp('garbage'), /not a PPS timestamp/);
  assert.throws(() => parseSysfsTimestamp('1.5#3'), /not a PPS timestamp/);
});

test('edges are found by sequence; missing and double pulses are counted; jitter is measured', async () => {
  const f = fixture();
  try {
    await f.src.poll(); // nothing yet
    assert.equal(f.edges.length, 0);
    // Ten good pulses with +/- 1 us of alternating jitter.
    let seq = 0;
    for (let i = 0; i < 10; i++) {
      f.write(T0 / NS_PER_S + BigInt(i), 500 + (i % 2 ? 1000 : -1000) + 1000, ++seq);
      f.clock.advance(1000);
      await f.src.poll();
      await f.src.poll(); // the same sequence again: not a new edge
    }
    assert.equal(f.edges.length, 10);
    let s = f.mon.snapshot(f.clock.now());
    assert.equal(s.present, true);
    assert.equal(s.missed, 0);
    assert.ok(s.jitterNs! > 500 && s.jitterNs! < 2500, `jitter ${s.jitterNs}`);
    // A missing pulse: the next edge two seconds later with the next sequence number.
    f.write(T0 / NS_PER_S + 11n, 1000, ++seq);
    f.clock.advance(1000);
    await f.src.poll();
    s = f.mon.snapshot(f.clock.now());
    assert.equal(s.missed, 1);
    // A double pulse: the kernel counted two edges in one second (a bounce on the line), we read one.
    seq += 2;
    f.write(T0 / NS_PER_S + 12n, 1000, seq);
    f.clock.advance(1000);
    await f.src.poll();
    s = f.mon.snapshot(f.clock.now());
    assert.equal(s.extra, 1);
    // A stray edge 0.3 s after the last good one: extra, and the good reference is kept.
    f.write(T0 / NS_PER_S + 12n, 300_001_000, ++seq);
    await f.src.poll();
    f.write(T0 / NS_PER_S + 13n, 1000, ++seq);
    f.clock.advance(1000);
    await f.src.poll();
    s = f.mon.snapshot(f.clock.now());
    assert.equal(s.extra, 2);
    assert.equal(s.lastIntervalS, 1);
    // Slow reads are not missing pulses: the sequence says the kernel saw them.
    seq += 3;
    f.write(T0 / NS_PER_S + 16n, 1000, seq);
    f.clock.advance(3000);
    await f.src.poll();
    assert.equal(f.mon.snapshot(f.clock.now()).missed, 1);
    assert.equal(f.errors.length, 0);
    // The clear edge is read too when asked for.
    assert.equal(f.edges.at(-1)!.clear, undefined);
    f.write(T0 / NS_PER_S + 16n, 100_001_000, 7, 'clear');
    f.write(T0 / NS_PER_S + 17n, 1000, ++seq);
    await f.src.poll();
    assert.equal(f.edges.at(-1)!.clear, T0 + 16n * NS_PER_S + 100_001_000n);
  } finally {
    f.done();
  }
});

test('a pulse that stops is noticed within 2 s, and its return once', async () => {
  const f = fixture();
  try {
    let seq = 0;
    const pulse = async (i: number) => {
      f.write(T0 / NS_PER_S + BigInt(i), 2000, ++seq);
      await f.src.poll();
    };
    for (let i = 0; i < 5; i++) {
      await pulse(i);
      for (let k = 0; k < 4; k++) { f.clock.advance(250); f.mon.tick(f.clock.now()); }
    }
    // Stop at 4 s: tick every 250 ms and see when it is declared lost.
    let lostAt: number | undefined;
    for (let k = 0; k < 40; k++) {
      f.clock.advance(250);
      f.mon.tick(f.clock.now());
      if (lostAt === undefined && f.events.some((e) => e.type === 'ppsLost')) lostAt = Number(f.clock.now() - T0) / 1e9;
    }
    const lastEdgeS = 4;
    assert.ok(lostAt !== undefined && lostAt - lastEdgeS <= 2, `lost noticed ${lostAt! - lastEdgeS} s after the last edge`);
    await pulse(15);
    for (let k = 0; k < 4; k++) { f.clock.advance(250); f.mon.tick(f.clock.now()); }
    await pulse(16);
    assert.deepEqual(f.events.map((e) => e.type), ['ppsLost', 'ppsRestored']);
    assert.equal(f.mon.snapshot(f.clock.now()).missed, 10);
  } finally {
    f.done();
  }
});

test('an unreadable or garbled assert file is an error counted, never a crash', async () => {
  const f = fixture();
  try {
    writeFileSync(join(f.root, 'pps0', 'assert'), 'not a timestamp\n');
    await f.src.poll();
    rmSync(join(f.root, 'pps0', 'assert'));
    await f.src.poll();
    assert.equal(f.src.readErrors, 2);
    assert.match(f.errors[0]!, /not a PPS timestamp/);
    assert.match(f.errors[1]!, /ENOENT/);
  } finally {
    f.done();
  }
});
