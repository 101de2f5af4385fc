/**
 * A systemd unit file read the way systemd reads the lines the tests emulate: the values of a key, and
 * the system calls its SystemCallFilter= lines allow (the groups expanded with systemd's own lists,
 * through systemd-analyze syscall-filter).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Every value of KEY= in the unit, in order. */
export function unitValues(unitFile: string, key: string): string[] {
  return readFileSync(unitFile, 'utf8').split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim());
}

/** A systemd syscall group (or one call), expanded with systemd's own lists. */
function expand(name: string, seen: Set<string>): Set<string> {
  if (!name.startsWith('@')) return new Set([name]);
  if (seen.has(name)) return new Set();
  seen.add(name);
  const r = spawnSync('systemd-analyze', ['syscall-filter', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`systemd-analyze syscall-filter ${name}: ${r.stderr}`);
  const out = new Set<string>();
  for (const line of r.stdout.split('\n').slice(1)) {
    const item = line.trim();
    if (!item || item.startsWith('#')) continue;
    for (const s of expand(item, seen)) out.add(s);
  }
  return out;
}

/** The system calls the unit's SystemCallFilter= lines allow, as systemd combines them (allow lists
 * first, then the ~ deny lists taken out). */
export function allowedSyscalls(unitFile: string): Set<string> {
  const lines = unitValues(unitFile, 'SystemCallFilter');
  const allow = new Set<string>();
  for (const l of lines.filter((x) => !x.startsWith('~'))) for (const g of l.split(/\s+/)) for (const s of expand(g, new Set())) allow.add(s);
  for (const l of lines.filter((x) => x.startsWith('~'))) for (const g of l.slice(1).trim().split(/\s+/)) for (const s of expand(g, new Set())) allow.delete(s);
  return allow;
}
