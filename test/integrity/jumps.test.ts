/**
 * Jumps of the receiver's time of one second, one hour, one day and 1024 weeks, once and persistently,
 * as simulator faults and as a real receiver capture (the MT3339's, from the shared corpus) replayed
 * with its labels rewritten the way a spoofer or a broken receiver would send them (sentence by sentence,
 * each when its last byte would arrive). In every case the
 * served clock never follows (measured against the truth), there is one timeJump event (a label
 * discontinuity, however brief), one time_jump alarm raise and clear, and a persistent jump is refused
 * by the integrity gate once and ended once. Virtual time throughout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { simConfig, virtualService } from '../helpers/virtual.ts';
import { CORPUS } from '../helpers/env.ts';
import { sentence, utcParts } from '../../src/gnss/encode.ts';
import { stripComments } from '../../src/gnss/replay.ts';
import { NS_PER_S, floorDiv } from '../../src/time/index.ts';
import type { Config } from '../../src/config/config.ts';
import type { AgentEvent } from '../../src/status/events.ts';

const JUMP_AT_S = 150;
const PERSIST_S = 120;
const RUN_S = JUMP_AT_S + PERSIST_S + 40;
const JUMPS = [['one second', 1], ['one hour', 3600], ['one day', 86_400], ['1024 weeks', 1024 * 7 * 86_400]] as const;

const quietOscillator = (c: Config) => {
  c.discipline.leap_seconds_file = '';
  c.store.enabled = false;
  c.simulator.initial_offset_ms = 0;
  c.simulator.frequency_ppm = 0;
  c.simulator.wander_ppb_per_sqrt_s = 0;
};

const of = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) => events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
const alarmTrail = (events: AgentEvent[], name: string) => events.flatMap((e) =>
  (e.type === 'alarmRaised' || e.type === 'alarmCleared') && e.name === name ? [e.type] : []);

/** The capture as epochs: the lines of each second, in the order sent. */
function captureEpochs(): string[][] {
  const lines = stripComments(readFileSync(resolve(CORPUS, 'mt3339.log'), 'latin1')).split(/\r?\n/).filter((l) => l.startsWith('$'));
  const epochs: string[][] = [];
  let cur: string[] = [];
  for (const l of lines) {
    if (l.startsWith('$GPGGA') && cur.length) {
      epochs.push(cur);
      cur = [];
    }
    cur.push(l);
  }
  if (cur.length) epochs.push(cur);
  return epochs;
}

/** One line with its time (and date) fields set to `label`, checksum recomputed; others unchanged. */
function relabel(line: string, label: bigint): string {
  const body = line.slice(1, line.lastIndexOf('*'));
  const f = body.split(',');
  const u = utcParts(label);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const hms = `${p2(u.hour)}${p2(u.minute)}${p2(u.second)}.000`;
  const type = f[0]!.slice(2);
  if (type === 'GGA' || type === 'RMC' || type === 'ZDA') f[1] = hms;
  if (type === 'RMC') f[9] = `${p2(u.day)}${p2(u.month)}${p2(u.year % 100)}`;
  if (type === 'ZDA') {
    f[2] = p2(u.day);
    f[3] = p2(u.month);
    f[4] = String(u.year);
  }
  return sentence(f.join(','));
}

/**
 * Runs the agent with the simulator silenced, feeding the capture (looped, relabelled to true time plus
 * `jumpS` while the jump lasts) and a PPS edge each true second, through the same monitor, pairing and
 * gate as a serial receiver's bytes. The oscillator is perfect, so local time is true time.
 */
