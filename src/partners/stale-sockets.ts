/**
 * Reply sockets of ours left behind by an agent that was killed (named with its PID, which no longer
 * runs) are removed, so a directory we bind in does not fill up across crashes. Only sockets whose
 * name matches `ours` (the PID as its first group) are touched, never another running agent's.
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function removeStaleSockets(dir: string, ours: RegExp): void {
  let names: string[];
  try {
    names = readdirSync(dir).slice(0, 1000);
  } catch {
    return;
  }
  for (const n of names) {
    const m = ours.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
      continue; // that agent still runs
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') continue;
    }
    try {
      if (lstatSync(join(dir, n)).isSocket()) rmSync(join(dir, n));
    } catch {
      // gone already
    }
  }
}
