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

/**
 * Deliberate differences from gpsd, each with its reason. Anything not listed here fails the test.
 *
 * Extra epochs: gpsd emits a TPV only when its cycle-end detector sees the sentence it has learned
 * ends a cycle; an epoch whose cycle is cut short (the first one before it has learned, the last one of
 * a capture, or one followed by a gap in the capture) is never reported. We report every epoch that
 * carried a valid time, closing it when the next begins or the input ends: a time server must not lose
 * a labelled second because the receiver changed its sentence order.
 */
const EXTRA_EPOCH = {
  first: 'first epoch with a valid time: gpsd has not yet learned the cycle and reports nothing for it',
  last: 'last epoch of the capture: gpsd waits for an end-of-cycle sentence that never comes',
  cut: 'epoch whose cycle lacks the sentence gpsd learned as the end of cycle (a gap or reordering in the capture)',
};
export const DELIBERATE: Record<string, { match: (d: Difference) => boolean; reason: string }[]> = {
  'mtk-3301.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2008-08-23T08:14:36.000Z', reason: EXTRA_EPOCH.first }],
  'tr737A+.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2011-11-11T07:17:36.000Z', reason: EXTRA_EPOCH.first }],
  'beidou-bd.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2015-02-25T07:41:55.799Z', reason: EXTRA_EPOCH.first }],
  'myguide-3100.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2009-10-08T10:50:29.800Z', reason: EXTRA_EPOCH.first }],
  'ublox-lea-4h.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2006-08-10T03:15:18.000Z', reason: EXTRA_EPOCH.last }],
  'mr-350p.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2012-07-04T05:11:47.000Z', reason: EXTRA_EPOCH.last }],
  'ublox-lea-5h.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2010-08-21T08:37:36.000Z', reason: `${EXTRA_EPOCH.cut}: the capture jumps from 08:37:36 to 08:55:15` }],
  'gp-320fw-2019-04-06-overflow.log': [{ match: (d) => d.kind === 'epoch-extra' && d.time === '2019-04-06T23:57:26.020Z', reason: `${EXTRA_EPOCH.cut}: this second has no GLL, which ends the other cycles` }],
  'ch-4711.log': [
    { match: (d) => d.kind === 'epoch-extra' && d.time === '2009-12-05T13:56:58.997Z', reason: EXTRA_EPOCH.cut },
    {
      // The receiver's GSA says fix type 2 (2D) while its GGA carries an altitude. We take the
      // receiver's own statement of its fix dimension (and so report no altitude); gpsd keeps the 3D
      // it inferred from the GGA.
      match: (d) => d.kind === 'epoch-field' && (d.field === 'mode' ? d.ours === 2 && d.gpsd === 3 : d.field === 'altMSL' && d.ours === undefined),
      reason: 'GSA says 2D: we believe the receiver over an altitude in GGA',
    },
  ],
};

/** Splits a comparison's differences into the deliberate ones (with their reasons) and the rest. */
export function classify(file: string, cmp: Comparison): { deliberate: { d: Difference; reason: string }[]; unexplained: Difference[]; unusedRules: number } {
  const rules = DELIBERATE[file] ?? [];
  const used = new Set<number>();
  const deliberate: { d: Difference; reason: string }[] = [];
  const unexplained: Difference[] = [];
  for (const d of cmp.differences) {
    const i = rules.findIndex((r) => r.match(d));
    if (i >= 0) {
      used.add(i);
      deliberate.push({ d, reason: rules[i]!.reason });
    } else unexplained.push(d);
  }
  return { deliberate, unexplained, unusedRules: rules.length - used.size };
}