async function replay(jumpS: number, forS: number) {
  const epochs = captureEpochs();
  const cfg = simConfig((c) => {
    quietOscillator(c);
    c.simulator.faults = [{ at_s: 0, kind: 'silence', duration_s: 1e6, value: 0 }, { at_s: 0, kind: 'pps_lost', duration_s: 1e6, value: 0 }];
  });
  const { clock, svc, events } = virtualService(cfg);
  await svc.start();
  const first = (floorDiv(clock.now(), NS_PER_S) + 1n) * NS_PER_S;
  const errs: number[] = [];
  for (let k = 0; k < RUN_S; k++) {
    const t = first + BigInt(k) * NS_PER_S;
    clock.advance(Number(t - clock.now()) / 1e6);
    svc.timing.pps.onEdge({ assert: t, sequence: k + 1 }, t);
    clock.advance(450);
    const jumped = k >= JUMP_AT_S && k < JUMP_AT_S + Math.max(1, forS);
    const label = t + (jumped ? BigInt(jumpS) * NS_PER_S : 0n);
    // Each sentence when its last byte arrives at 9600 baud (960 bytes a second), as on the serial port.
    for (const line of epochs[k % epochs.length]!) {
      const text = `${relabel(line, label)}\r\n`;
      clock.advance(text.length / 0.96);
      svc.timing.gnss.onBytes(text, clock.now());
    }
    clock.advance(Number(t + NS_PER_S - clock.now()) / 1e6);
    errs.push(Number(clock.now() - svc.timing.served.now()));
  }
  const last = svc.status();
  await svc.stop();
  return { events, errs, last };
}

/** The same with the built-in simulator's time_jump fault. */
async function simulate(jumpS: number, forS: number) {
  const cfg = simConfig((c) => {
    quietOscillator(c);
    c.simulator.faults = [{ at_s: JUMP_AT_S, kind: 'time_jump', duration_s: forS, value: jumpS }];
  });
  const { clock, svc, events } = virtualService(cfg);
  await svc.start();
  const errs: number[] = [];
  for (let s = 0; s < RUN_S; s++) {
    clock.advance(1000);
    errs.push(Number(clock.now() - svc.timing.served.now()));
  }
  const last = svc.status();
  await svc.stop();
  return { events, errs, last };
}

for (const [source, run] of [['simulator', simulate], ['replayed MT3339 capture', replay]] as const) {
  for (const [what, jumpS] of JUMPS) {
    for (const persistent of [false, true]) {
      test(`${source}: a jump of ${what}, ${persistent ? `for ${PERSIST_S} s` : 'once'}: never followed, one event, one alarm pair`, async (t) => {
        if (source !== 'simulator' && !existsSync(resolve(CORPUS, 'mt3339.log'))) {
          assert.fail(`the receiver corpus is missing (${CORPUS})`);
        }
        const r = await run(jumpS, persistent ? PERSIST_S : 0);
        const lockedAt = r.events.findIndex((e) => e.type === 'lockStateChanged' && e.to === 'LOCKED');
        assert.ok(lockedAt >= 0, 'locked before the jump');
        // After lock (the first 60 s) the served clock stays on true time within a millisecond.
        const worst = Math.max(...r.errs.slice(60).map(Math.abs));
        assert.ok(worst < 1e6, `the served clock was ${worst} ns off the truth`);
        assert.equal(of(r.events, 'clockStepped').length, 1, 'only the first phase set');
        assert.equal(of(r.events, 'timeJump').length, 1, JSON.stringify(of(r.events, 'timeJump').map((e) => [e.expected, e.got])));
        assert.deepEqual(alarmTrail(r.events, 'time_jump'), ['alarmRaised', 'alarmCleared']);
        if (persistent) {
          const refused = of(r.events, 'timeJumpRefused');
          assert.equal(refused.length, 1);
          assert.ok(Math.abs(refused[0]!.jumpNs / 1e9 - jumpS) < 0.01, `refused a jump of ${refused[0]!.jumpNs} ns`);
          assert.deepEqual(of(r.events, 'timeJumpEnded').map((e) => e.outcome), ['agreed']);
        } else {
          // A single wrong label never reaches the gate: the pairing drops a label that contradicts its chain.
          assert.equal(of(r.events, 'timeJumpRefused').length, 0);
        }
        assert.equal(r.last.discipline.state, 'LOCKED');
        assert.equal(r.last.alarms.find((a) => a.name === 'time_jump')!.severity, 'none');
        t.diagnostic(`events: ${Object.entries(r.last.events.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      });
    }
  }
}
