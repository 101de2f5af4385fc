/**
 * phc2sys beside ptp4l. linuxptp's phc2sys (3.1.1, Debian 12) answers no management requests: with
 * -a or -w it is itself a client of ptp4l's socket (-z, default /var/run/ptp4l). So what can honestly
 * be shown is whether it runs (from /proc, as clock-owner.ts finds the time daemons) and, from its
 * command line, which clocks it synchronises. Pure over a /proc root.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findClockDaemons, parsePhc2sysArgs } from '../discipline/clock-owner.ts';

export interface Phc2sysProcess {
  pid: number;
  /** -a: the clocks come from ptp4l's port states (it asks ptp4l over -z). */
  automatic: boolean;
  /** -s (master clocks) and -d (a PPS device), as given. */
  sources: string[];
  /** -c, or CLOCK_REALTIME by default; with -a: CLOCK_REALTIME with -r, else ptp4l's PHCs. */
  target: string;
  /** Whether it steers the system clock (clock-owner.ts's judgement). */
  steersSystemClock: boolean;
  /** The ptp4l socket it asks (-z), when it asks one (-a or -w); null otherwise. */
  ptp4lSocket: string | null;
  /** -f. */
  configFile: string | null;
}

export interface Phc2sysStatus {
  running: boolean;
  processes: Phc2sysProcess[];
  /** Some phc2sys asks the ptp4l we watch (its -z is partners.ptp4l.socket). */
  followsWatchedPtp4l: boolean;
}

export function describePhc2sys(pid: number, args: readonly string[], steers: boolean): Phc2sysProcess {
  const o = parsePhc2sysArgs(args);
  const automatic = o.has('a');
  const sources = [...(o.get('s') ?? []), ...(o.get('d') ?? []).map((d) => `PPS ${d}`)];
  const target = automatic ? (o.has('r') ? 'CLOCK_REALTIME and ptp4l\'s PHCs' : 'ptp4l\'s PHCs') : (o.get('c')?.at(-1) ?? 'CLOCK_REALTIME');
  const asks = automatic || o.has('w');
  return {
    pid, automatic, sources: automatic && sources.length === 0 ? ['ptp4l\'s port in SLAVE state'] : sources, target,
    steersSystemClock: steers, ptp4lSocket: asks ? (o.get('z')?.at(-1) ?? '/var/run/ptp4l') : null, configFile: o.get('f')?.at(-1) ?? null,
  };
}

/** The phc2sys processes running, from a /proc tree. */
export function findPhc2sys(procRoot: string, ptp4lSocket: string): Phc2sysStatus {
  const processes: Phc2sysProcess[] = [];
  for (const d of findClockDaemons(procRoot)) {
    if (d.name !== 'phc2sys') continue;
    let args: string[] = [];
    try {
      args = readFileSync(join(procRoot, String(d.pid), 'cmdline'), 'latin1').split('\0').filter(Boolean).slice(1);
    } catch {
      // gone since, or unreadable: shown as running, its clocks unknown
    }
    processes.push(describePhc2sys(d.pid, args, d.steers));
  }
  return { running: processes.length > 0, processes, followsWatchedPtp4l: processes.some((p) => p.ptp4lSocket === ptp4lSocket) };
}
