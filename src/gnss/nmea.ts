/**
 * A pure NMEA 0183 parser: one line in, one typed sentence or one classified error out. It never
 * throws on input. Covers the sentences a timing receiver sends (RMC GGA GSA GSV ZDA GLL VTG GST GNS
 * TXT, with the NMEA 4.1 fields) from any talker, the MediaTek replies ($PMTK001 acks, $PMTK705
 * version) and the MTK antenna status $PGTOP,11,x.
 */

export const TALKERS = ['GP', 'GN', 'GL', 'GA', 'GB', 'BD', 'GQ', 'QZ', 'GI', 'PQ'] as const;
export type Talker = string;

/** The constellation a talker ID names (GN means a combined solution). */
export type Constellation = 'GPS' | 'GLONASS' | 'Galileo' | 'BeiDou' | 'QZSS' | 'NavIC' | 'SBAS' | 'combined' | 'unknown';

export function talkerConstellation(t: Talker): Constellation {
  switch (t) {
    case 'GP': return 'GPS';
    case 'GL': return 'GLONASS';
    case 'GA': return 'Galileo';
    case 'GB': case 'BD': return 'BeiDou';
    case 'GQ': case 'QZ': return 'QZSS';
    case 'GI': return 'NavIC';
    case 'GN': return 'combined';
    default: return 'unknown';
  }
}

/** Time of day as carried by NMEA (no date). */
export interface TimeOfDay {
  hour: number;
  minute: number;
  second: number; // 0..60 (60 only during a leap second)
  nanos: number;
}

export interface LatLon {
  lat: number;
  lon: number;
}

export interface Rmc {
  type: 'RMC'; talker: Talker;
  time: TimeOfDay | undefined;
  valid: boolean; // status A or D
  status: string;
  position: LatLon | undefined;
  speedKnots: number | undefined;
  trackDeg: number | undefined;
  date: { year: number; month: number; day: number } | undefined; // 2-digit year, expanded by receiver
  magVarDeg: number | undefined;
  faaMode: string | undefined;
  navStatus: string | undefined;
}

export interface Gga {
  type: 'GGA'; talker: Talker;
  time: TimeOfDay | undefined;
  position: LatLon | undefined;
  quality: number | undefined;
  satellitesUsed: number | undefined;
  hdop: number | undefined;
  altMsl: number | undefined;
  geoidSep: number | undefined;
  dgpsAge: number | undefined;
  dgpsStation: number | undefined;
}

export interface Gsa {
  type: 'GSA'; talker: Talker;
  selection: string; // A (auto) or M (manual)
  fixType: number | undefined; // 1 none, 2 2D, 3 3D
  prns: number[];
  pdop: number | undefined;
  hdop: number | undefined;
  vdop: number | undefined;
  systemId: number | undefined; // NMEA 4.1
}

export interface GsvSat {
  prn: number;
  elevation: number | undefined;
  azimuth: number | undefined;
  snr: number | undefined;
}

export interface Gsv {
  type: 'GSV'; talker: Talker;
  total: number;
  index: number;
  inView: number | undefined;
  sats: GsvSat[];
  signalId: number | undefined; // NMEA 4.1
}

export interface Zda {
  type: 'ZDA'; talker: Talker;
  time: TimeOfDay | undefined;
  date: { year: number; month: number; day: number } | undefined;
  tzHours: number | undefined;
  tzMinutes: number | undefined;
}

export interface Gll {
  type: 'GLL'; talker: Talker;
  position: LatLon | undefined;
  time: TimeOfDay | undefined;
  valid: boolean;
  faaMode: string | undefined;
}

export interface Vtg {
  type: 'VTG'; talker: Talker;
  trackTrue: number | undefined;
  speedKnots: number | undefined;
  faaMode: string | undefined;
}

export interface Gst {
  type: 'GST'; talker: Talker;
  time: TimeOfDay | undefined;
  rms: number | undefined;
  latErr: number | undefined;
  lonErr: number | undefined;
  altErr: number | undefined;
}

export interface Gns {
  type: 'GNS'; talker: Talker;
  time: TimeOfDay | undefined;
  position: LatLon | undefined;
  modes: string;
  satellitesUsed: number | undefined;
  hdop: number | undefined;
  altMsl: number | undefined;
  geoidSep: number | undefined;
  navStatus: string | undefined;
}

