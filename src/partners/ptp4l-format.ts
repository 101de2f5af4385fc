/**
 * The ptp4l partner as `stratum1 status` shows it: the data sets as `pmc -u -b 0 'GET ...'` prints
 * them (pmc's field names, its hex for accuracy and variance, its decimals for offsets), with a
 * heading that says whether ptp4l is in its expected port state.
 */
import type { PartnerPtp4lStatus } from '../status/status.ts';

const hex = (v: number | null, digits: number) => (v === null ? '-' : `0x${v.toString(16).padStart(digits, '0')}`);
const num = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));
const bit = (v: boolean | null) => (v === null ? '-' : v ? '1' : '0');
const dec1 = (v: number | null) => (v === null ? '-' : v.toFixed(1));

function block(title: string, rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return `  ${title}\n${rows.map(([k, v]) => `    ${k.padEnd(w)} ${v}\n`).join('')}`;
}

/** One line per phc2sys: its pid, what it syncs from and to, and the ptp4l it asks. */
function formatPhc2sys(s: PartnerPtp4lStatus['phc2sys'] | undefined): string {
  if (!s?.running) return '  phc2sys: not running\n';
  return s.processes.map((x) => `  phc2sys: running (pid ${x.pid}), ${x.sources.join(', ') || '?'} -> ${x.target}` +
    `${x.ptp4lSocket ? `, asks ${x.ptp4lSocket}` : ''}\n`).join('');
}

export function formatPtp4lPartner(p: PartnerPtp4lStatus | undefined): string {
  if (!p?.enabled) return '';
  const head = p.reachable
    ? `${p.portState ?? 'no ports'}${p.inExpectedState ? '' : ` (NOT ${p.expectedPortState}, as expected)`}`
    : `UNREACHABLE: ${p.problem ?? p.lastError ?? 'not asked yet'}`;
  let out = `\nptp4l (${p.socket ?? '-'}): ${head}\n`;
  out += formatPhc2sys(p.phc2sys);
  if (!p.reachable) return out;
  for (const port of p.ports) {
    out += block(`PORT_DATA_SET ${port.portIdentity}`, [
      ['portIdentity', port.portIdentity], ['portState', port.portState], ['logMinDelayReqInterval', num(port.logMinDelayReqInterval)],
      ['peerMeanPathDelay', num(Math.trunc(port.peerMeanPathDelayNs))], ['logAnnounceInterval', num(port.logAnnounceInterval)],
      ['announceReceiptTimeout', num(port.announceReceiptTimeout)], ['logSyncInterval', num(port.logSyncInterval)],
      ['delayMechanism', num(port.delayMechanism)], ['versionNumber', num(port.versionNumber)],
    ]);
  }
  out += block('CURRENT_DATA_SET', [['stepsRemoved', num(p.stepsRemoved)], ['offsetFromMaster', dec1(p.offsetFromMasterNs)], ['meanPathDelay', dec1(p.meanPathDelayNs)]]);
  out += block('PARENT_DATA_SET', [
    ['parentPortIdentity', p.parentPortIdentity ?? '-'], ['grandmasterPriority1', num(p.gmPriority1)], ['gm.ClockClass', num(p.gmClockClass)],
    ['gm.ClockAccuracy', hex(p.gmClockAccuracy, 2)], ['gm.OffsetScaledLogVariance', hex(p.gmOffsetScaledLogVariance, 4)],
    ['grandmasterPriority2', num(p.gmPriority2)], ['grandmasterIdentity', `${p.grandmasterIdentity ?? '-'}${p.isGrandmaster ? ' (itself)' : ''}`],
  ]);
  out += block('TIME_PROPERTIES_DATA_SET', [
    ['currentUtcOffset', num(p.currentUtcOffset)], ['leap61', bit(p.leap61)], ['leap59', bit(p.leap59)], ['currentUtcOffsetValid', bit(p.currentUtcOffsetValid)],
    ['ptpTimescale', bit(p.ptpTimescale)], ['timeTraceable', bit(p.timeTraceable)], ['frequencyTraceable', bit(p.frequencyTraceable)],
    ['timeSource', `${hex(p.timeSource, 2)}${p.timeSourceName ? ` (${p.timeSourceName})` : ''}`],
  ]);
  if (p.masterOffsetNs !== null) {
    out += block('TIME_STATUS_NP', [
      ['master_offset', num(p.masterOffsetNs)], ['ingress_time', p.ingressTimeNs ?? '-'],
      ['gmPresent', p.gmPresent ? 'true' : 'false'], ['gmIdentity', p.timeStatusGmIdentity ?? '-'],
    ]);
  } else if (p.timeStatusProblem) {
    out += `  TIME_STATUS_NP: ${p.timeStatusProblem}\n`;
  }
  return out;
}
