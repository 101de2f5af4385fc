/**
 * Fuzz targets of the receiver's input: the NMEA framer and parser, the MTK ack tracking, gpsd's JSON.
 * Seeds: the real receiver captures in ../shared/nmea-corpus (and gpsd's own JSON output for them, the
 * .chk files) when present, plus sentences built with the project's encoders.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS } from '../../helpers/env.ts';
import { LineFramer } from '../../../src/gnss/framer.ts';
import { parseSentence, nmeaChecksum, MAX_SENTENCE, type Sentence, type TimeOfDay } from '../../../src/gnss/nmea.ts';
import { sentence, rmc, gga, gsa, gsv, zda, pgtop, utcParts, type FixValues } from '../../../src/gnss/encode.ts';
import { MtkConfigurator, timingSetup } from '../../../src/gnss/mtk.ts';
import { decodeGpsd, type GpsdMessage } from '../../../src/gnss/gpsd-json.ts';
import { mutateBytes, mutateText } from '../mutate.ts';
import type { Rng } from '../prng.ts';
import { check, type Target } from '../engine.ts';

const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const fromLatin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
/** The seeds as text, converted once per seed list (not once per input: thousands of seeds). */
const textCache = new WeakMap<readonly Uint8Array[], string[]>();
const asText = (seeds: readonly Uint8Array[], decode: (b: Uint8Array) => string): string[] => {
  let t = textCache.get(seeds);
  if (!t || t.length !== seeds.length) textCache.set(seeds, (t = seeds.map(decode)));
  return t;
};
const fromUtf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

/** The capture files (whole), if the corpus is here. */
export function corpusLogs(): string[] {
  if (!existsSync(CORPUS)) return [];
  return readdirSync(CORPUS).filter((f) => f.endsWith('.log')).sort().map((f) => readFileSync(join(CORPUS, f), 'latin1'));
}

function corpusChk(): string[] {
  if (!existsSync(CORPUS)) return [];
  return readdirSync(CORPUS).filter((f) => f.endsWith('.chk')).sort().map((f) => readFileSync(join(CORPUS, f), 'utf8'));
}

/** Sentences from the encoders: a fix, no fix, a sky, time, antenna status, MTK acks and version. */
export function encodedSentences(): string[] {
  const time = utcParts(1_790_000_000_123_000_000n);
  const fix: FixValues = { time, valid: true, lat: -37.78, lon: 175.31, altMsl: 59.9, satellitesUsed: 8, hdop: 1.1, pdop: 1.8, vdop: 1.5, mode: 3 };
  const nofix: FixValues = { ...fix, valid: false, mode: 1 };
  return [
    rmc(fix), gga(fix), rmc(nofix, 'GN'), gga(nofix, 'GN'), gsa(3, [1, 3, 6, 17, 28], 1.8, 1.1, 1.5), gsa(1, [], 0, 0, 0, 'GL'),
    ...gsv([{ prn: 1, elevation: 40, azimuth: 83, snr: 46 }, { prn: 3, elevation: 12, azimuth: 300, snr: undefined },
      { prn: 6, elevation: 70, azimuth: 5, snr: 30 }, { prn: 17, elevation: 5, azimuth: 190, snr: 22 }, { prn: 28, elevation: 33, azimuth: 250, snr: 41 }]),
    zda(time), pgtop(3), pgtop(1),
    sentence('PMTK001,314,3'), sentence('PMTK001,220,2'), sentence('PMTK705,AXN_2.31_3339_13101700,5632,PA6H,1.0'),
    sentence('GPGLL,3747.0873,S,17518.8938,E,030719.000,A,A'), sentence('GPVTG,181.39,T,,M,0.69,N,1.3,K,A'),
    sentence('GPGST,030719.00,1.2,0.5,0.4,45.0,0.6,0.5,1.1'), sentence('GNGNS,030719.00,3747.0873,S,17518.8938,E,AAN,12,0.8,59.9,23.7,,,V'),
    sentence('GPTXT,01,01,02,ANTSTATUS=OK'), sentence('GNGSA,A,3,01,03,06,17,28,,,,,,,,1.8,1.1,1.5,1'),
    sentence('GAGSV,1,1,02,02,45,120,40,07,30,060,35,7'),
  ];
}

/** '$' lines of the captures and of the encoders, one seed each (duplicates once). */
function sentenceSeeds(): string[] {
  const lines = new Set<string>();
  for (const log of corpusLogs()) for (const l of log.split(/\r?\n/)) if (l.startsWith('$')) lines.add(l);
  for (const s of encodedSentences()) lines.add(s.trimEnd());
  return [...lines];
}

