/**
 * Shared test helpers: where ../shared is, and how a test that needs a real peer (a Debian program we
 * did not write) behaves when the peer is missing: under CI it fails; elsewhere it skips, loudly.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const SHARED = resolve(ROOT, '../shared');
export const CORPUS = resolve(SHARED, 'nmea-corpus');

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Returns true if every command is present. Otherwise: under CI throws; elsewhere skips the test
 * with a loud message and returns false. */
export function requirePeers(t: TestContext, ...cmds: string[]): boolean {
  const missing = cmds.filter((c) => !hasCommand(c));
  if (missing.length === 0) return true;
  const msg = `REAL PEER MISSING: ${missing.join(', ')} (install the Debian packages .ci/run installs)`;
  if (process.env.CI) throw new Error(msg);
  console.error(`\n*** SKIPPED: ${msg} ***\n`);
  t.skip(msg);
  return false;
}

export function requireCorpus(t: TestContext): boolean {
  if (existsSync(resolve(CORPUS, 'index.json'))) return true;
  const msg = `the receiver corpus is not at ${CORPUS}`;
  if (process.env.CI) throw new Error(msg);
  console.error(`\n*** SKIPPED: ${msg} ***\n`);
  t.skip(msg);
  return false;
}
