/**
 * Compares a replay of a capture with gpsd's output for it (the .chk files of gpsd's regression suite,
 * as kept in nmea-corpus): per epoch (the LAST TPV gpsd reported for each distinct time: time, mode,
 * lat, lon, altMSL), per full SKY report (nSat and uSat, after the same line), and per line (accepted or
 * rejected). Used by `stratum1 replay --check` and by the corpus tests.
 */
import { toIso } from '../time/index.ts';
import type { ReplayResult } from './replay.ts';

export interface ChkEpoch {
  time: string;
  mode: number;
  lat: number | undefined;
  lon: number | undefined;
  altMSL: number | undefined;
}

export interface Chk {
  epochs: ChkEpoch[];
  /** Full SKY reports, each with the text of the line after which gpsd produced it. */
  skies: { nSat: number; uSat: number; after: string }[];
  accepted: Set<string>;
}

export function parseChk(text: string): Chk {
  const byTime = new Map<string, ChkEpoch>();
  const skies: Chk['skies'] = [];
  const accepted = new Set<string>();
  let lastLine = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('{')) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (o.class === 'TPV' && typeof o.time === 'string') {
        byTime.delete(o.time);
        byTime.set(o.time, {
          time: o.time, mode: o.mode as number, lat: o.lat as number | undefined,
          lon: o.lon as number | undefined, altMSL: o.altMSL as number | undefined,
        });
      } else if (o.class === 'SKY' && Array.isArray(o.satellites)) {
        skies.push({ nSat: o.nSat as number, uSat: o.uSat as number, after: lastLine });
      }
    } else if (line.length) {
      accepted.add(line);
      lastLine = line;
    }
  }
  return { epochs: [...byTime.values()].sort((a, b) => a.time.localeCompare(b.time)), skies, accepted };
}

export type Difference =
  | { kind: 'epoch-missing'; time: string }
  | { kind: 'epoch-extra'; time: string }
  | { kind: 'epoch-field'; time: string; field: 'mode' | 'lat' | 'lon' | 'altMSL'; ours: number | undefined; gpsd: number | undefined }
  | { kind: 'sky'; after: string; gpsd: [number, number]; ours: [number, number][] }
  | { kind: 'line'; line: string; ours: boolean; gpsd: boolean };

export interface Comparison {
  epochsCompared: number;
  skiesCompared: number;
  linesCompared: number;
  differences: Difference[];
}

const LATLON_TOL = 1e-9 * 1.0000001; // gpsd prints 9 decimals
const ALT_TOL = 1e-3;

function near(a: number | undefined, b: number | undefined, tol: number): boolean {
  return a === b || (a !== undefined && b !== undefined && Math.abs(a - b) <= tol);
}

export function compareWithChk(r: ReplayResult, chk: Chk): Comparison {
  const differences: Difference[] = [];
  const ours = new Map(r.epochs.map((e) => [toIso(e.time, 3), e]));
  for (const g of chk.epochs) {
    const e = ours.get(g.time);
    if (!e) {
      differences.push({ kind: 'epoch-missing', time: g.time });
      continue;
    }
    if (e.mode !== g.mode) differences.push({ kind: 'epoch-field', time: g.time, field: 'mode', ours: e.mode, gpsd: g.mode });
    if (!near(e.lat, g.lat, LATLON_TOL)) differences.push({ kind: 'epoch-field', time: g.time, field: 'lat', ours: e.lat, gpsd: g.lat });
    if (!near(e.lon, g.lon, LATLON_TOL)) differences.push({ kind: 'epoch-field', time: g.time, field: 'lon', ours: e.lon, gpsd: g.lon });
    if (!near(e.altMsl, g.altMSL, ALT_TOL)) differences.push({ kind: 'epoch-field', time: g.time, field: 'altMSL', ours: e.altMsl, gpsd: g.altMSL });
  }
  const gTimes = new Set(chk.epochs.map((x) => x.time));
  for (const t of ours.keys()) if (!gTimes.has(t)) differences.push({ kind: 'epoch-extra', time: t });
  for (const g of chk.skies) {
    const here = r.skies.filter((s) => r.lines[s.line]?.line === g.after);
    if (!here.some((s) => s.inView === g.nSat && s.used === g.uSat)) {
      differences.push({ kind: 'sky', after: g.after, gpsd: [g.nSat, g.uSat], ours: here.map((s) => [s.inView, s.used]) });
    }
  }
  for (const l of r.lines) {
    const g = chk.accepted.has(l.line);
    if (g !== l.accepted) differences.push({ kind: 'line', line: l.line, ours: l.accepted, gpsd: g });
  }
  return { epochsCompared: chk.epochs.length, skiesCompared: chk.skies.length, linesCompared: r.lines.length, differences };
}

export function describeDifference(d: Difference): string {
  switch (d.kind) {
    case 'epoch-missing': return `epoch ${d.time}: gpsd reports it, we do not`;
    case 'epoch-extra': return `epoch ${d.time}: we report it, gpsd has no TPV with this time`;
    case 'epoch-field': return `epoch ${d.time}: ${d.field} ours ${d.ours} gpsd ${d.gpsd}`;
    case 'sky': return `sky after ${d.after.slice(0, 24)}...: gpsd ${d.gpsd.join('/')} ours ${JSON.stringify(d.ours)}`;
    case 'line': return `line ${JSON.stringify(d.line.slice(0, 60))}: ours ${d.ours ? 'accept' : 'reject'}, gpsd ${d.gpsd ? 'accept' : 'reject'}`;
  }
}