const NMEA_WORDS = ['GPRMC', 'GPGGA', 'GNGSA', 'GPGSV', 'GPZDA', 'GPGLL', 'GPVTG', 'GPGST', 'GNGNS', 'GPTXT', 'PMTK001', 'PMTK705', 'PGTOP', 'A', 'V', 'N', 'S', 'E', 'W', 'M', 'D', '11'];

/** A sentence mutated and, most of the time, given its right checksum back so the field decoders see it. */
function mutateSentence(rng: Rng, input: Uint8Array, seeds: readonly Uint8Array[]): Uint8Array {
  let s = mutateText(rng, fromLatin1(input), asText(seeds, fromLatin1), { maxLen: 2 * MAX_SENTENCE, words: NMEA_WORDS, separators: [',', '.', '*', '$'] });
  if (rng.chance(0.85)) {
    const star = s.lastIndexOf('*');
    const body = s.slice(1, star >= 0 ? star : undefined);
    s = `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}${rng.chance(0.5) ? '\r\n' : ''}`;
  }
  return latin1(s);
}

function checkTime(t: TimeOfDay | undefined, what: string): void {
  if (!t) return;
  check(Number.isInteger(t.hour) && t.hour >= 0 && t.hour <= 23, `${what}: hour ${t.hour}`);
  check(Number.isInteger(t.minute) && t.minute >= 0 && t.minute <= 59, `${what}: minute ${t.minute}`);
  check(Number.isInteger(t.second) && t.second >= 0 && t.second <= 60, `${what}: second ${t.second}`);
  check(Number.isInteger(t.nanos) && t.nanos >= 0 && t.nanos < 1e9, `${what}: nanos ${t.nanos}`);
}

function checkDate(d: { year: number; month: number; day: number } | undefined, what: string): void {
  if (!d) return;
  check(d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= 31, `${what}: date ${d.year}-${d.month}-${d.day}`);
}

const finiteOrUndef = (v: number | undefined, what: string) => check(v === undefined || Number.isFinite(v), `${what}: ${v}`);

/** The parser's documented output ranges. */
export function checkSentence(s: Sentence): void {
  const w = s.type;
  if ('time' in s) checkTime(s.time, w);
  if ('date' in s) checkDate(s.date, w);
  if ('position' in s && s.position) {
    check(Math.abs(s.position.lat) <= 90 && Math.abs(s.position.lon) <= 180, `${w}: position ${s.position.lat},${s.position.lon}`);
  }
  for (const [k, v] of Object.entries(s)) if (typeof v === 'number') finiteOrUndef(v, `${w}.${k}`);
  if (s.type === 'GSV') {
    check(s.index >= 1 && s.index <= s.total, `GSV: message ${s.index} of ${s.total}`);
    for (const sat of s.sats) check(Number.isFinite(sat.prn), `GSV: prn ${sat.prn}`);
  }
  if (s.type === 'PGTOP') check(s.status >= 1 && s.status <= 3, `PGTOP: status ${s.status}`);
  if (s.type === 'GSA') check(s.prns.every((p) => Number.isFinite(p) && p > 0), `GSA: prns ${s.prns.join(',')}`);
}

/**
 * nmea-parser. Contract (src/gnss/nmea.ts): parseSentence never throws on input; it returns a typed
 * sentence or a classified error. A sentence's times are 00:00:00-23:59:60 with nanos < 1e9, dates
 * have month 1-12 and day 1-31, positions are within +-90/+-180, every number is finite, a GSV's index
 * is 1..total, a PGTOP's status 1-3, GSA's PRNs positive. An error is one of the documented kinds.
 */
export const nmeaParser: Target = {
  name: 'nmea-parser',
  contract: 'parseSentence never throws; ok results keep their documented ranges (time of day, dates, positions, finite numbers, GSV index, PGTOP status); errors are classified with a documented kind.',
  setup() {
    const kinds = new Set(['empty', 'no-start', 'binary', 'too-long', 'no-checksum', 'bad-checksum', 'bad-address', 'bad-field']);
    return {
      seeds: sentenceSeeds().map(latin1),
      mutate: mutateSentence,
      run(input) {
        const r = parseSentence(fromLatin1(input));
        if (r.ok) checkSentence(r.sentence);
        else check(kinds.has(r.error.kind) && typeof r.error.detail === 'string', `error kind ${r.error.kind}`);
      },
    };
  },
};

