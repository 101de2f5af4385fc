/**
 * A systemd unit file read the way systemd reads the lines the tests emulate: the values of a key, and
 * the system calls its SystemCallFilter= lines allow (the groups expanded with systemd's own lists,
 * through systemd-analyze syscall-filter).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Every value of KEY= in the unit (and the drop-ins after it), in the order systemd reads them. */
export function unitValues(unitFiles: string | readonly string[], key: string): string[] {
  return [unitFiles].flat().flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1).trim()));
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

/** The system calls the unit's SystemCallFilter= lines allow (with its drop-ins'), as systemd applies
 * them: left to right, the first (an allow list here) setting the default, later ones adding (allow)
 * or removing (~) calls. */
export function allowedSyscalls(unitFiles: string | readonly string[]): Set<string> {
  const allow = new Set<string>();
  for (const l of unitValues(unitFiles, 'SystemCallFilter')) {
    const deny = l.startsWith('~');
    for (const g of (deny ? l.slice(1) : l).trim().split(/\s+/)) {
      for (const c of expand(g, new Set())) {
        if (deny) allow.delete(c);
        else allow.add(c);
      }
    }
  }
  return allow;
}
