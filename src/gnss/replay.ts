/**
 * Replays a receiver capture (an NMEA log such as those gpsd's regression suite keeps) through the
 * framer, the parser and the receiver state machine: pure, so the CLI and the tests share it. Header
 * lines starting with '#' are comments, as in gpsfake's logs.
 */
import { LineFramer } from './framer.ts';
import { parseSentence, type NmeaErrorKind } from './nmea.ts';
import { Receiver, type Epoch, type SkyReport, type ReceiverOptions } from './receiver.ts';
import { NS_PER_S, type Nanos } from '../time/index.ts';

export interface LineDecision {
  line: string;
  accepted: boolean;
  error: NmeaErrorKind | undefined;
  detail: string | undefined;
}

export interface ReplayResult {
  epochs: (Epoch & { rejectedLines: number })[];
  /** Sky reports, each with the index (into `lines`) of the GSV line that completed it. */
  skies: (SkyReport & { line: number })[];
  lines: LineDecision[];
  junkLines: number;
  datesRejected: string[];
}

/** Drops '#' comment lines at the start of lines; keeps the rest byte for byte. */
export function stripComments(text: string): string {
  return text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

/**
 * A capture replayed as it is read, chunk by chunk: each epoch goes to `onEpoch` and is not kept, so a
 * capture of any size takes the memory of one line (found by issue 15: 26 MB peaked at 736 MB).
 * '#' comment lines are dropped where a line starts, as in stripComments.
 */
export class ReplayStream {
  private framer = new LineFramer();
  private rx: Receiver;
  private carry = '';
  private t: Nanos = 0n;
  private rejectedSinceEpoch = 0;
  readonly stats = { epochs: 0, lines: 0, rejected: 0, datesRejected: [] as string[] };

  constructor(opts: ReceiverOptions, private readonly sinks: {
    epoch?(e: Epoch & { rejectedLines: number }): void;
    sky?(s: SkyReport): void;
    line?(d: LineDecision): void;
  } = {}) {
    this.rx = new Receiver(opts);
  }

  push(chunk: string): void {
    const text = this.carry + chunk;
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      this.carry = text;
      return;
    }
    this.carry = text.slice(cut + 1);
    this.feed(text.slice(0, cut + 1));
  }

  finish(): void {
    if (this.carry) this.feed(this.carry);
    this.carry = '';
    for (const line of this.framer.flush()) this.line(line);
    this.handle(this.rx.finish());
  }

  get junkLines(): number {
    return this.framer.stats.junkLines;
  }

  private feed(text: string): void {
    // Only whole lines reach here (or the last piece at the end): comments are dropped by line.
    const kept = text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    for (const line of this.framer.push(kept)) this.line(line);
  }

  private line(line: string): void {
    // Captures carry no receive times: one line per 1/20 s of pretend local time.
    this.t += NS_PER_S / 20n;
    const r = parseSentence(line);
    // A sentence whose frame and checksum are good but a field is not is still the receiver's own
    // sentence: accepted (as gpsd does), though it updates nothing.
    const accepted = r.ok || r.error.kind === 'bad-field';
    this.stats.lines++;
    this.sinks.line?.({ line, accepted, error: r.ok ? undefined : r.error.kind, detail: r.ok ? undefined : r.error.detail });
    if (!accepted) {
      this.rejectedSinceEpoch++;
      this.stats.rejected++;
    }
    if (r.ok) this.handle(this.rx.apply(r.sentence, this.t));
  }

  private handle(outs: ReturnType<Receiver['apply']>): void {
    for (const o of outs) {
      if (o.kind === 'epoch') {
        this.stats.epochs++;
        this.sinks.epoch?.({ ...o.epoch, rejectedLines: this.rejectedSinceEpoch });
        this.rejectedSinceEpoch = 0;
      } else if (o.kind === 'sky') this.sinks.sky?.(o.sky);
      else if (o.kind === 'dateRejected' && this.stats.datesRejected.length < 100) this.stats.datesRejected.push(o.date);
    }
  }
}

/** The whole replay kept in memory (for comparisons with gpsd's .chk files, which need every line). */
export function replayCapture(text: string, opts: ReceiverOptions = {}): ReplayResult {
  const res: ReplayResult = { epochs: [], skies: [], lines: [], junkLines: 0, datesRejected: [] };
  const s = new ReplayStream(opts, {
    epoch: (e) => res.epochs.push(e),
    sky: (k) => res.skies.push({ ...k, line: res.lines.length - 1 }),
    line: (d) => res.lines.push(d),
  });
  s.push(text);
  s.finish();
  res.junkLines = s.junkLines;
  res.datesRejected = s.stats.datesRejected;
  return res;
}
