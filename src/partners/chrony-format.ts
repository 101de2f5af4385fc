/**
 * The chronyd partner as `stratum1 status` shows it: a block like `chronyc tracking` and a table like
 * `chronyc sources`, with chronyc's units and words (fast/slow, Normal, the state marks, the reach in
 * octal), so that an operator reads it as they would read chronyc.
 */
import type { PartnerChronyStatus } from '../status/status.ts';

/** chronyc's unsigned interval: up to 1199 s in seconds, then minutes, hours, days, years. */
export function chronycInterval(s: number | null): string {
  if (s === null) return '   -';
  if (s < 1200) return String(s).padStart(4);
  if (s < 36000) return `${String(Math.floor(s / 60)).padStart(3)}m`;
  if (s < 345600) return `${String(Math.floor(s / 3600)).padStart(3)}h`;
  const d = Math.floor(s / 86400);
  return d > 999 ? `${String(Math.floor(d / 365)).padStart(3)}y` : `${String(d).padStart(3)}d`;
}

/** chronyc's signed offset with a unit (ns, us, ms up to 9999, then s). */
export function chronycOffset(seconds: number, signed = true): string {
  const a = Math.abs(seconds);
  const v = signed ? seconds : a;
  const num = (x: number, digits: number, width: number) => {
    const t = x.toFixed(digits);
    return (signed && !t.startsWith('-') ? `+${t}` : t).padStart(width);
  };
  const w = signed ? 5 : 4;
  if (a < 9999.5e-9) return `${num(v * 1e9, 0, w)}ns`;
  if (a < 9999.5e-6) return `${num(v * 1e6, 0, w)}us`;
  if (a < 9999.5e-3) return `${num(v * 1e3, 0, w)}ms`;
  return `${num(v, a < 999.5 ? 1 : 0, w + 1)}s`;
}

const LEAP_WORDS: Record<string, string> = {
  normal: 'Normal', 'insert second': 'Insert second', 'delete second': 'Delete second', unsynchronised: 'Not synchronised', invalid: 'Invalid',
};
const MODE_MARKS: Record<string, string> = { server: '^', peer: '=', refclock: '#', unknown: ' ' };

export function formatChronyPartner(c: PartnerChronyStatus | undefined): string {
  if (!c?.enabled) return '';
  let out = `\nchronyd (${c.transport}): ${c.reachable ? (c.synchronised ? 'synchronised' : 'NOT SYNCHRONISED') : `UNREACHABLE: ${c.lastError ?? 'not asked yet'}`}\n`;
  if (c.notice) out += `  note: ${c.notice}\n`;
  if (!c.reachable) return out;
  const sec = (v: number | null, digits: number, sign = false) => (v === null ? '-' : `${sign && v >= 0 ? '+' : ''}${v.toFixed(digits)} seconds`);
  const off = c.systemOffsetNs === null ? '-' : `${Math.abs(c.systemOffsetNs / 1e9).toFixed(9)} seconds ${c.systemOffsetNs > 0 ? 'fast' : 'slow'} of NTP time`;
  const freq = c.frequencyPpm === null ? '-' : `${Math.abs(c.frequencyPpm).toFixed(3)} ppm ${c.frequencyPpm > 0 ? 'fast' : 'slow'}`;
  const rows: [string, string][] = [
    ['Reference ID', `${c.referenceId ?? '-'} (${c.reference ?? ''})`],
    ['Stratum', String(c.stratum ?? '-')],
    ['Ref time (UTC)', c.refTimeUnixS === null || c.refTimeUnixS === 0 ? '-' : new Date(c.refTimeUnixS * 1000).toUTCString()],
    ['System time', off],
    ['Last offset', sec(c.lastOffsetNs === null ? null : c.lastOffsetNs / 1e9, 9, true)],
    ['RMS offset', sec(c.rmsOffsetNs === null ? null : c.rmsOffsetNs / 1e9, 9)],
    ['Frequency', freq],
    ['Residual freq', c.residualFreqPpm === null ? '-' : `${c.residualFreqPpm >= 0 ? '+' : ''}${c.residualFreqPpm.toFixed(3)} ppm`],
    ['Skew', c.skewPpm === null ? '-' : `${c.skewPpm.toFixed(3)} ppm`],
    ['Root delay', sec(c.rootDelayS, 9)],
    ['Root dispersion', sec(c.rootDispersionS, 9)],
    ['Update interval', c.updateIntervalS === null ? '-' : `${c.updateIntervalS.toFixed(1)} seconds`],
    ['Leap status', c.leapStatus === null ? '-' : LEAP_WORDS[c.leapStatus] ?? c.leapStatus],
  ];
  for (const [k, v] of rows) out += `  ${k.padEnd(16)}: ${v}\n`;
  if (c.sources.length) {
    out += '\n  MS Name/IP address         Stratum Poll Reach LastRx Last sample\n';
    out += '  ===============================================================================\n';
    for (const s of c.sources) {
      out += `  ${MODE_MARKS[s.mode] ?? ' '}${s.state} ${s.name.length > 27 ? `${s.name.slice(0, 26)}>` : s.name.padEnd(27)}  ${String(s.stratum).padStart(2)}  ` +
        `${String(s.pollLog2).padStart(2)}   ${s.reach.padStart(3)}  ${chronycInterval(s.lastRxAgeS)}  ` +
        `${chronycOffset(s.offsetNs / 1e9)}[${chronycOffset(s.measuredOffsetNs / 1e9)}] +/- ${chronycOffset(s.errorNs / 1e9, false)}\n`;
    }
  } else {
    out += '  (no sources)\n';
  }
  if (c.serverStats) {
    const s = c.serverStats;
    out += `  Server: ${s.ntpHits} NTP packets received, ${s.ntpDrops} dropped; ${s.cmdHits} command packets received, ${s.cmdDrops} dropped\n`;
  }
  return out;
}
