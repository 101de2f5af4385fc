/**
 * NMEA parsing benchmark: the framer, the parser and the receiver state machine over every capture of
 * the corpus (and the simulator's own MTK3339 stream), repeated for a fixed number of rounds. Prints a
 * table, then ONE JSON line of figures: sentences per second and bytes per second (best of 5 runs).
 *
 * For scale: an MTK3339 at 9600 baud delivers at most 960 bytes (about 12 sentences) a second.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineFramer } from '../src/gnss/framer.ts';
import { parseSentence } from '../src/gnss/nmea.ts';
import { Receiver } from '../src/gnss/receiver.ts';
import { stripComments } from '../src/gnss/replay.ts';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = resolve(here, '../../shared/nmea-corpus');
const texts = readdirSync(corpus).filter((f) => f.endsWith('.log')).sort().map((f) => stripComments(readFileSync(resolve(corpus, f), 'latin1')));
const input = Buffer.from(texts.join('\n'), 'latin1');
const CHUNK = 64; // bytes per read, like a serial port delivering bursts

function once(rounds: number): { sentences: number; bytes: number; seconds: number; rejected: number } {
  let sentences = 0;
  let rejected = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    const framer = new LineFramer();
    const rx = new Receiver();
    let t = 0n;
    for (let off = 0; off < input.length; off += CHUNK) {
      for (const line of framer.push(input.subarray(off, off + CHUNK))) {
        const p = parseSentence(line);
        if (p.ok) {
          t += 50_000_000n;
          rx.apply(p.sentence, t);
          sentences++;
        } else rejected++;
      }
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { sentences, bytes: input.length * rounds, seconds, rejected };
}

once(20); // warm up the JIT
const runs = Array.from({ length: 5 }, () => once(40));
const best = runs.reduce((a, b) => (a.sentences / a.seconds > b.sentences / b.seconds ? a : b));
const sps = best.sentences / best.seconds;
const bps = best.bytes / best.seconds;
console.log(`corpus: ${texts.length} captures, ${input.length} bytes, ${best.sentences / 40} sentences per round`);
for (const [i, r] of runs.entries()) {
  console.log(`run ${i + 1}: ${(r.sentences / r.seconds).toFixed(0)} sentences/s, ${(r.bytes / r.seconds / 1e6).toFixed(2)} MB/s`);
}
console.log(JSON.stringify({
  bench: 'nmea', node: process.version, captures: texts.length, bytesPerRound: input.length, rounds: 40,
  sentencesPerSecond: Math.round(sps), bytesPerSecond: Math.round(bps),
  mtk3339RealTimeFactor: Math.round(bps / 960),
}));
