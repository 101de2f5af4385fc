import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KalmanServo, PiServo } from '../../src/discipline/servo.ts';
import { Rng } from '../../src/sim/random.ts';
import { NS_PER_S } from '../../src/time/index.ts';

const T0 = 1_764_072_000n * NS_PER_S;

function synthetic(seed: number, n: number, jitter: number) {
  const rng = new Rng(seed);
  let phase = 200e6; // 200 ms
  let freq = 20_000; // 20 ppm
  const out: { t: bigint; z: number; truth: number }[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ t: T0 + BigInt(i) * NS_PER_S, z: phase + jitter * rng.normal(), truth: phase });
    phase += freq;
    freq += 2 * rng.normal();
  }
  return out;
}

test('the Kalman servo steps on the first sample, then tracks phase and frequency below the jitter', () => {
  const s = new KalmanServo({ wanderPpbPerSqrtS: 2, initialFreqSigmaPpb: 1e5, outlierSigma: 5, reacquireAfter: 30 });
  const data = synthetic(3, 600, 1000);
  const errs: number[] = [];
  data.forEach((d, i) => {
    const u = s.update(d.t, d.z, 1000);
    assert.equal(u.stepped, i === 0);
    if (i > 60) errs.push(s.predict(d.t).offsetNs - d.truth);
  });
  const rms = Math.sqrt(errs.reduce((a, b) => a + b * b, 0) / errs.length);
  assert.ok(rms < 600, `RMS ${rms.toFixed(0)} ns with 1000 ns jitter`);
  const p = s.predict(data.at(-1)!.t);
  assert.ok(Math.abs(p.freqPpb - 20_000) < 300, `frequency ${p.freqPpb}`);
  // Its own sigma is honest: the error lies within 3 sigma nearly always.
  assert.ok(rms < 3 * p.sigmaNs && rms > p.sigmaNs / 3, `rms ${rms} sigma ${p.sigmaNs}`);
});

test('outliers are rejected; a persistent change is re-acquired after the configured streak', () => {
  const s = new KalmanServo({ wanderPpbPerSqrtS: 2, initialFreqSigmaPpb: 1e5, outlierSigma: 5, reacquireAfter: 10 });
  const data = synthetic(4, 100, 1000);
  for (const d of data) s.update(d.t, d.z, 1000);
  const last = data.at(-1)!;
  const t = (k: number) => last.t + BigInt(k) * NS_PER_S;
  const pred = (k: number) => s.predict(t(k)).offsetNs;
  assert.equal(s.update(t(1), pred(1) + 1e9, 1000).accepted, false, 'a 1 s jump is an outlier');
  assert.equal(s.update(t(2), pred(2), 1000).accepted, true);
  let stepped = false;
  for (let k = 3; k < 20 && !stepped; k++) stepped = s.update(t(k), pred(k) + 1e6, 1000).stepped;
  assert.ok(stepped, 'a lasting 1 ms step is believed after 10 outliers');
});

test('a seeded frequency makes the frequency known from the start', () => {
  const s = new KalmanServo({ wanderPpbPerSqrtS: 2, initialFreqSigmaPpb: 1e5, outlierSigma: 5, reacquireAfter: 30 });
  s.seedFrequency(20_000, 20);
  s.update(T0, 0, 1000);
  assert.ok(s.predict(T0).freqSigmaPpb < 25);
  const cold = new KalmanServo({ wanderPpbPerSqrtS: 2, initialFreqSigmaPpb: 1e5, outlierSigma: 5, reacquireAfter: 30 });
  cold.update(T0, 0, 1000);
  assert.ok(cold.predict(T0).freqSigmaPpb > 1e4);
});

test('the PI servo (linuxptp style) converges too, and is pluggable behind the same interface', () => {
  const s = new PiServo({ kp: 0.7, ki: 0.3, outlierNs: 1e8, reacquireAfter: 30 });
  const data = synthetic(5, 300, 1000);
  const errs: number[] = [];
  data.forEach((d, i) => {
    s.update(d.t, d.z, 1000);
    if (i > 60) errs.push(s.predict(d.t).offsetNs - d.truth);
  });
  const rms = Math.sqrt(errs.reduce((a, b) => a + b * b, 0) / errs.length);
  assert.ok(rms < 2000, `PI RMS ${rms.toFixed(0)} ns`);
});

test('a confidently wrong seeded frequency (1.5 ppm off, 11 ppb sigma) is corrected at the first re-acquisition, and the filter tracks after it', () => {
  // Measured before the fix: such a seed (a drift file from another board) made the filter reject
  // every sample, re-acquire after the streak with the same wrong frequency, and do it again forever.
  const s = new KalmanServo({ wanderPpbPerSqrtS: 2, initialFreqSigmaPpb: 1e5, outlierSigma: 5, reacquireAfter: 30 });
  s.seedFrequency(20_000 - 1_500, 11);
  const data = synthetic(5, 1200, 1000);
  let steps = 0;
  let rejected = 0;
  data.forEach((d, i) => {
    const u = s.update(d.t, d.z, 1000);
    if (u.stepped && i > 0) steps++;
    if (!u.accepted && i > 200) rejected++;
  });
  assert.equal(steps, 1, 'one re-acquisition, not a cycle');
  assert.ok(rejected < 10, `${rejected} samples rejected after the first 200`);
  const p = s.predict(data.at(-1)!.t);
  assert.ok(Math.abs(p.freqPpb - 20_000) < 300, `frequency ${p.freqPpb}`);
  // A phase step still keeps the frequency: the slope of a constant offset is none.
  const before = p.freqPpb;
  const last = data.at(-1)!;
  for (let k = 1; k <= 31; k++) s.update(last.t + BigInt(k) * NS_PER_S, s.predict(last.t + BigInt(k) * NS_PER_S).offsetNs + 1e6, 1000);
  assert.ok(Math.abs(s.predict(last.t + 32n * NS_PER_S).freqPpb - before) < 50, 'a 1 ms step does not move the frequency');
});
