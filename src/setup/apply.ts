/**
 * `stratum1 setup pi`, the I/O: reads the target system's state for the planner (files under the root,
 * `systemctl is-enabled` through the runner) and carries a plan out, step by step, in order. It decides
 * nothing: what changes is the plan's (plan.ts).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ALL_UNITS, BACKUP_SUFFIX, BOOT_DIRS, CONFIG_DIR, CONFIG_FILE, GPSD_DEFAULTS, STATE_DIR, UNIT_FILE, UNIT_NAME,
  describeStep, redact, type FileStat, type Plan, type PiState, type Step,
} from './plan.ts';
import { query, runCommand } from './runner.ts';

/** The checkout or installed tree this code runs from (holds config/ and systemd/). */
export const APP_DIR = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** A target path under the root ('/' leaves it as it is). */
export const inRoot = (root: string, path: string) => (root === '/' ? path : join(root, path));

/** A file's text, or undefined when there is none; a file that is there but unreadable stops the
 * setup (planning as if it were missing would write over it). */
function readOrUndefined(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new GatherError(`cannot read ${p}: ${code ?? (e as Error).message}${code === 'EACCES' ? ' (run it as root)' : ''}`);
  }
}

export class GatherError extends Error {}

function statOrUndefined(p: string): FileStat | undefined {
  try {
    const s = statSync(p);
    return { mode: s.mode, uid: s.uid, gid: s.gid };
  } catch {
    return undefined;
  }
}

/** A new secret: 24 crypto random bytes, base64url (32 characters). */
export const newSecret = () => randomBytes(24).toString('base64url');

export function gatherPi(root: string, appDir = APP_DIR): PiState {
  const files: PiState['files'] = {};
  const paths = [
    ...BOOT_DIRS.flatMap((d) => [`${d}/config.txt`, `${d}/cmdline.txt`, `${d}/cmdline.txt${BACKUP_SUFFIX}`]),
    '/etc/passwd', '/etc/group', GPSD_DEFAULTS, CONFIG_FILE, UNIT_FILE,
  ];
  for (const p of paths) files[p] = readOrUndefined(inRoot(root, p));
  const systemctl = root === '/' ? ['systemctl'] : ['systemctl', `--root=${root}`];
  const unitEnabled: Record<string, string> = {};
  const unitActive: Record<string, boolean> = {};
  for (const u of ALL_UNITS) {
    unitEnabled[u] = query([...systemctl, 'is-enabled', u]) || 'not-found';
    // Under --root nothing runs: only the running system has active units.
    if (root === '/') unitActive[u] = query(['systemctl', 'is-active', u]) === 'active';
  }
  return {
    root,
    files,
    stats: { [CONFIG_FILE]: statOrUndefined(inRoot(root, CONFIG_FILE)), [STATE_DIR]: statOrUndefined(inRoot(root, STATE_DIR)) },
    dirs: Object.fromEntries([CONFIG_DIR, STATE_DIR, dirname(UNIT_FILE)].map((d) => [d, existsSync(inRoot(root, d))])),
    unitEnabled,
    unitActive,
    exampleConfig: readFileSync(join(appDir, 'config/stratum1.example.yaml'), 'utf8'),
    unitTemplate: readFileSync(join(appDir, 'systemd', UNIT_NAME), 'utf8'),
    appDir,
    secrets: { authKey: newSecret(), privKey: newSecret(), community: newSecret() },
  };
}

export class StepFailed extends Error {}

/** Writes a file whole or not at all (a temporary beside it, renamed over it); an existing file keeps its mode. */
function writeAtomic(path: string, text: string, mode: number | undefined): void {
  const old = statOrUndefined(path);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.stratum1-tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, old ? old.mode & 0o7777 : (mode ?? 0o644));
  renameSync(tmp, path);
}

function applyStep(s: Step, root: string): void {
  const at = (p: string) => inRoot(root, p);
  switch (s.kind) {
    case 'write': writeAtomic(at(s.path), s.after, s.mode); return;
    case 'mkdir': mkdirSync(at(s.path), { recursive: true, mode: s.mode }); chmodSync(at(s.path), s.mode); return;
    case 'chmod': chmodSync(at(s.path), s.mode); return;
    case 'run': {
      const r = runCommand(s.argv);
      if (r.status !== 0) throw new StepFailed(`${s.argv.join(' ')}: ${r.error ?? `exit status ${r.status}: ${(r.stderr || r.stdout).trim()}`}`);
    }
  }
}

/** Carries the plan out in order, printing each step as it is done (the same text as the dry run);
 * stops at the first step that fails (StepFailed). */
export function applyPlan(p: Plan, root: string, out: (s: string) => void): void {
  for (const s of p.steps) {
    out(redact(describeStep(s), p.secrets));
    try {
      applyStep(s, root);
    } catch (e) {
      if (e instanceof StepFailed) throw e;
      throw new StepFailed(`${s.kind} ${'path' in s ? s.path : ''}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}
