/**
 * The history report: one self-contained HTML page (inline SVG and CSS, no script, nothing fetched)
 * that a person opens offline. Pure: the data in, the page out. `collectReport` reads it from a
 * history database.
 */
import type Database from 'better-sqlite3';
import { queryHistory, queryEvents, type HistoryPoint, type HistoryResult, type Resolution } from '../store/query.ts';
import type { StoredEvent } from '../store/store.ts';
import { STATE_NAMES } from '../status/status.ts';

export interface ReportData {
  name: string;
  fromS: number;
  toS: number;
  /** The bucket size asked for. */
  everyS: number;
  /** The spacing of the points the tables actually gave (at least everyS): the gap rule and the subtitle use it. */
  stepS: number;
  /** The tables that gave points, coarsest first. */
  resolutions: Resolution[];
  generatedAtS: number;
  offset: HistoryPoint[];
  timeError: HistoryPoint[];
  satellitesUsed: HistoryPoint[];
  satellitesInView: HistoryPoint[];
  state: HistoryPoint[];
  events: StoredEvent[];
}

/** Series colours: distinct, so a test can find each chart's lines in a screenshot. */
export const COLOURS = {
  offset: '#1f5fbf', error: '#d0342c', used: '#1a9c3c', inView: '#8a4fc0',
  state: { LOCKED: '#2e9d4f', HOLDOVER: '#e5a50a', ACQUIRING: '#3c8fd8', FREERUN: '#c0392b' } as Record<string, string>,
  alarm: { warning: '#f0b429', critical: '#b91c1c' } as Record<string, string>,
};

/** A bucket size that gives at most about 720 points over the span, in whole seconds, minutes or hours. */
export function chooseEvery(spanS: number): number {
  const raw = Math.max(1, Math.ceil(spanS / 720));
  if (raw < 60) return raw;
  if (raw < 3600) return Math.ceil(raw / 60) * 60;
  return Math.ceil(raw / 3600) * 3600;
}

export function collectReport(db: Database.Database, name: string, fromS: number, toS: number, nowS: number, everyS = chooseEvery(toS - fromS)): ReportData {
  const results: HistoryResult[] = [];
  const q = (m: string) => {
    const r = queryHistory(db, m, fromS, toS, everyS);
    results.push(r);
    return r.points;
  };
  const series = {
    offset: q('offset_ns'), timeError: q('time_error_ns'), satellitesUsed: q('satellites_used'), satellitesInView: q('satellites_in_view'), state: q('state'),
  };
  const order: Resolution[] = ['hour', 'minute', 'second'];
  const resolutions = order.filter((r) => results.some((x) => x.parts.some((p) => p.resolution === r && p.points > 0)));
  return {
    name, fromS, toS, everyS, stepS: Math.max(everyS, ...results.map((r) => r.stepS)), resolutions, generatedAtS: nowS, ...series,
    events: queryEvents(db, BigInt(fromS) * 1_000_000_000n, BigInt(toS) * 1_000_000_000n, 5000),
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6 || (a > 0 && a < 1e-3)) return v.toExponential(1);
  return String(Math.round(v * 1000) / 1000);
}

interface Series {
  label: string;
  colour: string;
  points: { t: number; v: number }[];
  /** A min/max band drawn behind the line. */
  band?: { t: number; lo: number; hi: number }[];
}

const W = 1100;
const H = 260;
const PAD = { l: 80, r: 20, t: 30, b: 40 };

function timeAxis(fromS: number, toS: number, x: (t: number) => number): string {
  const span = toS - fromS;
  const step = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400].find((s) => span / s <= 8) ?? 30 * 86400;
  let out = '';
  for (let t = Math.ceil(fromS / step) * step; t <= toS; t += step) {
    const label = step >= 86400 ? iso(t).slice(0, 10) : iso(t).slice(span > 86400 ? 5 : 11, 16).replace('T', ' ');
    out += `<line x1="${x(t)}" x2="${x(t)}" y1="${PAD.t}" y2="${H - PAD.b}" class="grid"/><text x="${x(t)}" y="${H - PAD.b + 16}" text-anchor="middle">${label}</text>`;
  }
  return out;
}