/**
 * nmea-framer. Contract (src/gnss/framer.ts): push and flush never throw, whatever the bytes and
 * however they are cut into chunks; every line handed out starts with '$' and holds no CR or LF; the
 * line counter equals the lines handed out; what is kept between chunks stays bounded (2 x
 * MAX_SENTENCE plus the chunk). Every line then goes through parseSentence, which must not throw.
 */
export const nmeaFramer: Target = {
  name: 'nmea-framer',
  contract: 'LineFramer.push/flush never throw for any bytes in any chunking; lines start with $ and hold no CR/LF; the line counter matches; the carried-over buffer stays bounded; each line parses without throwing.',
  setup() {
    const seeds: Uint8Array[] = [];
    for (const log of corpusLogs()) {
      seeds.push(latin1(log));
      const lines = log.split('\n');
      for (let i = 0; i < lines.length; i += 12) seeds.push(latin1(lines.slice(i, i + 12).join('\n')));
    }
    seeds.push(latin1(encodedSentences().join('')));
    seeds.push(latin1(encodedSentences().join('').replace(/\r\n/g, '\n')));
    seeds.push(latin1(encodedSentences().join('').replace(/\r\n/g, '\r\r\n')));
    return {
      seeds,
      mutate(rng, input, all) {
        return rng.chance(0.5)
          ? mutateBytes(rng, input, all, { maxLen: 16384 })
          : latin1(mutateText(rng, fromLatin1(input), asText(all, fromLatin1), { maxLen: 16384, words: NMEA_WORDS, separators: [',', '*', '$', '\n', '\r'] }));
      },
      run(input) {
        const f = new LineFramer();
        const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
        // Chunk sizes from the input's own length (deterministic on replay): 1 byte, odd sizes, all.
        const sizes = [1, 7, 64, 4096];
        const step = sizes[input.length % sizes.length]!;
        let lines = 0;
        const take = (out: string[]) => {
          for (const l of out) {
            check(l.startsWith('$') && !/[\r\n]/.test(l), `line ${JSON.stringify(l.slice(0, 40))}`);
            lines++;
            parseSentence(l);
          }
        };
        for (let i = 0; i < buf.length; i += step) {
          take(f.push(buf.subarray(i, i + step)));
          const kept = (f as unknown as { buf: string }).buf.length;
          check(kept <= 2 * MAX_SENTENCE + step, `framer keeps ${kept} characters`);
        }
        take(f.flush());
        check(f.stats.lines === lines, `stats.lines ${f.stats.lines}, lines handed out ${lines}`);
      },
    };
  },
};

/**
 * mtk. Contract (src/gnss/mtk.ts with nmea.ts): acks parsed from any PMTK001 text reach the
 * configurator without an exception; a command is acked or failed at most once and only if it was
 * pending; after the retries run out every tracked command is acked or failed (done).
 */
export const mtk: Target = {
  name: 'mtk',
  contract: 'PMTK001 acks from any text reach MtkConfigurator without throwing; each tracked command ends acked or failed exactly once; retries end in done.',
  setup() {
    const tracked = timingSetup().filter((c) => c.id > 0 && c.id !== 605).map((c) => c.id);
    const seeds = [...tracked.flatMap((id) => [0, 1, 2, 3].map((f) => sentence(`PMTK001,${id},${f}`))), sentence('PMTK705,AXN_2.31,5632,PA6H,1.0'), pgtop(3)];
    for (const log of corpusLogs()) for (const l of log.split(/\r?\n/)) if (/^\$P(MTK|GTOP)/.test(l)) seeds.push(l);
    return {
      seeds: [...new Set(seeds)].map(latin1),
      mutate(rng, input, all) {
        // Several acks per input: the same command twice, others in between.
        let out = mutateSentence(rng, input, all);
        for (let k = rng.below(3); k > 0; k--) out = new Uint8Array([...out, 0x0a, ...mutateSentence(rng, rng.pick(all), all)]);
        return out;
      },
      run(input) {
        const cfg = new MtkConfigurator(timingSetup());
        cfg.start();
        for (const line of fromLatin1(input).split('\n')) {
          const r = parseSentence(line);
          if (r.ok && r.sentence.type === 'PMTK001') cfg.onAck(r.sentence.command, r.sentence.flag);
        }
        for (let k = 0; k < 5 && !cfg.done; k++) cfg.onTimeout();
        check(cfg.done, 'configurator not done after its retries');
        const ended = [...cfg.acked, ...cfg.failed.map((f) => f.id)].sort((a, b) => a - b);
        check(JSON.stringify(ended) === JSON.stringify([...tracked].sort((a, b) => a - b)), `ended ${ended.join(',')}, tracked ${tracked.join(',')}`);
        check(cfg.failed.every((f) => typeof f.reason === 'string' && f.reason.length > 0), 'a failure without a reason');
      },
    };
  },
};

