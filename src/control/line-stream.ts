/**
 * A bounded fan-out of text lines to live readers: the raw NMEA stream (GET /nmea, `stratum1 nmea`).
 * What the network holds open here is bounded twice: at most `maxReaders` readers at once (the next
 * is refused, never queued), and a reader whose socket does not drain (more than `maxBufferedBytes`
 * waiting in our memory for it) is dropped rather than buffered without bound, so one stalled reader
 * costs a few KB and never slows the receiver or the other readers. No sockets of its own: the control
 * endpoint hands in its responses as `LineSink`s.
 */

/** What a reader is to the fan-out: the parts of an http.ServerResponse it uses. */
export interface LineSink {
  write(chunk: string, encoding: BufferEncoding): boolean;
  /** Bytes accepted by write() and not yet handed to the kernel. */
  readonly writableLength: number;
  destroy(): void;
}

export interface LineStreamStats {
  /** Readers now. */
  readers: number;
  maxReaders: number;
  /** Readers taken since start. */
  served: number;
  /** Readers refused because `maxReaders` were reading. */
  refused: number;
  /** Readers dropped for not keeping up. */
  dropped: number;
  /** Lines published since start (the source publishes only while someone reads). */
  lines: number;
  /** The most bytes any one reader had waiting in our memory once a turn's writes went to the kernel. */
  maxBufferedBytes: number;
  bufferLimitBytes: number;
}

export const LINE_STREAM_READERS = 8;
/** A reader more than this many bytes behind (about 16 s of a 9600 baud receiver) is dropped. */
export const LINE_STREAM_BUFFER = 16 * 1024;
/** Within one turn of the event loop a reader may be owed at most this many times the limit. */
const HARD_LIMIT_FACTOR = 4;

export class LineStream {
  private readonly readers = new Set<LineSink>();
  private readonly counts = { served: 0, refused: 0, dropped: 0, lines: 0, maxBufferedBytes: 0 };
  private checking = false;

  /** `onActive(true)` when the first reader comes, `(false)` when the last goes: a source may run only
   * while someone reads. */
  constructor(readonly maxReaders = LINE_STREAM_READERS, readonly maxBufferedBytes = LINE_STREAM_BUFFER,
    private readonly onActive: (active: boolean) => void = () => {}) {}

  /** Takes a reader, or says false when `maxReaders` are reading. The caller calls `remove` when its
   * connection closes. */
  add(sink: LineSink): boolean {
    if (this.readers.size >= this.maxReaders) {
      this.counts.refused++;
      return false;
    }
    this.readers.add(sink);
    this.counts.served++;
    if (this.readers.size === 1) this.onActive(true);
    return true;
  }

  remove(sink: LineSink): void {
    if (this.readers.delete(sink) && this.readers.size === 0) this.onActive(false);
  }

  /** One line (without its end) to every reader, with CR LF as NMEA 0183 ends it. Latin-1, so every
   * byte received goes out as that byte. */
  publish(line: string): void {
    this.counts.lines++;
    if (this.readers.size === 0) return;
    const text = `${line}\r\n`;
    for (const r of [...this.readers]) {
      try {
        r.write(text, 'latin1');
      } catch {
        this.drop(r); // a connection that broke between its close and our hearing of it
        continue;
      }
      // Node holds a response's writes of one turn of the event loop together (corked) and hands them
      // to the kernel after it: what a reader owes is judged then. Past four times the limit within
      // one turn it is dropped at once.
      if (r.writableLength > HARD_LIMIT_FACTOR * this.maxBufferedBytes) this.drop(r);
    }
    if (!this.checking) {
      this.checking = true;
      setImmediate(() => this.check());
    }
  }

  /** After the turn's writes went to the kernel: whoever still owes more than the limit is dropped. */
  private check(): void {
    this.checking = false;
    for (const r of [...this.readers]) {
      const waiting = r.writableLength;
      if (waiting > this.counts.maxBufferedBytes) this.counts.maxBufferedBytes = waiting;
      if (waiting > this.maxBufferedBytes) this.drop(r);
    }
  }

  private drop(r: LineSink): void {
    this.counts.dropped++;
    this.remove(r);
    r.destroy();
  }

  /** Ends every reader (the agent stopping). */
  close(): void {
    for (const r of [...this.readers]) {
      this.remove(r);
      r.destroy();
    }
  }

  stats(): LineStreamStats {
    return { readers: this.readers.size, maxReaders: this.maxReaders, ...this.counts, bufferLimitBytes: this.maxBufferedBytes };
  }
}
