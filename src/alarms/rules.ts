/**
 * The default alarm rules and the metrics they read from Status. Each rule's thresholds and timings
 * are options (config `alarms.<rule>`), documented with their defaults.
 */
import { readFileSync } from 'node:fs';
import type { Status } from '../status/status.ts';
import type { AlarmRule } from './engine.ts';

/** A default rule: an AlarmRule (always enabled by default) with the units its thresholds are in. */
export type RuleDefault = Omit<AlarmRule, 'enabled'> & { units: string };

/** Booleans are metrics 1 (true) / 0 (false). */
export const DEFAULT_RULES: RuleDefault[] = [
  { name: 'time_error', metric: 'timeErrorEstimateNs', comparison: 'above', warning: 10_000, critical: 100_000, hysteresis: 1000, raiseAfterS: 10, clearAfterS: 30, units: 'ns', description: 'The disciplined clock\'s time error estimate.' },
  { name: 'satellites_used', metric: 'satellitesUsed', comparison: 'below', warning: 4, critical: 1, hysteresis: 1, raiseAfterS: 30, clearAfterS: 30, units: 'satellites', description: 'Satellites used in the solution.' },
  { name: 'fix_lost', metric: 'fixValid', comparison: 'below', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 5, clearAfterS: 10, units: 'boolean', description: 'The receiver has no confirmed fix.' },
  { name: 'pps_missing', metric: 'ppsPresent', comparison: 'below', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 2, clearAfterS: 10, units: 'boolean', description: 'No pulse per second.' },
  { name: 'antenna_fault', metric: 'antennaFault', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 2, clearAfterS: 10, units: 'boolean', description: 'The antenna is shorted, or the receiver fell back to its internal antenna.' },
  { name: 'holdover_duration', metric: 'holdoverElapsedS', comparison: 'above', warning: 600, critical: 3600, hysteresis: 0, raiseAfterS: 0, clearAfterS: 0, units: 's', description: 'Time in holdover.' },
  { name: 'ntp_request_rate', metric: 'ntpRequestsPerSecond', comparison: 'above', warning: 10_000, critical: 25_000, hysteresis: 500, raiseAfterS: 30, clearAfterS: 60, units: 'requests/s', description: 'NTP requests per second (the server tops out near 30 000/s on a 2-core x86).' },
  { name: 'database_write', metric: 'storeFailing', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 5, clearAfterS: 30, units: 'boolean', description: 'The history database cannot be written (disk full, read-only, locked, corrupt); time service goes on.' },
  { name: 'export_loss', metric: 'influxDropping', comparison: 'above', warning: null, critical: 0.5, hysteresis: 0, raiseAfterS: 0, clearAfterS: 0, units: 'boolean', description: 'Points for InfluxDB were dropped by the queue\'s bound in the last ten minutes (InfluxDB down or refusing writes for too long).' },
  { name: 'cpu_temperature', metric: 'cpuTemperatureC', comparison: 'above', warning: 70, critical: 80, hysteresis: 3, raiseAfterS: 60, clearAfterS: 60, units: 'degC', description: 'CPU temperature (/sys/class/thermal), where the machine has one.' },
];

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

/** CPU temperature in degrees C from the first thermal zone, or undefined where there is none. */
export function readCpuTemperature(path = '/sys/class/thermal/thermal_zone0/temp'): number | undefined {
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(v) ? v / 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function metricsFrom(s: Status, cpuTemperatureC: number | undefined): Record<string, number | undefined> {
  return {
    timeErrorEstimateNs: s.discipline.everLocked ? s.discipline.timeErrorEstimateNs ?? undefined : undefined,
    satellitesUsed: s.receiver.connected ? s.gnss.satellitesUsed : undefined,
    fixValid: s.gnss.fix ? 1 : 0,
    ppsPresent: s.pps.source === 'none' ? undefined : s.pps.present ? 1 : 0,
    antennaFault: s.gnss.antennaFault ? 1 : 0,
    holdoverElapsedS: s.discipline.holdoverElapsedS ?? 0,
    ntpRequestsPerSecond: s.ntp.enabled ? s.ntp.requestsPerSecond : undefined,
    influxDropping: s.influx.enabled ? (s.influx.droppingRecently ? 1 : 0) : undefined,
    storeFailing: s.store.enabled ? (s.store.healthy ? 0 : 1) : undefined,
    cpuTemperatureC,
  };
}
