/**
 * The per-second history: which figures of Status are kept every second, under which column and
 * metric name, in which units. Written once here; the schema, the writer, the rollups, the queries,
 * the CLI and the report all read this list.
 */
import type { Status } from '../status/status.ts';

export interface SampleMetric {
  /** Metric name (the CLI's and the report's), also its column in `samples`. */
  name: string;
  /** Stable small integer: the rollup tables' key. Never reuse one. */
  id: number;
  units: string;
  description: string;
  get(s: Status): number | null;
}

export const SAMPLE_METRICS: readonly SampleMetric[] = [
  { name: 'offset_ns', id: 1, units: 'ns', description: 'Offset of the served (disciplined) clock from GPS at the last PPS sample (chrony\'s "last offset")', get: (s) => s.discipline.offsetNs },
  { name: 'frequency_ppb', id: 2, units: 'ppb', description: 'Frequency correction of the local oscillator', get: (s) => s.discipline.frequencyPpb },
  { name: 'time_error_ns', id: 3, units: 'ns', description: 'Time error estimate of the disciplined clock (99 %)', get: (s) => s.discipline.timeErrorEstimateNs },
  { name: 'pps_jitter_ns', id: 4, units: 'ns', description: 'PPS jitter', get: (s) => s.pps.jitterNs },
  { name: 'satellites_used', id: 5, units: 'satellites', description: 'Satellites used in the solution', get: (s) => s.gnss.satellitesUsed },
  { name: 'satellites_in_view', id: 6, units: 'satellites', description: 'Satellites in view', get: (s) => s.gnss.satellitesInView },
  { name: 'pdop', id: 7, units: '', description: 'Position dilution of precision', get: (s) => s.gnss.pdop },
  { name: 'hdop', id: 8, units: '', description: 'Horizontal dilution of precision', get: (s) => s.gnss.hdop },
  { name: 'fix_mode', id: 9, units: '', description: 'Effective fix mode (1 none, 2 2D, 3 3D; 0 unknown)', get: (s) => s.gnss.fixMode },
  { name: 'state', id: 10, units: '', description: 'Discipline state (0 FREERUN, 1 ACQUIRING, 2 HOLDOVER, 3 LOCKED: STATE_CODES, worst first)', get: (s) => s.discipline.stateCode },
  { name: 'local_offset_ns', id: 12, units: 'ns', description: 'Estimated offset of the undisciplined local oscillator from GPS (what the discipline corrects)', get: (s) => s.discipline.localOffsetNs },
  { name: 'receiver_minus_upstream_ns', id: 13, units: 'ns', description: 'The receiver\'s time minus the upstream NTP servers\' majority (integrity.ntp_servers)', get: (s) => (s.integrity.upstream.receiverMinusMajorityS === null ? null : s.integrity.upstream.receiverMinusMajorityS * 1e9) },
  { name: 'position_distance_m', id: 14, units: 'm', description: 'Distance of the fix from the antenna\'s learned position (the position fence)', get: (s) => s.integrity.position?.distanceM ?? null },
  { name: 'cn0_mean_dbhz', id: 15, units: 'dB-Hz', description: 'Mean C/N0 of the satellites tracked (the jamming check)', get: (s) => s.integrity.cn0MeanDbHz },
  { name: 'integrity_failing', id: 16, units: '', description: 'Whether any integrity check fails (1) or none (0)', get: (s) => (s.integrity.failing ? 1 : 0) },
  // Partner mode: chronyd's and ptp4l's figures while they answer (null otherwise, and while off).
  { name: 'chrony_offset_ns', id: 17, units: 'ns', description: 'chronyd\'s system clock offset from true time (chronyc tracking: System time; positive: fast), partners.chrony', get: (s) => (s.partners.chrony.reachable ? s.partners.chrony.systemOffsetNs : null) },
  { name: 'chrony_stratum', id: 18, units: '', description: 'chronyd\'s stratum, partners.chrony', get: (s) => (s.partners.chrony.reachable ? s.partners.chrony.stratum : null) },
  { name: 'chrony_synchronised', id: 19, units: '', description: 'Whether chronyd is synchronised (1) or not (0: no reference, or not answering), partners.chrony', get: (s) => (s.partners.chrony.enabled ? (s.partners.chrony.synchronised ? 1 : 0) : null) },
  { name: 'ptp4l_offset_ns', id: 20, units: 'ns', description: 'ptp4l\'s offsetFromMaster (CURRENT_DATA_SET), partners.ptp4l', get: (s) => (s.partners.ptp4l.reachable ? s.partners.ptp4l.offsetFromMasterNs : null) },
  { name: 'ptp4l_in_expected_state', id: 21, units: '', description: 'Whether ptp4l is in its expected port state (1) or not (0: another state, or not answering), partners.ptp4l', get: (s) => (s.partners.ptp4l.enabled ? (s.partners.ptp4l.inExpectedState ? 1 : 0) : null) },
  { name: 'ntp_requests_per_s', id: 11, units: 'requests/s', description: 'NTP requests per second', get: (s) => (s.ntp.enabled ? s.ntp.requestsPerSecond : null) },
];

export const METRIC_BY_NAME = new Map(SAMPLE_METRICS.map((m) => [m.name, m]));
export const METRIC_BY_ID = new Map(SAMPLE_METRICS.map((m) => [m.id, m]));

/** One second of history: its Unix second and one value (or null) per metric, in SAMPLE_METRICS order. */
export interface Sample {
  t: number;
  values: (number | null)[];
}

export function sampleFrom(t: number, s: Status): Sample {
  return { t, values: SAMPLE_METRICS.map((m) => { const v = m.get(s); return v === null || !Number.isFinite(v) ? null : v; }) };
}