export function lineChart(title: string, unit: string, fromS: number, toS: number, series: Series[], gapS: number): string {
  const all = series.flatMap((s) => [...s.points.map((p) => p.v), ...(s.band ?? []).flatMap((b) => [b.lo, b.hi])]);
  const empty = all.length === 0;
  let lo = empty ? 0 : Math.min(...all);
  let hi = empty ? 1 : Math.max(...all);
  if (hi === lo) {
    hi += Math.max(1, Math.abs(hi) * 0.1);
    lo -= Math.max(1, Math.abs(lo) * 0.1);
  }
  const x = (t: number) => Math.round((PAD.l + ((t - fromS) / Math.max(1, toS - fromS)) * (W - PAD.l - PAD.r)) * 10) / 10;
  const y = (v: number) => Math.round((H - PAD.b - ((v - lo) / (hi - lo)) * (H - PAD.t - PAD.b)) * 10) / 10;
  let body = '';
  for (const v of ticks(lo, hi)) body += `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${PAD.l - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`;
  body += timeAxis(fromS, toS, x);
  for (const s of series) {
    // A gap in the data (the agent was down) breaks the line rather than bridging it.
    const runs: { t: number; v: number }[][] = [];
    for (const p of s.points) {
      const last = runs.at(-1)?.at(-1);
      if (!last || p.t - last.t > gapS) runs.push([p]);
      else runs.at(-1)!.push(p);
    }
    if (s.band?.length) {
      const up = s.band.map((b) => `${x(b.t)},${y(b.hi)}`);
      const down = [...s.band].reverse().map((b) => `${x(b.t)},${y(b.lo)}`);
      body += `<polygon points="${[...up, ...down].join(' ')}" fill="${s.colour}" fill-opacity="0.15" stroke="none"/>`;
    }
    for (const r of runs) {
      body += r.length === 1
        ? `<rect x="${x(r[0]!.t) - 1.5}" y="${y(r[0]!.v) - 1.5}" width="3" height="3" fill="${s.colour}"/>`
        : `<polyline points="${r.map((p) => `${x(p.t)},${y(p.v)}`).join(' ')}" fill="none" stroke="${s.colour}" stroke-width="2" shape-rendering="crispEdges"/>`;
    }
  }
  const legend = series.map((s, i) => `<rect x="${PAD.l + i * 220}" y="8" width="14" height="4" fill="${s.colour}"/><text x="${PAD.l + 20 + i * 220}" y="14">${esc(s.label)}</text>`).join('');
  return `<figure><figcaption>${esc(title)}${unit ? ` (${esc(unit)})` : ''}</figcaption>` +
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${legend}${body}` +
    `${empty ? `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">no data in this period</text>` : ''}</svg></figure>`;
}

/** Horizontal bands: one row per label, coloured spans. */
function timeline(title: string, fromS: number, toS: number, rows: { label: string; spans: { from: number; to: number; colour: string }[] }[], legend: Record<string, string>): string {
  const rowH = 26;
  const h = PAD.t + rows.length * rowH + PAD.b;
  const x = (t: number) => Math.round((PAD.l + 40 + ((Math.min(Math.max(t, fromS), toS) - fromS) / Math.max(1, toS - fromS)) * (W - PAD.l - 40 - PAD.r)) * 10) / 10;
  let body = '';
  rows.forEach((r, i) => {
    const y0 = PAD.t + i * rowH;
    body += `<text x="${PAD.l + 34}" y="${y0 + 17}" text-anchor="end">${esc(r.label)}</text>`;
    for (const s of r.spans) body += `<rect x="${x(s.from)}" y="${y0 + 4}" width="${Math.max(1, x(s.to) - x(s.from))}" height="${rowH - 8}" fill="${s.colour}" shape-rendering="crispEdges"/>`;
  });
  const span = toS - fromS;
  const step = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400].find((s) => span / s <= 8) ?? 30 * 86400;
  for (let t = Math.ceil(fromS / step) * step; t <= toS; t += step) {
    body += `<text x="${x(t)}" y="${h - PAD.b + 16}" text-anchor="middle">${step >= 86400 ? iso(t).slice(0, 10) : iso(t).slice(span > 86400 ? 5 : 11, 16).replace('T', ' ')}</text>`;
  }
  const leg = Object.entries(legend).map(([k, c], i) => `<rect x="${PAD.l + i * 150}" y="8" width="14" height="10" fill="${c}"/><text x="${PAD.l + 20 + i * 150}" y="17">${esc(k)}</text>`).join('');
  const empty = rows.every((r) => r.spans.length === 0);
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(title)}">${leg}${body}` +
    `${empty ? `<text x="${W / 2}" y="${h / 2 + 10}" text-anchor="middle" class="empty">none in this period</text>` : ''}</svg></figure>`;
}

/** State spans from the per-bucket worst state: the bucket's minimum code, as STATE_CODES runs from worst
 * (FREERUN, 0) to best (LOCKED, 3). */
export function stateSpans(points: HistoryPoint[], everyS: number): { from: number; to: number; state: string }[] {
  const out: { from: number; to: number; state: string }[] = [];
  for (const p of points) {
    const state = STATE_NAMES[Math.round(p.min)] ?? 'FREERUN';
    const last = out.at(-1);
    if (last && last.state === state && p.t - last.to <= everyS) last.to = p.t + everyS;
    else out.push({ from: p.t, to: p.t + everyS, state });
  }
  return out;
}

