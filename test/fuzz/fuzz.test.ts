/**
 * The fuzz harness as a test: every target gets a quick budget of seeded, deterministic inputs (the
 * same ones on every run) and must show no crash; every regression input kept in
 * test/fuzz/regressions/<target>/ is replayed and must not crash (known failures in code owned
 * elsewhere run as todo, see known-failures.ts). `npm run fuzz` is the long run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TARGETS } from './targets/index.ts';
import { fuzz, loadRegressions, runOne } from './engine.ts';
import { KNOWN_FAILURES, knownSignatures } from './known-failures.ts';

const BUDGET = 2000;
const SEED = 0x5eed;

for (const t of TARGETS) {
  test(`fuzz ${t.name}: ${BUDGET} seeded inputs, no crash`, async (tc) => {
    tc.diagnostic(`contract: ${t.contract}`);
    const h = await t.setup();
    try {
      assert.ok(h.seeds.length > 0, 'no seeds');
      const stats = await fuzz(t.name, h, { count: BUDGET, seed: SEED });
      tc.diagnostic(`${t.name}: ${stats.inputs} inputs (${h.seeds.length} seeds), ${stats.crashes} crashes, ${stats.signatures.size} unique, ${Math.round(stats.inputs / stats.seconds)} inputs/s`);
      const known = knownSignatures(t.name);
      const all = [...stats.signatures.values()];
      for (const c of all.filter((x) => known.has(x.signature))) tc.diagnostic(`known failure (KNOWN_FAILURES): ${c.signature}`);
      const found = all.filter((c) => !known.has(c.signature)).map((c) => `${c.signature}\n  input ${Buffer.from(c.input).toString('hex').slice(0, 200)}`);
      assert.equal(stats.inputs, BUDGET);
      assert.deepEqual(found, [], `crashes in ${t.name} (run \`npm run fuzz -- --target ${t.name}\` to save them as regressions)`);
    } finally {
      await h.close?.();
    }
  });

  const regressions = loadRegressions(t.name);
  const known = KNOWN_FAILURES[t.name] ?? {};
  const fixed = regressions.filter((r) => !(r.file in known));
  test(`fuzz ${t.name}: ${fixed.length} regression inputs replay without a crash`, async (tc) => {
    const h = await t.setup();
    try {
      const crashes = fixed.flatMap((r) => {
        const c = runOne(h, r.input);
        return c ? [`${r.file}: ${c.signature}`] : [];
      });
      tc.diagnostic(`${t.name}: ${fixed.length} regressions replayed, ${crashes.length} crashes`);
      assert.deepEqual(crashes, []);
    } finally {
      await h.close?.();
    }
  });
  for (const r of regressions.filter((x) => x.file in known)) {
    test(`fuzz ${t.name}: known failure ${r.file}`, { todo: `KNOWN_FAILURES: ${known[r.file]!.what}` }, async (tc) => {
      const h = await t.setup();
      try {
        const c = runOne(h, r.input);
        tc.diagnostic(c ? `still crashes: ${c.signature}` : 'no longer crashes: remove it from KNOWN_FAILURES');
        assert.ok(!c, c?.signature);
      } finally {
        await h.close?.();
      }
    });
  }
}
