/**
 * Every external command `stratum1 setup` runs (systemctl, useradd, usermod, chown) goes through here,
 * found on PATH: a test puts fake commands first on PATH that record their calls. No shell: the
 * arguments are passed as they are.
 */
import { spawnSync } from 'node:child_process';

export interface RunResult {
  /** Exit status; null when the command could not be run at all (then `error` says why). */
  status: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

export function runCommand(argv: readonly string[], timeoutMs = 60_000): RunResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, env: process.env });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { status: null, stdout: '', stderr: '', error: code === 'ENOENT' ? `${argv[0]}: command not found` : r.error.message };
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A command's first line of output, for queries (`systemctl is-enabled X` prints "enabled"). */
export function query(argv: readonly string[]): string {
  const r = runCommand(argv, 15_000);
  return r.stdout.split('\n')[0]!.trim();
}
