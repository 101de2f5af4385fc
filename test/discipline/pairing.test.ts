import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pairer, type Label } from '../../src/discipline/pairing.ts';
import { NS_PER_S } from '../../src/time/index.ts';

const S = NS_PER_S;
const T0 = 1_764_072_000n * S;
const label = (sec: bigint, fixValid = true): Label => ({ tai: T0 + sec * S, utc: T0 + sec * S, leapSecond: false, fixValid });

test('a label 0.5 s after an edge pairs with that edge, once trusted', () => {
  const p = new Pairer({ nmeaDelayS: 0.5, windowS: 0.35, trustAfter: 3 });
  const kinds: string[] = [];
  for (let i = 0n; i < 6n; i++) {
    const edge = T0 + i * S + 123_000n; // local clock 123 us fast
    p.onEdge(edge);
    const r = p.onLabel(label(i), edge + 520_000_000n);
    kinds.push(r.kind === 'paired' ? `paired ${r.edge === edge}` : r.reason);
  }
  assert.deepEqual(kinds, ['untrusted', 'untrusted', 'paired true', 'paired true', 'paired true', 'paired true']);
  const st = p.stats();
  assert.equal(st.paired, 4);
  assert.ok(Math.abs(st.nmeaDelayS! - 0.52) < 1e-9);
});

test('the nearest-second shortcut would be wrong: a label 0.55 s after its edge still pairs with it', () => {
  const p = new Pairer({ nmeaDelayS: 0.5, windowS: 0.35, trustAfter: 1 });
  p.onEdge(T0);
  const r = p.onLabel(label(0n), T0 + 550_000_000n);
  assert.ok(r.kind === 'paired' && r.edge === T0);
});

test('early, late, missing edges, no fix and contradicting labels are rejected and counted', () => {
  const p = new Pairer({ nmeaDelayS: 0.5, windowS: 0.35, trustAfter: 2 });
  assert.deepEqual(p.onLabel(label(0n), T0), { kind: 'rejected', reason: 'no-edge' });
  p.onEdge(T0);
  assert.deepEqual(p.onLabel(label(0n), T0 + 100_000_000n), { kind: 'rejected', reason: 'early' });
  assert.deepEqual(p.onLabel(label(0n), T0 + 1_000_000_000n), { kind: 'rejected', reason: 'late' });
  assert.deepEqual(p.onLabel(label(0n, false), T0 + 500_000_000n), { kind: 'rejected', reason: 'no-fix' });
  // Build trust, then a label that says 5 s where the edges say 3 s: rejected, but the chain holds and
  // the next good label pairs at once.
  for (const i of [1n, 2n]) {
    p.onEdge(T0 + i * S);
    p.onLabel(label(i), T0 + i * S + 500_000_000n);
  }
  p.onEdge(T0 + 3n * S);
  assert.deepEqual(p.onLabel(label(5n), T0 + 3n * S + 500_000_000n), { kind: 'rejected', reason: 'contradiction' });
  assert.equal(p.stats().trusted, true);
  p.onEdge(T0 + 4n * S);
  assert.equal(p.onLabel(label(4n), T0 + 4n * S + 500_000_000n).kind, 'paired');
  // A receiver that really jumped by 10 s: rejected until it has said so trustAfter (2) times.
  const kinds: string[] = [];
  for (const i of [5n, 6n, 7n]) {
    p.onEdge(T0 + i * S);
    const r = p.onLabel(label(i + 10n), T0 + i * S + 500_000_000n);
    kinds.push(r.kind === 'paired' ? 'paired' : r.reason);
  }
  assert.deepEqual(kinds, ['contradiction', 'paired', 'paired']);
  const r = p.stats().rejected;
  assert.deepEqual({ ...r }, { 'no-edge': 1, early: 1, late: 1, 'no-fix': 1, untrusted: 1, contradiction: 2 });
});
