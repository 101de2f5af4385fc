/**
 * Splits a receiver's byte stream into candidate NMEA lines. Pure and incremental: feed it chunks as
 * they arrive, in any sizes. Handles CR LF, LF-only and CR CR LF endings; a line that carries junk
 * before its '$' (a spliced or doubled start, "$$GPRMC") is cut at its last '$'; runs of bytes with no
 * line end are bounded so a babbling device cannot grow memory.
 */
import { MAX_SENTENCE } from './nmea.ts';

export interface FramerStats {
  lines: number;
  /** Bytes discarded outside any sentence: junk before a '$', text lines, overlong runs. */
  junkBytes: number;
  /** Lines that held no '$' at all (text, binary, headers). */
  junkLines: number;
  /** Lines with junk before the sentence start (spliced or doubled '$'). */
  spliced: number;
  overlong: number;
}

export class LineFramer {
  private buf = '';
  readonly stats: FramerStats = { lines: 0, junkBytes: 0, junkLines: 0, spliced: 0, overlong: 0 };

  /** Feeds bytes (latin1-decoded, so every byte maps to one character) and returns complete lines
   * that start with '$'. */
  push(chunk: Buffer | string): string[] {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('latin1');
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf.charCodeAt(i);
      if (c === 0x0a || c === 0x0d) {
        if (i > start) this.take(this.buf.slice(start, i), out);
        start = i + 1;
      }
    }
    this.buf = this.buf.slice(start);
    if (this.buf.length > MAX_SENTENCE * 2) {
      // No line end in sight: keep only a possible sentence start near the end.
      const d = this.buf.lastIndexOf('$');
      const keep = d >= 0 && this.buf.length - d <= MAX_SENTENCE ? this.buf.slice(d) : '';
      this.stats.junkBytes += this.buf.length - keep.length;
      this.stats.overlong++;
      this.buf = keep;
    }
    return out;
  }

  /** Whatever is left without a line end (at end of input). */
  flush(): string[] {
    const out: string[] = [];
    if (this.buf.length) this.take(this.buf, out);
    this.buf = '';
    return out;
  }

  private take(line: string, out: string[]): void {
    const d = line.lastIndexOf('$');
    if (d < 0) {
      this.stats.junkLines++;
      this.stats.junkBytes += line.length;
      return;
    }
    if (d > 0) {
      this.stats.spliced++;
      this.stats.junkBytes += d;
    }
    this.stats.lines++;
    out.push(line.slice(d));
  }
}
