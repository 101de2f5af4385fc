/**
 * The learned frequency is saved every discipline.save_every_s while LOCKED; when the state directory
 * cannot be written, a failed save waits as long as a good one before it is tried again (it was
 * retried at every 250 ms tick, each failure a warning).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simConfig, virtualService } from '../helpers/virtual.ts';

test('a frequency save that fails is tried again after save_every_s, not at every tick', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'drift-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'file'), '');
  const cfg = simConfig((c) => {
    c.discipline.save_every_s = 60;
    c.store.enabled = false;
  });
  // The drift file under a regular file: every write fails (ENOTDIR), as on a read-only directory.
  cfg.discipline.drift_file = join(dir, 'file', 'frequency.json');
  const { clock, svc, logLines } = virtualService(cfg);
  await svc.start();
  clock.advance(1_200_000); // 20 minutes
  const locked = svc.status().discipline.state;
  await svc.stop();
  const failures = logLines.filter((l) => l.includes('could not save the frequency')).length;
  t.diagnostic(`state ${locked}; ${failures} failed saves logged in 20 minutes`);
  assert.equal(locked, 'LOCKED');
  assert.ok(failures >= 1, 'the failure is said');
  assert.ok(failures <= 25, `${failures} failed saves: about one a minute (and one at stop)`);
});