function checkGpsd(m: GpsdMessage): void {
  switch (m.class) {
    case 'TPV':
      check([0, 1, 2, 3].includes(m.fix.mode), `TPV mode ${m.fix.mode}`);
      check(m.fix.utc === undefined || typeof m.fix.utc === 'bigint', 'TPV utc');
      for (const k of ['lat', 'lon', 'altMsl'] as const) finiteOrUndef(m.fix[k], `TPV ${k}`);
      break;
    case 'SKY':
      for (const s of m.satellites) {
        check(Number.isFinite(s.prn), `SKY prn ${s.prn}`);
        finiteOrUndef(s.elevation, 'SKY el');
        finiteOrUndef(s.azimuth, 'SKY az');
        finiteOrUndef(s.snr, 'SKY ss');
      }
      break;
    case 'PPS': case 'TOFF':
      check(typeof m.real === 'bigint' && typeof m.clock === 'bigint', `${m.class} timestamps`);
      finiteOrUndef(m.precision, `${m.class} precision`);
      break;
    case 'VERSION':
      check(typeof m.release === 'string' && Number.isFinite(m.protoMajor) && Number.isFinite(m.protoMinor), 'VERSION');
      break;
    case 'DEVICES':
      check(m.devices.every((d) => typeof d.path === 'string'), 'DEVICES path');
      break;
    default:
      break;
  }
}

/**
 * gpsd-json. Contract (src/gnss/gpsd-json.ts): decodeGpsd never throws; a hostile or broken line is
 * an { ok: false } with a reason; what it accepts is typed as declared (TPV mode 0-3, time as bigint
 * nanoseconds, finite numbers, PPS/TOFF timestamps as bigint).
 */
export const gpsdJson: Target = {
  name: 'gpsd-json',
  contract: 'decodeGpsd never throws; errors are values with a reason; accepted reports are typed as declared (TPV mode 0-3, bigint times, finite numbers).',
  setup() {
    const lines = new Set<string>();
    for (const chk of corpusChk()) for (const l of chk.split('\n')) if (l.startsWith('{')) lines.add(l);
    for (const l of [
      '{"class":"PPS","device":"/dev/pps0","real_sec":1790000000,"real_nsec":0,"clock_sec":1790000000,"clock_nsec":1234,"precision":-20}',
      '{"class":"TOFF","device":"/dev/ttyS0","real_sec":1790000000,"real_nsec":0,"clock_sec":1790000000,"clock_nsec":90000000}',
      '{"class":"VERSION","release":"3.25","rev":"3.25","proto_major":3,"proto_minor":15}',
      '{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/ttyS0","driver":"NMEA0183","activated":"2026-01-01T00:00:00.000Z"}]}',
      '{"class":"ERROR","message":"unrecognized request"}',
      '{"class":"TPV","device":"/dev/ttyS0","mode":3,"time":"2026-11-25T12:00:00.000Z","lat":51.5,"lon":-0.1,"altMSL":30.5}',
      '{"class":"SKY","device":"/dev/ttyS0","satellites":[{"PRN":1,"el":40,"az":83,"ss":46,"used":true,"gnssid":0,"svid":1},{"PRN":65,"el":10,"az":3,"ss":20,"used":false,"gnssid":6,"svid":1}]}',
      '{"class":"WATCH","enable":true,"json":true,"pps":true}',
    ]) lines.add(l);
    const words = ['"class"', '"TPV"', '"SKY"', '"PPS"', '"TOFF"', '"mode"', '"time"', '"real_sec"', '"real_nsec"', '"satellites"', '"PRN"', 'null', 'true',
      '[]', '{}', '"2026-13-45T25:61:61.9999999999Z"', '"1970-01-01T00:00:00Z"', '"+275760-09-13T00:00:00.000Z"', '1e400', '-1', '9007199254740993', '"__proto__"'];
    return {
      seeds: [...lines].map(utf8),
      mutate: (rng, input, all) => utf8(mutateText(rng, fromUtf8(input), asText(all, fromUtf8), { maxLen: 8192, words, separators: [',', ':', '"', '{', '}', '[', ']'] })),
      run(input) {
        const r = decodeGpsd(fromUtf8(input));
        if (r.ok) checkGpsd(r.msg);
        else check(typeof r.error === 'string' && r.error.length > 0, 'error without a reason');
      },
    };
  },
};