export interface Txt {
  type: 'TXT'; talker: Talker;
  total: number | undefined;
  index: number | undefined;
  msgType: number | undefined;
  text: string;
}

export interface MtkAck {
  type: 'PMTK001';
  command: number;
  /** 0 invalid command, 1 unsupported, 2 valid but failed, 3 succeeded */
  flag: number;
}

export interface MtkVersion {
  type: 'PMTK705';
  release: string;
  fields: string[];
}

/** MTK antenna status: 1 = antenna shorted, 2 = internal (patch) antenna, 3 = external antenna. */
export interface Pgtop {
  type: 'PGTOP';
  status: number;
}

/** A valid sentence we recognise the frame of but do not interpret (proprietary, GBS ...). */
export interface Other {
  type: 'OTHER';
  address: string;
}

export type Sentence = Rmc | Gga | Gsa | Gsv | Zda | Gll | Vtg | Gst | Gns | Txt | MtkAck | MtkVersion | Pgtop | Other;

export type NmeaErrorKind =
  | 'empty' | 'no-start' | 'binary' | 'too-long' | 'no-checksum' | 'bad-checksum' | 'bad-address'
  | 'bad-field';

export interface NmeaError {
  kind: NmeaErrorKind;
  detail: string;
}

export type ParseResult = { ok: true; sentence: Sentence } | { ok: false; error: NmeaError };

/** NMEA 0183 caps a sentence at 82 characters; real receivers exceed it (u-blox GSV with 4.1 fields,
 * PMTK705). We accept up to this many before calling a line garbage. */
export const MAX_SENTENCE = 256;

const fail = (kind: NmeaErrorKind, detail: string): ParseResult => ({ ok: false, error: { kind, detail } });

export function nmeaChecksum(body: string): number {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x;
}

/** Parses one line (with or without its CR/LF). The line must begin at '$'; splitting a byte stream
 * into such lines is the framer's job (framer.ts). */
export function parseSentence(raw: string): ParseResult {
  let end = raw.length;
  while (end > 0 && (raw.charCodeAt(end - 1) === 0x0a || raw.charCodeAt(end - 1) === 0x0d)) end--;
  if (end === 0) return fail('empty', 'empty line');
  if (raw.charCodeAt(0) !== 0x24) return fail('no-start', 'line does not start with $');
  if (end > MAX_SENTENCE) return fail('too-long', `${end} characters`);
  // One pass: printable ASCII only, the XOR of everything between '$' and '*', the position of '*'.
  let sum = 0;
  let star = -1;
  for (let i = 1; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return fail('binary', `byte 0x${c.toString(16)} at ${i}`);
    if (star < 0) {
      if (c === 0x2a) star = i;
      else sum ^= c;
    }
  }
  if (star < 0 || star !== end - 3) return fail('no-checksum', 'no *hh checksum at the end');
  const want = hexDigit(raw.charCodeAt(star + 1)) * 16 + hexDigit(raw.charCodeAt(star + 2));
  if (!(want >= 0)) return fail('no-checksum', 'checksum is not two hex digits');
  if (sum !== want) return fail('bad-checksum', `computed ${hex2(sum)}, sentence says ${hex2(want)}`);
  const body = raw.slice(1, star);
  if (body.includes('$')) return fail('bad-address', 'a $ inside the sentence');
  const f = body.split(',');
  const address = f[0]!;
  if (!/^[A-Z0-9]{2,10}$/.test(address)) return fail('bad-address', `address field "${address}"`);
  try {
    return decode(address, f);
  } catch (e) {
    // Field decoders report their own trouble by throwing FieldError; anything else is a bug, but a
    // bug must still not take the service down.
    return fail('bad-field', e instanceof FieldError ? e.message : `${address}: ${String(e)}`);
  }
}