/** Alarm spans from raise/clear events; one still raised at the end runs to the end. */
export function alarmSpans(events: StoredEvent[], toS: number): { name: string; from: number; to: number; severity: string }[] {
  const open = new Map<string, { from: number; severity: string }>();
  const out: { name: string; from: number; to: number; severity: string }[] = [];
  for (const e of events) {
    const t = Number(e.tNs / 1_000_000n) / 1000;
    const name = String(e.data.name ?? '?');
    const key = `${name}:${String(e.data.severity)}`;
    if (e.type === 'alarmRaised') open.set(key, { from: t, severity: String(e.data.severity) });
    else if (e.type === 'alarmCleared') {
      const o = open.get(key);
      if (o) out.push({ name, from: o.from, to: t, severity: o.severity });
      open.delete(key);
    }
  }
  for (const [key, o] of open) out.push({ name: key.split(':')[0]!, from: o.from, to: toS, severity: o.severity });
  return out;
}

export function renderReport(d: ReportData): string {
  // Points come every stepS (the coarsest table's interval when it is longer than the bucket asked for).
  const gap = d.stepS * 2.5;
  const band = (ps: HistoryPoint[]) => ps.map((p) => ({ t: p.t, lo: p.min, hi: p.max }));
  const line = (ps: HistoryPoint[]) => ps.map((p) => ({ t: p.t, v: p.mean }));
  const states = stateSpans(d.state, d.stepS);
  const alarms = alarmSpans(d.events, d.toS);
  const stateTotals: Record<string, number> = {};
  for (const s of states) stateTotals[s.state] = (stateTotals[s.state] ?? 0) + (s.to - s.from);
  const covered = Object.values(stateTotals).reduce((a, b) => a + b, 0);
  const rows = [...new Set(alarms.map((a) => a.name))].map((name) => ({
    label: name, spans: alarms.filter((a) => a.name === name).map((a) => ({ from: a.from, to: a.to, colour: COLOURS.alarm[a.severity] ?? '#777' })),
  }));
  const shownEvents = d.events.slice(-300);
  const summary = Object.entries(stateTotals).map(([k, v]) => `<li><b>${esc(k)}</b> ${(100 * v / Math.max(1, covered)).toFixed(2)} % of recorded time</li>`).join('');
  const lastErr = d.timeError.at(-1);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(d.name)}: time server report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px} .sub{color:#555;margin-bottom:16px}
figure{margin:16px 0} figcaption{font-weight:600;margin-bottom:4px}
svg text{font:11px sans-serif;fill:#444} svg .grid{stroke:#e3e3e3;stroke-width:1} svg .empty{font-size:14px;fill:#999}
table{border-collapse:collapse;font-size:12px} td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}
code{font-size:11px;color:#555}
</style></head><body>
<h1>${esc(d.name)}: time server report</h1>
<div class="sub">${iso(d.fromS)} to ${iso(d.toS)} (UTC), one point per ${d.stepS} s${d.resolutions.length ? ` (from the ${d.resolutions.join(' and ')} table${d.resolutions.length > 1 ? 's' : ''})` : ''}; generated ${iso(d.generatedAtS)} by stratum1-agent</div>
<ul>${summary || '<li>no samples in this period</li>'}${lastErr ? `<li>last time error estimate: ${fmt(lastErr.mean)} ns</li>` : ''}<li>${alarms.length} alarm${alarms.length === 1 ? '' : 's'} raised, ${d.events.length} events</li></ul>
${lineChart('Offset of the served clock from GPS (at each PPS sample)', 'ns', d.fromS, d.toS, [
    { label: 'offset (mean, min-max band)', colour: COLOURS.offset, points: line(d.offset), band: band(d.offset) },
  ], gap)}
${lineChart('Time error estimate (99 % bound on the served clock\'s error)', 'ns', d.fromS, d.toS, [
    { label: 'time error estimate', colour: COLOURS.error, points: line(d.timeError) },
  ], gap)}
${lineChart('Satellites', '', d.fromS, d.toS, [
    { label: 'used', colour: COLOURS.used, points: line(d.satellitesUsed) },
    { label: 'in view', colour: COLOURS.inView, points: line(d.satellitesInView) },
  ], gap)}
${timeline('Discipline state (worst in each interval)', d.fromS, d.toS, [{ label: 'state', spans: states.map((s) => ({ from: s.from, to: s.to, colour: COLOURS.state[s.state] ?? '#777' })) }], COLOURS.state)}
${timeline('Alarms', d.fromS, d.toS, rows.length ? rows : [{ label: '', spans: [] }], COLOURS.alarm)}
<h2>Events</h2>
<table><tr><th>time (UTC)</th><th>event</th><th>details</th></tr>
${shownEvents.map((e) => `<tr><td>${esc(iso(Number(e.tNs / 1_000_000n) / 1000))}</td><td>${esc(e.type)}</td><td><code>${esc(JSON.stringify(e.data))}</code></td></tr>`).join('\n')}
</table>
</body></html>
`;
}
