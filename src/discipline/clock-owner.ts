/**
 * Who steers this machine's clock (CLOCK_REALTIME)? A time server's operator must know: two programs
 * steering one clock fight, and a Stratum 1 whose own clock nobody steers has logs and certificates
 * that drift. Found from /proc: each process's name (comm) and arguments, for the daemons that steer
 * the system clock on Linux. Pure over a /proc root, so tests can hand it a tree of their own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClockDaemon {
  name: string;
  pid: number;
  /** Whether, by its arguments, it steers CLOCK_REALTIME. */
  steers: boolean;
  /** Why not, or what to know (e.g. "chronyd -x: never steers"). */
  note: string;
}

/** phc2sys's options that take a value (linuxptp 3.1.1's getopt string). */
const PHC2SYS_WITH_VALUE = new Set('cdsOfEPISFRNLMunzlt'.split(''));

/** phc2sys's options from its arguments, getopt's way (`-ar`, `-s eth0` and `-seth0` alike): each
 * option letter with its values in order ('' for a flag). */
export function parsePhc2sysArgs(args: readonly string[]): Map<string, string[]> {
  const o = new Map<string, string[]>();
  const put = (k: string, v: string) => o.set(k, [...(o.get(k) ?? []), v]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (!a.startsWith('-') || a.length < 2) continue;
    for (let j = 1; j < a.length; j++) {
      const k = a[j]!;
      if (PHC2SYS_WITH_VALUE.has(k)) {
        put(k, a.slice(j + 1) || (args[++i] ?? ''));
        break;
      }
      put(k, '');
    }
  }
  return o;
}

/** comm (the kernel keeps 15 characters) of each daemon that can steer CLOCK_REALTIME. */
const DAEMONS: Record<string, (args: string[]) => { steers: boolean; note: string }> = {
  chronyd: (a) => (a.includes('-x') ? { steers: false, note: 'chronyd -x: never steers the clock' }
    : a.includes('-Q') ? { steers: false, note: 'chronyd -Q: measures only' }
      : { steers: true, note: '' }),
  ntpd: () => ({ steers: true, note: '' }),
  'systemd-timesyn': () => ({ steers: true, note: 'systemd-timesyncd' }),
  openntpd: () => ({ steers: true, note: '' }),
  ptpd: () => ({ steers: true, note: '' }),
  ptpd2: () => ({ steers: true, note: '' }),
  // phc2sys steers CLOCK_REALTIME unless -c names another clock (a PHC); with -a, only with -r.
  phc2sys: (a) => {
    const o = parsePhc2sysArgs(a);
    if (o.has('a')) return o.has('r') ? { steers: true, note: 'phc2sys -a -r' } : { steers: false, note: 'phc2sys -a without -r steers PHCs, not the system clock' };
    const target = o.get('c')?.at(-1);
    return target && target !== 'CLOCK_REALTIME' ? { steers: false, note: `phc2sys steers ${target}, not the system clock` } : { steers: true, note: '' };
  },
  // ptp4l steers the system clock only with software timestamping (-S), as a slave.
  ptp4l: (a) => (a.includes('-S') ? { steers: true, note: 'ptp4l -S: a slave steers the system clock' } : { steers: false, note: 'ptp4l steers its PHC, not the system clock' }),
};

/** The time daemons running, read from a /proc tree (at most `limit` processes looked at). */
export function findClockDaemons(procRoot = '/proc', limit = 100_000): ClockDaemon[] {
  const out: ClockDaemon[] = [];
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return out;
  }
  let seen = 0;
  for (const d of names) {
    if (!/^\d+$/.test(d)) continue;
    if (++seen > limit) break;
    let comm: string;
    try {
      comm = readFileSync(join(procRoot, d, 'comm'), 'utf8').trim();
    } catch {
      continue; // gone since the listing, or not ours to read
    }
    const judge = DAEMONS[comm];
    if (!judge) continue;
    let args: string[] = [];
    try {
      args = readFileSync(join(procRoot, d, 'cmdline'), 'latin1').split('\0').filter(Boolean).slice(1);
    } catch {
      // arguments unreadable: judged on the name alone
    }
    const { steers, note } = judge(args);
    out.push({ name: comm === 'systemd-timesyn' ? 'systemd-timesyncd' : comm, pid: Number(d), steers, note });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

/** One line for an operator: who steers the clock, or that nobody does. */
export function describeClockOwners(daemons: readonly ClockDaemon[]): string {
  const steering = daemons.filter((d) => d.steers);
  if (steering.length === 0) {
    const idle = daemons.length ? ` (${daemons.map((d) => `${d.name} ${d.pid}: ${d.note}`).join('; ')})` : '';
    return `no time daemon steers the system clock${idle}`;
  }
  const who = steering.map((d) => `${d.name} (pid ${d.pid})`).join(', ');
  return steering.length > 1 ? `several programs steer the system clock: ${who}` : `the system clock is steered by ${who}`;
}
