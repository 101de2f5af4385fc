/**
 * MediaTek (MT3339, as on the Adafruit Ultimate GPS) configuration: the PMTK commands that set the
 * sentence set, the fix rate and antenna status reports, and a pure tracker that checks each command
 * is acknowledged ($PMTK001,cmd,3) and says what to resend.
 */
import { sentence } from './encode.ts';

export interface MtkCommand {
  /** The PMTK command number the ack names. */
  id: number;
  text: string;
  what: string;
}

/** Output rate divisors of PMTK314, by field position: 0 GLL, 1 RMC, 2 VTG, 3 GGA, 4 GSA, 5 GSV,
 * 17 ZDA, 18 MCHN (0 = off, 1 = every fix, 5 = every fifth). */
export function pmtk314(rates: { gll?: number; rmc?: number; vtg?: number; gga?: number; gsa?: number; gsv?: number; zda?: number }): MtkCommand {
  const f = new Array<number>(19).fill(0);
  f[0] = rates.gll ?? 0; f[1] = rates.rmc ?? 0; f[2] = rates.vtg ?? 0; f[3] = rates.gga ?? 0;
  f[4] = rates.gsa ?? 0; f[5] = rates.gsv ?? 0; f[17] = rates.zda ?? 0;
  return { id: 314, text: sentence(`PMTK314,${f.join(',')}`), what: 'sentence set' };
}

/** The commands a timing setup wants: RMC, GGA, GSA and ZDA every second, GSV every fifth; a 1 Hz
 * fix; antenna status ($PGTOP) reports on; then ask the firmware version. */
export function timingSetup(): MtkCommand[] {
  return [
    pmtk314({ rmc: 1, gga: 1, gsa: 1, gsv: 5, zda: 1 }),
    { id: 220, text: sentence('PMTK220,1000'), what: '1 Hz fix interval' },
    // PGCMD 33 is acknowledged by the module with $PGACK,33,1 rather than PMTK001; we see the effect in
    // the $PGTOP sentences that follow.
    { id: -33, text: sentence('PGCMD,33,1'), what: 'antenna status reports' },
    { id: 605, text: sentence('PMTK605'), what: 'firmware version query (answered by PMTK705)' },
  ];
}

export type AckFlag = 0 | 1 | 2 | 3;
export const ACK_MEANING: Record<number, string> = { 0: 'invalid command', 1: 'unsupported command', 2: 'valid command, action failed', 3: 'succeeded' };

/** Tracks which commands still wait for an ack. */
export class MtkConfigurator {
  private pending = new Map<number, { cmd: MtkCommand; tries: number }>();
  readonly acked: number[] = [];
  readonly failed: { id: number; reason: string }[] = [];

  constructor(private readonly commands: MtkCommand[], private readonly maxTries = 3) {}

  /** The commands to send now (first round). Commands with no PMTK001 ack are sent once, untracked. */
  start(): string[] {
    for (const c of this.commands) if (c.id > 0 && c.id !== 605) this.pending.set(c.id, { cmd: c, tries: 1 });
    return this.commands.map((c) => c.text);
  }

  onAck(command: number, flag: number): void {
    const p = this.pending.get(command);
    if (!p) return;
    this.pending.delete(command);
    if (flag === 3) this.acked.push(command);
    else this.failed.push({ id: command, reason: ACK_MEANING[flag] ?? `flag ${flag}` });
  }

  /** Called when the ack timeout passes: what to resend; commands out of tries become failures. */
  onTimeout(): string[] {
    const resend: string[] = [];
    for (const [id, p] of this.pending) {
      if (p.tries >= this.maxTries) {
        this.pending.delete(id);
        this.failed.push({ id, reason: `no acknowledgement after ${p.tries} tries` });
      } else {
        p.tries++;
        resend.push(p.cmd.text);
      }
    }
    return resend;
  }

  get done(): boolean {
    return this.pending.size === 0;
  }
}

/** Runs the setup on a live link: sends the commands, resends unacknowledged ones every `timeoutMs`,
 * and reports once every tracked command is acked or out of tries. Returns the ack handler to feed. */
export function runMtkSetup(
  write: (text: string) => void,
  setTimer: (fn: () => void, ms: number) => { cancel(): void },
  done: (acked: number[], failed: { id: number; reason: string }[]) => void,
  timeoutMs = 2000,
): { onAck(command: number, flag: number): void; cancel(): void } {
  const cfg = new MtkConfigurator(timingSetup());
  for (const t of cfg.start()) write(t);
  let finished = false;
  let timer: { cancel(): void } | undefined;
  const finish = () => {
    if (finished) return;
    finished = true;
    timer?.cancel();
    done(cfg.acked, cfg.failed);
  };
  const arm = () => {
    timer = setTimer(() => {
      for (const t of cfg.onTimeout()) write(t);
      if (cfg.done) finish();
      else arm();
    }, timeoutMs);
  };
  arm();
  return {
    onAck(command, flag) {
      cfg.onAck(command, flag);
      if (cfg.done) finish();
    },
    cancel() {
      finished = true;
      timer?.cancel();
    },
  };
}
