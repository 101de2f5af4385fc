/**
 * The default alarm rules and the figure of Status each watches. Each rule's thresholds and timings
 * are options (config `alarms.<rule>`), documented with their defaults.
 */
import type { Status } from '../status/status.ts';
import type { AlarmRule } from './engine.ts';
import type { IntegrityCheck } from '../status/events.ts';

/** A default rule: an AlarmRule (always enabled by default), the units its thresholds are in, and the
 * figure of Status it watches (undefined: not applicable now, which neither raises nor clears). */
export type RuleDefault = Omit<AlarmRule, 'enabled'> & { units: string; read(s: Status): number | undefined };

/** Booleans are metrics 1 (true) / 0 (false). A new alarm is one entry here: the configuration section,
 * Status's alarm list, the SNMP alarm table and the notifications follow from it. */
/** How long a jump of the receiver's labels that the clock never saw keeps the time_jump alarm up. */
const JUMP_HOLD_S = 10;

export const DEFAULT_RULES: RuleDefault[] = [
  { name: 'time_error', metric: 'timeErrorEstimateNs', comparison: 'above', warning: 10_000, critical: 100_000, hysteresis: 1000, raiseAfterS: 10, clearAfterS: 30, units: 'ns', description: 'The disciplined clock\'s time error estimate.',
    read: (s) => (s.discipline.everLocked ? s.discipline.timeErrorEstimateNs ?? undefined : undefined) },
  { name: 'satellites_used', metric: 'satellitesUsed', comparison: 'below', warning: 4, critical: 1, hysteresis: 1, raiseAfterS: 30, clearAfterS: 30, units: 'satellites', description: 'Satellites used in the solution.',
    read: (s) => (s.receiver.connected ? s.gnss.satellitesUsed : undefined) },
  { name: 'fix_lost', metric: 'fixValid', comparison: 'below', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 5, clearAfterS: 10, units: 'boolean', description: 'The receiver has no confirmed fix.',
    read: (s) => (s.gnss.fix ? 1 : 0) },
  { name: 'pps_missing', metric: 'ppsPresent', comparison: 'below', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 2, clearAfterS: 10, units: 'boolean', description: 'No pulse per second.',
    read: (s) => (s.pps.source === 'none' ? undefined : s.pps.present ? 1 : 0) },
  { name: 'antenna_fault', metric: 'antennaFault', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 2, clearAfterS: 10, units: 'boolean', description: 'The antenna is shorted, or the receiver fell back to its internal antenna.',
    read: (s) => (s.gnss.antennaFault ? 1 : 0) },
  { name: 'holdover_duration', metric: 'holdoverElapsedS', comparison: 'above', warning: 600, critical: 3600, hysteresis: 0, raiseAfterS: 0, clearAfterS: 0, units: 's', description: 'Time in holdover.',
    read: (s) => s.discipline.holdoverElapsedS ?? 0 },
  { name: 'ntp_request_rate', metric: 'ntpRequestsPerSecond', comparison: 'above', warning: 10_000, critical: 25_000, hysteresis: 500, raiseAfterS: 30, clearAfterS: 60, units: 'requests/s', description: 'NTP requests per second (the server tops out near 30 000/s on a 2-core x86).',
    read: (s) => (s.ntp.enabled ? s.ntp.requestsPerSecond : undefined) },
  { name: 'database_write', metric: 'storeFailing', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 5, clearAfterS: 30, units: 'boolean', description: 'The history database cannot be written (disk full, read-only, locked, corrupt); time service goes on.',
    read: (s) => (s.store.enabled ? (s.store.healthy ? 0 : 1) : undefined) },
  { name: 'export_loss', metric: 'influxDropping', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 0, clearAfterS: 0, units: 'boolean', description: 'Points for InfluxDB were dropped by the queue\'s bound in the last ten minutes (InfluxDB down or refusing writes for too long).',
    read: (s) => (s.influx.enabled ? (s.influx.droppingRecently ? 1 : 0) : undefined) },
  { name: 'cpu_temperature', metric: 'cpuTemperatureC', comparison: 'above', warning: 70, critical: 80, hysteresis: 3, raiseAfterS: 60, clearAfterS: 60, units: 'degC', description: 'CPU temperature (/sys/class/thermal), where the machine has one.',
    read: (s) => s.host.cpuTemperatureC ?? undefined },
  { name: 'time_jump', metric: 'timeJumpRefused', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 0, clearAfterS: 0, units: 'boolean', description: `The receiver's time jumped: a jump away from the served clock is refused while the clock holds over (integrity.accept_jump says when one is believed); a single wrong label, which never reaches the clock, holds the alarm for ${JUMP_HOLD_S} s.`,
    read: (s) => (s.discipline.timeJumpRefused || (s.gnss.timeJumpAgeS !== null && s.gnss.timeJumpAgeS < JUMP_HOLD_S) ? 1 : 0) },
  // Partner mode (partners.chrony): chronyd as it runs, read-only. Not applicable while it is off; the
  // figures of an unreachable chronyd are unknown, so only chrony_unreachable speaks then.
  { name: 'chrony_unreachable', metric: 'chronyUnreachable', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 10, clearAfterS: 10, units: 'boolean', description: 'chronyd (partners.chrony) does not answer its command port or socket: stopped, or restarted and not yet up.',
    read: (s) => (s.partners.chrony.enabled ? (s.partners.chrony.reachable ? 0 : 1) : undefined) },
  { name: 'chrony_unsynchronised', metric: 'chronyUnsynchronised', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 60, clearAfterS: 30, units: 'boolean', description: 'chronyd (partners.chrony) has no reference, or says its leap status is unsynchronised: the box serves time it cannot vouch for.',
    read: (s) => (s.partners.chrony.enabled && s.partners.chrony.reachable ? (s.partners.chrony.synchronised ? 0 : 1) : undefined) },
  { name: 'chrony_offset', metric: 'chronyOffsetNs', comparison: 'above', warning: 100_000, critical: 1_000_000, hysteresis: 10_000, raiseAfterS: 60, clearAfterS: 60, units: 'ns', description: 'The size of the system clock offset chronyd reports from its reference (System time in chronyc tracking), partners.chrony.',
    read: (s) => (s.partners.chrony.enabled && s.partners.chrony.reachable && s.partners.chrony.systemOffsetNs !== null ? Math.abs(s.partners.chrony.systemOffsetNs) : undefined) },
  { name: 'chrony_source_unreachable', metric: 'chronySourcesUnreachable', comparison: 'above', warning: 0.5, critical: null, hysteresis: 0, raiseAfterS: 120, clearAfterS: 60, units: 'sources', description: 'Sources of chronyd (partners.chrony) none of whose last eight polls was answered (reach 0).',
    read: (s) => (s.partners.chrony.enabled && s.partners.chrony.reachable ? s.partners.chrony.sources.filter((x) => parseInt(x.reach, 8) === 0).length : undefined) },
  // Partner mode (partners.ptp4l): ptp4l as it runs, read-only.
  { name: 'ptp4l_unreachable', metric: 'ptp4lUnreachable', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 10, clearAfterS: 10, units: 'boolean', description: 'ptp4l (partners.ptp4l) does not answer on its management socket: stopped, or restarted and not yet up.',
    read: (s) => (s.partners.ptp4l.enabled ? (s.partners.ptp4l.reachable ? 0 : 1) : undefined) },
  { name: 'ptp4l_port_state', metric: 'ptp4lNotInExpectedState', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 30, clearAfterS: 10, units: 'boolean', description: 'ptp4l (partners.ptp4l) is not in its expected port state (partners.ptp4l.expected_port_state: MASTER on every port for a grandmaster, SLAVE on one for a follower).',
    read: (s) => (s.partners.ptp4l.enabled && s.partners.ptp4l.reachable ? (s.partners.ptp4l.inExpectedState ? 0 : 1) : undefined) },
  // The integrity checks (integrity.*): each check decides when it fails; its rule says when that is an alarm.
  check('upstream', 'gps_falseticker', 0, 0, 'The receiver\'s time is outside the interval the majority of the upstream NTP servers (integrity.ntp_servers) agree on: it is refused as a falseticker and the clock holds over.'),
  check('position', 'position_fence', 0, 30, 'The reported position left the fence around the antenna\'s long-run position (integrity.position_fence_m): spoofing, or a receiver fault.'),
  check('jamming', 'gnss_jamming', 0, 30, 'The C/N0 of the satellites tracked collapsed below its baseline (integrity.cn0_drop_db): jamming or interference.'),
  check('satellites', 'satellites_drop', 0, 30, 'The satellites used fell suddenly to a fraction of their recent level (integrity.satellites_drop_ratio).'),
  check('pps_count', 'pps_label_mismatch', 0, 10, 'The receiver\'s second labels disagree with the count of PPS pulses between them.'),
  check('leap', 'leap_mismatch', 0, 0, 'The receiver inserted a leap second the leap second table does not have, or the reverse.'),
];

