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

export function replayCapture(text: string, opts: ReceiverOptions = {}): ReplayResult {
  const framer = new LineFramer();
  const rx = new Receiver(opts);
  const res: ReplayResult = { epochs: [], skies: [], lines: [], junkLines: 0, datesRejected: [] };
  let rejectedSinceEpoch = 0;
  // Captures carry no receive times: feed one line per 1/20 s of pretend local time.
  let t: Nanos = 0n;
  const handle = (outs: ReturnType<Receiver['apply']>) => {
    for (const o of outs) {
      if (o.kind === 'epoch') {
        res.epochs.push({ ...o.epoch, rejectedLines: rejectedSinceEpoch });
        rejectedSinceEpoch = 0;
      } else if (o.kind === 'sky') res.skies.push({ ...o.sky, line: res.lines.length - 1 });
      else if (o.kind === 'dateRejected') res.datesRejected.push(o.date);
    }
  };
  const lines = [...framer.push(stripComments(text)), ...framer.flush()];
  for (const line of lines) {
    t += NS_PER_S / 20n;
    const r = parseSentence(line);
    // A sentence whose frame and checksum are good but a field is not is still the receiver's own
    // sentence: accepted (as gpsd does), though it updates nothing.
    const accepted = r.ok || r.error.kind === 'bad-field';
    res.lines.push({ line, accepted, error: r.ok ? undefined : r.error.kind, detail: r.ok ? undefined : r.error.detail });
    if (!accepted) rejectedSinceEpoch++;
    if (r.ok) handle(rx.apply(r.sentence, t));
  }
  handle(rx.finish());
  res.junkLines = framer.stats.junkLines;
  return res;
}
