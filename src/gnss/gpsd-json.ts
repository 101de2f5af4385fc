/**
 * gpsd's JSON reports (TPV, SKY, PPS, TOFF, VERSION, DEVICES, ERROR) decoded into our types: pure, so
 * hostile or broken input is classified here and never reaches the state machine.
 */
import { type Nanos, NS_PER_S } from '../time/index.ts';
import type { Constellation } from './nmea.ts';
import { FixMode, type ExternalFix, type SatelliteView } from './receiver.ts';

export type GpsdMessage =
  | { class: 'TPV'; device: string | undefined; fix: ExternalFix }
  | { class: 'SKY'; device: string | undefined; satellites: SatelliteView[]; pdop?: number; hdop?: number; vdop?: number }
  | { class: 'PPS' | 'TOFF'; device: string | undefined; real: Nanos; clock: Nanos; precision: number | undefined }
  | { class: 'VERSION'; release: string; protoMajor: number; protoMinor: number }
  | { class: 'DEVICES'; devices: GpsdDevice[] }
  | { class: 'DEVICE'; device: GpsdDevice }
  | { class: 'ERROR'; message: string }
  | { class: 'OTHER'; name: string };

/** A device as gpsd describes it (DEVICE, or a member of DEVICES): only `path` is always there. */
export interface GpsdDevice {
  path: string;
  driver: string | undefined;
  subtype: string | undefined;
  /** When gpsd opened it: ISO 8601 as gpsd 3.20 and later send it (older gpsd: Unix seconds, converted). */
  activated: string | undefined;
  bps: number | undefined;
  parity: string | undefined;
  stopbits: number | undefined;
  /** Its reporting cycle (s). */
  cycleS: number | undefined;
}

export type GpsdDecode = { ok: true; msg: GpsdMessage } | { ok: false; error: string };

const GNSS_IDS: Record<number, Constellation> = { 0: 'GPS', 1: 'SBAS', 2: 'Galileo', 3: 'BeiDou', 5: 'QZSS', 6: 'GLONASS', 7: 'NavIC' };

const numOr = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const strOr = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function isoToNanos(s: string): Nanos | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(s);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

function ts(sec: unknown, nsec: unknown): Nanos | undefined {
  const s = numOr(sec);
  const ns = numOr(nsec);
  if (s === undefined || ns === undefined || !Number.isInteger(s) || !Number.isInteger(ns) || ns < 0 || ns >= 1e9) return undefined;
  return BigInt(s) * NS_PER_S + BigInt(ns);
}

/** gpsd's `activated`: an ISO 8601 string (3.20 and later) or Unix seconds (before); 0 or "" means closed. */
function activatedOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v && isoToNanos(v) !== undefined ? v : undefined;
  const n = numOr(v);
  if (n === undefined || n <= 0 || n > 1e11) return undefined;
  return new Date(Math.round(n * 1000)).toISOString();
}

function deviceOf(d: Record<string, unknown>): GpsdDevice {
  return {
    path: strOr(d.path) ?? '?', driver: strOr(d.driver), subtype: strOr(d.subtype), activated: activatedOf(d.activated),
    bps: numOr(d.bps), parity: strOr(d.parity), stopbits: numOr(d.stopbits), cycleS: numOr(d.cycle),
  };
}

export function decodeGpsd(line: string): GpsdDecode {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { ok: false, error: 'not a JSON object' };
  const r = o as Record<string, unknown>;
  const cls = strOr(r.class);
  if (!cls) return { ok: false, error: 'no class' };
  const device = strOr(r.device);
  switch (cls) {
    case 'TPV': {
      const mode = numOr(r.mode);
      if (mode === undefined || ![0, 1, 2, 3].includes(mode)) return { ok: false, error: `TPV mode ${String(r.mode)}` };
      const time = typeof r.time === 'string' ? isoToNanos(r.time) : undefined;
      if (typeof r.time === 'string' && time === undefined) return { ok: false, error: `TPV time ${r.time.slice(0, 40)}` };
      return {
        ok: true,
        msg: {
          class: 'TPV', device,
          fix: { mode: mode as FixMode, utc: time, lat: numOr(r.lat), lon: numOr(r.lon), altMsl: numOr(r.altMSL) ?? numOr(r.alt) },
        },
      };
    }
    case 'SKY': {
      if (!Array.isArray(r.satellites)) return { ok: true, msg: { class: 'OTHER', name: 'SKY (no satellites)' } };
      const sats: SatelliteView[] = [];
      for (const x of r.satellites as unknown[]) {
        if (typeof x !== 'object' || x === null) continue;
        const s = x as Record<string, unknown>;
        const prn = numOr(s.PRN);
        if (prn === undefined) continue;
        const g = numOr(s.gnssid);
        sats.push({
          constellation: g !== undefined ? GNSS_IDS[g] ?? 'unknown' : 'unknown', prn: numOr(s.svid) ?? prn,
          elevation: numOr(s.el), azimuth: numOr(s.az), snr: numOr(s.ss), used: s.used === true,
        });
      }
      return { ok: true, msg: { class: 'SKY', device, satellites: sats, pdop: numOr(r.pdop), hdop: numOr(r.hdop), vdop: numOr(r.vdop) } };
    }
    case 'PPS':
    case 'TOFF': {
      const real = ts(r.real_sec, r.real_nsec);
      const clock = ts(r.clock_sec, r.clock_nsec);
      if (real === undefined || clock === undefined) return { ok: false, error: `${cls} without valid timestamps` };
      return { ok: true, msg: { class: cls, device, real, clock, precision: numOr(r.precision) } };
    }
    case 'VERSION':
      return { ok: true, msg: { class: 'VERSION', release: strOr(r.release) ?? '?', protoMajor: numOr(r.proto_major) ?? 0, protoMinor: numOr(r.proto_minor) ?? 0 } };
    case 'DEVICES': {
      const list = Array.isArray(r.devices) ? (r.devices as Record<string, unknown>[]) : [];
      return { ok: true, msg: { class: 'DEVICES', devices: list.filter((d) => typeof d === 'object' && d && !Array.isArray(d)).map(deviceOf) } };
    }
    case 'DEVICE':
      return { ok: true, msg: { class: 'DEVICE', device: deviceOf(r) } };
    case 'ERROR':
      return { ok: true, msg: { class: 'ERROR', message: strOr(r.message) ?? '' } };
    default:
      return { ok: true, msg: { class: 'OTHER', name: cls } };
  }
}

/** The WATCH command: JSON reports with PPS, optionally for one device. */
export function watchCommand(device: string): string {
  const w: Record<string, unknown> = { enable: true, json: true, pps: true };
  if (device) w.device = device;
  return `?WATCH=${JSON.stringify(w)};\n`;
}
