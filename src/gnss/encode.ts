/**
 * NMEA sentence encoders: what a receiver sends, built from values. Used by the simulator (and by
 * tests that need hand-made sentences); checksums are always computed.
 */
import { nmeaChecksum } from './nmea.ts';

export function sentence(body: string): string {
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

const p2 = (n: number) => String(n).padStart(2, '0');

export interface UtcParts {
  year: number; month: number; day: number; hour: number; minute: number; second: number; millis: number;
}

export function utcParts(unixNs: bigint): UtcParts {
  const ms = Number(unixNs / 1_000_000n);
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(),
    minute: d.getUTCMinutes(), second: d.getUTCSeconds(), millis: d.getUTCMilliseconds(),
  };
}

export function hhmmss(u: UtcParts): string {
  return `${p2(u.hour)}${p2(u.minute)}${p2(u.second)}.${String(u.millis).padStart(3, '0')}`;
}

function lat(v: number): string {
  const a = Math.abs(v);
  const d = Math.floor(a);
  return `${p2(d)}${((a - d) * 60).toFixed(4).padStart(7, '0')},${v < 0 ? 'S' : 'N'}`;
}

function lon(v: number): string {
  const a = Math.abs(v);
  const d = Math.floor(a);
  return `${String(d).padStart(3, '0')}${((a - d) * 60).toFixed(4).padStart(7, '0')},${v < 0 ? 'W' : 'E'}`;
}

export interface FixValues {
  time: UtcParts;
  valid: boolean;
  lat: number;
  lon: number;
  altMsl: number;
  satellitesUsed: number;
  hdop: number;
  pdop: number;
  vdop: number;
  mode: 1 | 2 | 3;
}

export function rmc(f: FixValues, talker = 'GP'): string {
  const u = f.time;
  const date = `${p2(u.day)}${p2(u.month)}${p2(u.year % 100)}`;
  const pos = f.valid ? `${lat(f.lat)},${lon(f.lon)}` : ',,,';
  return sentence(`${talker}RMC,${hhmmss(u)},${f.valid ? 'A' : 'V'},${pos},0.02,0.00,${date},,,${f.valid ? 'A' : 'N'}`);
}

export function gga(f: FixValues, talker = 'GP'): string {
  const q = f.valid ? 1 : 0;
  const pos = f.valid ? `${lat(f.lat)},${lon(f.lon)}` : ',,,';
  const alt = f.valid && f.mode === 3 ? `${f.altMsl.toFixed(1)},M,-19.6,M` : ',M,,M';
  const sats = f.valid ? f.satellitesUsed : 0;
  return sentence(`${talker}GGA,${hhmmss(f.time)},${pos},${q},${p2(sats)},${f.valid ? f.hdop.toFixed(2) : ''},${alt},,`);
}

export function gsa(mode: 1 | 2 | 3, prns: number[], pdop: number, hdop: number, vdop: number, talker = 'GP'): string {
  const slots = Array.from({ length: 12 }, (_, i) => (prns[i] !== undefined ? p2(prns[i]!) : ''));
  const dops = mode === 1 ? ',,' : `${pdop.toFixed(2)},${hdop.toFixed(2)},${vdop.toFixed(2)}`;
  return sentence(`${talker}GSA,A,${mode},${slots.join(',')},${dops}`);
}

export interface SkySat {
  prn: number;
  elevation: number;
  azimuth: number;
  snr: number | undefined;
}

export function gsv(sats: SkySat[], talker = 'GP'): string[] {
  const total = Math.max(1, Math.ceil(sats.length / 4));
  const out: string[] = [];
  for (let i = 0; i < total; i++) {
    const group = sats.slice(i * 4, i * 4 + 4)
      .map((s) => `${p2(s.prn)},${p2(Math.round(s.elevation))},${String(Math.round(s.azimuth)).padStart(3, '0')},${s.snr === undefined ? '' : p2(Math.round(s.snr))}`);
    out.push(sentence(`${talker}GSV,${total},${i + 1},${p2(sats.length)}${group.length ? ',' + group.join(',') : ''}`));
  }
  return out;
}

export function zda(u: UtcParts, talker = 'GP'): string {
  return sentence(`${talker}ZDA,${hhmmss(u)},${p2(u.day)},${p2(u.month)},${u.year},,`);
}

export function pgtop(status: 1 | 2 | 3): string {
  return sentence(`PGTOP,11,${status}`);
}
