/**
 * Structured logs: one JSON object a line on standard error (journald and docker keep them as they
 * are). The same message key is logged at most `repeatPerMinute` times a minute; what is held back is
 * counted and reported with the next line that gets through.
 */
import type { Clock } from './time/index.ts';
import { toIso } from './time/index.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  write(line: string): void;
}

export class Logger {
  private windows = new Map<string, { start: bigint; count: number; suppressed: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: { level: Level; repeatPerMinute: number },
    private readonly sink: LogSink = { write: (l) => process.stderr.write(l) },
    private readonly fields: Record<string, unknown> = {},
  ) {}

  child(fields: Record<string, unknown>): Logger {
    const c = new Logger(this.clock, this.opts, this.sink, { ...this.fields, ...fields });
    c.windows = this.windows;
    return c;
  }

  debug(msg: string, f?: Record<string, unknown>): void { this.log('debug', msg, f); }
  info(msg: string, f?: Record<string, unknown>): void { this.log('info', msg, f); }
  warn(msg: string, f?: Record<string, unknown>): void { this.log('warn', msg, f); }
  error(msg: string, f?: Record<string, unknown>): void { this.log('error', msg, f); }

  log(level: Level, msg: string, f: Record<string, unknown> = {}): void {
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
    const rec = { ts: toIso(now, 6), level, msg, ...this.fields, ...f };
    this.sink.write(JSON.stringify(rec, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  }
}