/** 0-15 for a hex digit (either case), NaN otherwise. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return NaN;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

class FieldError extends Error {}

function decode(address: string, f: string[]): ParseResult {
  if (address.startsWith('P')) return decodeProprietary(address, f);
  if (address.length !== 5) return fail('bad-address', `address field "${address}"`);
  const talker = address.slice(0, 2);
  const kind = address.slice(2);
  const s = (sentence: Sentence): ParseResult => ({ ok: true, sentence });
  switch (kind) {
    case 'RMC': return s({
      type: 'RMC', talker, time: tod(f[1]), status: f[2] ?? '', valid: f[2] === 'A' || f[2] === 'D',
      position: latLon(f[3], f[4], f[5], f[6]), speedKnots: num(f[7]), trackDeg: num(f[8]),
      date: ddmmyy(f[9]), magVarDeg: signed(num(f[10]), f[11], 'W'), faaMode: str(f[12]),
      navStatus: str(f[13]),
    });
    case 'GGA': return s({
      type: 'GGA', talker, time: tod(f[1]), position: latLon(f[2], f[3], f[4], f[5]),
      quality: int(f[6]), satellitesUsed: int(f[7]), hdop: num(f[8]), altMsl: num(f[9]),
      geoidSep: num(f[11]), dgpsAge: num(f[13]), dgpsStation: int(f[14]),
    });
    case 'GSA': {
      // $xxGSA,mode,fix,prn x12,pdop,hdop,vdop[,systemId]: some receivers send more or fewer PRN slots,
      // so the DOPs are found from the end.
      // The NMEA 4.1 system ID is one hex digit after the VDOP; SiRF receivers put a fourth DOP there.
      const hasSystemId = f.length >= 18 && /^[0-9A-F]$/.test(f[f.length - 1] ?? '');
      const end = hasSystemId ? f.length - 1 : Math.min(f.length, 18);
      const prns: number[] = [];
      for (let i = 3; i < end - 3; i++) {
        const p = int(f[i]);
        if (p !== undefined && p > 0) prns.push(p);
      }
      return s({
        type: 'GSA', talker, selection: f[1] ?? '', fixType: int(f[2]), prns,
        pdop: num(f[end - 3]), hdop: num(f[end - 2]), vdop: num(f[end - 1]),
        systemId: hasSystemId ? parseInt(f[f.length - 1]!, 16) : undefined,
      });
    }
    case 'GSV': {
      const total = int(f[1]);
      const index = int(f[2]);
      if (total === undefined || index === undefined || index < 1 || index > total) {
        throw new FieldError(`GSV: message ${f[2]} of ${f[1]}`);
      }
      const rest = f.length - 4;
      const signalId = rest % 4 === 1 ? parseInt(f[f.length - 1]!, 16) : undefined;
      const groups = Math.floor(rest / 4);
      const sats: GsvSat[] = [];
      for (let g = 0; g < groups; g++) {
        const base = 4 + g * 4;
        const prn = int(f[base]);
        if (prn === undefined) continue;
        sats.push({ prn, elevation: num(f[base + 1]), azimuth: num(f[base + 2]), snr: num(f[base + 3]) });
      }
      return s({ type: 'GSV', talker, total, index, inView: int(f[3]), sats, signalId: Number.isNaN(signalId) ? undefined : signalId });
    }
    case 'ZDA': {
      const day = int(f[2]);
      const month = int(f[3]);
      const year = int(f[4]);
      const date = day !== undefined && month !== undefined && year !== undefined ? checkDate(year, month, day) : undefined;
      return s({ type: 'ZDA', talker, time: tod(f[1]), date, tzHours: int(f[5]), tzMinutes: int(f[6]) });
    }
    case 'GLL': return s({
      type: 'GLL', talker, position: latLon(f[1], f[2], f[3], f[4]), time: tod(f[5]), valid: f[6] === 'A',
      faaMode: str(f[7]),
    });
    case 'VTG': return s({ type: 'VTG', talker, trackTrue: num(f[1]), speedKnots: num(f[5]), faaMode: str(f[9]) });
    case 'GST': return s({
      type: 'GST', talker, time: tod(f[1]), rms: num(f[2]), latErr: num(f[6]), lonErr: num(f[7]), altErr: num(f[8]),
    });
    case 'GNS': return s({
      type: 'GNS', talker, time: tod(f[1]), position: latLon(f[2], f[3], f[4], f[5]), modes: f[6] ?? '',
      satellitesUsed: int(f[7]), hdop: num(f[8]), altMsl: num(f[9]), geoidSep: num(f[10]), navStatus: str(f[13]),
    });
    case 'TXT': return s({ type: 'TXT', talker, total: int(f[1]), index: int(f[2]), msgType: int(f[3]), text: f.slice(4).join(',') });
    default: return s({ type: 'OTHER', address });
  }
}

function decodeProprietary(address: string, f: string[]): ParseResult {
  const s = (sentence: Sentence): ParseResult => ({ ok: true, sentence });
  if (address === 'PMTK001') {
    const command = int(f[1]);
    const flag = int(f[2]);
    if (command === undefined || flag === undefined) throw new FieldError('PMTK001: command or flag missing');
    return s({ type: 'PMTK001', command, flag });
  }
  if (address === 'PMTK705') return s({ type: 'PMTK705', release: f[1] ?? '', fields: f.slice(1) });
  if (address === 'PGTOP') {
    if (f[1] !== '11') return s({ type: 'OTHER', address });
    const status = int(f[2]);
    if (status === undefined || status < 1 || status > 3) throw new FieldError(`PGTOP: antenna status "${f[2]}"`);
    return s({ type: 'PGTOP', status });
  }
  return s({ type: 'OTHER', address });
}

// ----------------------------------------------------------------------------------- field decoders

function str(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(v)) throw new FieldError(`not a number: "${v}"`);
  return Number(v);
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^[-+]?\d+$/.test(v)) throw new FieldError(`not an integer: "${v}"`);
  return Number(v);
}

function signed(v: number | undefined, hemi: string | undefined, negative: string): number | undefined {
  if (v === undefined) return undefined;
  return hemi === negative ? -v : v;
}

/** hhmmss[.sss] */
export function tod(v: string | undefined): TimeOfDay | undefined {
  if (v === undefined || v === '') return undefined;
  const m = /^(\d\d)(\d\d)(\d\d)(?:\.(\d{0,9}))?$/.exec(v);
  if (!m) throw new FieldError(`time "${v}" is not hhmmss.ss`);
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  const second = Number(m[3]);
  if (hour > 23 || minute > 59 || second > 60) throw new FieldError(`time "${v}" out of range`);
  const nanos = m[4] ? Number(m[4].padEnd(9, '0')) : 0;
  return { hour, minute, second, nanos };
}

