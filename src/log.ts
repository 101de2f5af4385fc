/**
 * Structured logs: one JSON object a line on standard error (journald and docker keep them as they
 * are). The same message key is logged at most `repeatPerMinute` times a minute; what is held back is
 * counted and reported with the next line that gets through.
 *
 * Under systemd, when standard error is the journal (JOURNAL_STREAM names it), each line starts with
 * its syslog priority as sd-daemon(3) reads it (`<3>` error, `<4>` warn, `<6>` info, `<7>` debug), so
 * `journalctl -p warning` filters, and carries no `ts`: the journal stamps every line itself, and a
 * second time in the text only disagrees with it. docs/LOGS.md lists the fields.
 */
import { fstatSync } from 'node:fs';
import type { Clock, Nanos } from './time/index.ts';
import { toIso } from './time/index.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** syslog priorities (RFC 5424): err 3, warning 4, info 6, debug 7. */
export const PRIORITY: Record<Level, number> = { error: 3, warn: 4, info: 6, debug: 7 };

/**
 * Whether file descriptor `fd` is the journal stream systemd connected: JOURNAL_STREAM holds the
 * device and inode ("dev:ino") of that stream, and only the descriptor with the same pair is it (a
 * child whose standard error was redirected inherits the variable but not the stream). systemd.exec(5).
 */
export function isJournalStream(journalStream: string | undefined, fd: number): boolean {
  const m = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

export interface LogSink {
  write(line: string): void;
}

export class Logger {
  private windows = new Map<string, { start: bigint; count: number; suppressed: number }>();

  private readonly journal: boolean;

  /** `opts.journal`: write for the journal (priority prefix, no `ts`); by default, when the sink is
   * standard error and standard error is the journal stream. */
  constructor(
    private readonly clock: Clock,
    private readonly opts: { level: Level; repeatPerMinute: number; journal?: boolean },
    private readonly sink?: LogSink,
    private readonly fields: Record<string, unknown> = {},
  ) {
    this.journal = opts.journal ?? (sink === undefined && isJournalStream(process.env.JOURNAL_STREAM, 2));
  }

  private write(line: string): void {
    if (this.sink) this.sink.write(line);
    else process.stderr.write(line);
  }

  child(fields: Record<string, unknown>): Logger {
    const c = new Logger(this.clock, { ...this.opts, journal: this.journal }, this.sink, { ...this.fields, ...fields });
    c.windows = this.windows;
    return c;
  }

  debug(msg: string, f?: Record<string, unknown>): void { this.log('debug', msg, f); }
  info(msg: string, f?: Record<string, unknown>): void { this.log('info', msg, f); }
  warn(msg: string, f?: Record<string, unknown>): void { this.log('warn', msg, f); }
  error(msg: string, f?: Record<string, unknown>): void { this.log('error', msg, f); }

  /** `at`: when it happened, if not now (an event's own time): the line's one timestamp. */
  log(level: Level, msg: string, f: Record<string, unknown> = {}, at?: Nanos): void {
    if (RANK[level] < RANK[this.opts.level]) return;
    const now = this.clock.now();
    const key = `${level}:${msg}`;
    let w = this.windows.get(key);
    if (!w || now - w.start >= 60_000_000_000n) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: now, count: 0, suppressed: 0 };
      this.windows.set(key, w);
      if (suppressed > 0) f = { ...f, suppressed };
      if (this.windows.size > 1000) this.windows.clear();
    }
    if (w.count >= this.opts.repeatPerMinute) {
      w.suppressed++;
      return;
    }
    w.count++;
    const rec = { ...(this.journal ? {} : { ts: toIso(at ?? now, 6) }), level, msg, ...this.fields, ...f };
    const json = JSON.stringify(rec, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    this.write(this.journal ? `<${PRIORITY[level]}>${json}\n` : `${json}\n`);
  }
}
