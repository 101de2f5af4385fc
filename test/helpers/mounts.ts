/** A tmpfs of our own for the disk-fault tests (full disk, read-only filesystem); needs root. */
import type { TestContext } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Mounts a tmpfs of `sizeKb` (read-only if asked) on a new directory and returns it; unmount it with
 * `umount -l`. Where it cannot be mounted the test fails under CI and skips, loudly, elsewhere.
 */
export function mountTmpfs(t: TestContext, sizeKb: number, o: { readOnly?: boolean; prefix?: string } = {}): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), o.prefix ?? 'tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k${o.readOnly ? ',ro' : ''}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return dir;
  const msg = `cannot mount a tmpfs (${(r.stderr || r.error?.message || '').trim()}): this test needs root`;
  if (process.env.CI) throw new Error(msg);
  console.error(`\n*** SKIPPED: ${msg} ***\n`);
  t.skip(msg);
  return undefined;
}