function ddmmyy(v: string | undefined): { year: number; month: number; day: number } | undefined {
  if (v === undefined || v === '') return undefined;
  const m = /^(\d\d)(\d\d)(\d\d)$/.exec(v);
  if (!m) throw new FieldError(`date "${v}" is not ddmmyy`);
  // Two-digit years: NMEA gives no century. 80-99 are 1980-1999 (GPS began in 1980), else 20xx.
  const yy = Number(m[3]);
  return checkDate(yy >= 80 ? 1900 + yy : 2000 + yy, Number(m[2]), Number(m[1]));
}

function checkDate(year: number, month: number, day: number): { year: number; month: number; day: number } {
  if (month < 1 || month > 12 || day < 1 || day > 31) throw new FieldError(`date ${year}-${month}-${day} out of range`);
  return { year, month, day };
}

/** ddmm.mmmm,N,dddmm.mmmm,E. A position with either half missing is no position, and so is one that
 * cannot be a position: MediaTek receivers send 8960.0000,N (89 degrees 60 minutes) as a placeholder
 * while they have no fix. Neither makes the sentence itself invalid. */
function latLon(lat: string | undefined, ns: string | undefined, lon: string | undefined, ew: string | undefined): LatLon | undefined {
  if (!lat || !lon || !ns || !ew) return undefined;
  try {
    return latLonStrict(lat, ns, lon, ew);
  } catch {
    return undefined;
  }
}

function latLonStrict(lat: string, ns: string, lon: string, ew: string): LatLon {
  const la = degMin(lat, 2);
  const lo = degMin(lon, 3);
  if (ns !== 'N' && ns !== 'S') throw new FieldError(`latitude hemisphere "${ns}"`);
  if (ew !== 'E' && ew !== 'W') throw new FieldError(`longitude hemisphere "${ew}"`);
  if (la > 90 || lo > 180) throw new FieldError(`position ${lat},${lon} out of range`);
  return { lat: ns === 'S' ? -la : la, lon: ew === 'W' ? -lo : lo };
}

function degMin(v: string, degDigits: number): number {
  const m = /^(\d+)(\d\d(?:\.\d*)?)$/.exec(v);
  if (!m || m[1]!.length > degDigits) throw new FieldError(`coordinate "${v}" is not d(d)dmm.mmmm`);
  const minutes = Number(m[2]);
  if (minutes >= 60) throw new FieldError(`coordinate "${v}" has ${minutes} minutes`);
  return Number(m[1]) + minutes / 60;
}