/** A rule that watches one integrity check: 1 while it fails, undefined while it is off or unarmed. */
function check(name: IntegrityCheck, rule: string, raiseAfterS: number, clearAfterS: number, description: string): RuleDefault {
  const metric = `integrity_${name}`.replace(/_(.)/g, (_, c: string) => c.toUpperCase()) + 'Failing';
  return {
    name: rule, metric, comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS, clearAfterS, units: 'boolean', description,
    read: (s) => {
      const c = s.integrity.checks.find((x) => x.name === name);
      return c && c.enabled && c.armed ? (c.failing ? 1 : 0) : c?.failing ? 1 : undefined;
    },
  };
}

export function rulesFromConfig(cfg: Record<string, { enabled: boolean; warning: number; critical: number; hysteresis: number; raise_after_s: number; clear_after_s: number }>): AlarmRule[] {
  return DEFAULT_RULES.map((d) => {
    const c = cfg[d.name];
    const thr = (v: number | undefined, def: number | null) => (def === null ? null : v ?? def);
    return {
      name: d.name, metric: d.metric, comparison: d.comparison, description: d.description,
      warning: thr(c?.warning, d.warning), critical: thr(c?.critical, d.critical),
      hysteresis: c?.hysteresis ?? d.hysteresis, raiseAfterS: c?.raise_after_s ?? d.raiseAfterS,
      clearAfterS: c?.clear_after_s ?? d.clearAfterS, enabled: c?.enabled ?? true,
    };
  });
}

/** The figure each rule watches, from one Status snapshot. */
export function metricsFrom(s: Status): Record<string, number | undefined> {
  return Object.fromEntries(DEFAULT_RULES.map((r) => [r.metric, r.read(s)]));
}
