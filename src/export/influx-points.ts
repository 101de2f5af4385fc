/**
 * InfluxDB points (pure): one set a sample interval from Status, and one per alarm event. Measurements
 * (all tagged host and source): timing, gnss, constellation, satellite (per PRN: SNR, elevation,
 * azimuth, used), pps, ntp, alarm. The field names are documented in docs/EXPORTS.md and read by the
 * Grafana dashboard in grafana/.
 */
import type { Status } from '../status/status.ts';
import type { AgentEvent } from '../status/events.ts';

/** A point as the queue keeps it: the timestamp in nanoseconds, as a decimal string. */
export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  timestamp: string;
}

function clean(fields: Record<string, number | string | boolean | null | undefined>): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'number' && !Number.isFinite(v)) continue;
    out[k] = v;
  }
  return out;
}

export function pointsFrom(s: Status, tNs: bigint, base: Record<string, string>): Point[] {
  const ts = tNs.toString();
  const d = s.discipline;
  const g = s.gnss;
  const p = (measurement: string, fields: Record<string, number | string | boolean | null | undefined>, tags: Record<string, string> = {}): Point =>
    ({ measurement, tags: { ...base, ...tags }, fields: clean(fields), timestamp: ts });
  const out: Point[] = [
    p('timing', {
      offset_ns: d.offsetNs, local_offset_ns: d.localOffsetNs, frequency_ppb: d.frequencyPpb, time_error_ns: d.timeErrorEstimateNs,
      state: d.state, state_code: d.stateCode, stratum: d.stratum, clock_class: d.ptpClockClass, clock_accuracy: d.ptpClockAccuracy,
      leap_indicator: d.leapIndicator, holdover_s: d.holdoverElapsedS ?? 0, locked: d.state === 'LOCKED' ? 1 : 0,
    }),
    p('gnss', {
      fix: g.fix ? 1 : 0, mode: g.fixMode, satellites_used: g.satellitesUsed, satellites_in_view: g.satellitesInView,
      pdop: g.pdop, hdop: g.hdop, vdop: g.vdop, antenna_fault: g.antennaFault ? 1 : 0,
    }),
    ...Object.entries(g.byConstellation).map(([c, v]) => p('constellation', { used: v.used, in_view: v.inView }, { constellation: c })),
    ...g.satellites.map((x) => p('satellite', { snr_dbhz: x.snrDbHz, elevation_deg: x.elevationDeg, azimuth_deg: x.azimuthDeg, used: x.used ? 1 : 0 }, { constellation: x.constellation, prn: String(x.prn) })),
    p('pps', { present: s.pps.present ? 1 : 0, jitter_ns: s.pps.jitterNs, pulses: s.pps.pulses, missed: s.pps.missed, extra: s.pps.extra }),
  ];
  const ig = s.integrity;
  out.push(p('integrity', {
    failing: ig.failing ? 1 : 0, receiver_minus_upstream_s: ig.upstream.receiverMinusMajorityS,
    upstream_agreeing: ig.upstream.configured ? ig.upstream.majority?.members.length ?? 0 : null,
    position_distance_m: ig.position?.distanceM, cn0_mean_dbhz: ig.cn0MeanDbHz, cn0_baseline_dbhz: ig.cn0BaselineDbHz,
    satellites_baseline: ig.satellitesBaseline, label_pps_offset_s: ig.labelPpsOffsetS,
    ...Object.fromEntries(ig.checks.filter((c) => c.enabled && c.armed).map((c) => [`${c.name}_failing`, c.failing ? 1 : 0])),
  }));
  for (const x of ig.upstream.servers) {
    out.push(p('upstream', { offset_s: x.offsetS, delay_s: x.delayS, root_distance_s: x.rootDistanceS, reach: x.reach, stratum: x.stratum, state: x.state }, { server: x.name }));
  }
  if (s.ntp.enabled) {
    out.push(p('ntp', {
      received: s.ntp.received, replied: s.ntp.replied, kod: s.ntp.kissOfDeath, dropped_rate: s.ntp.dropped.rate ?? 0,
      dropped_denied: s.ntp.dropped.denied ?? 0, dropped_malformed: s.ntp.dropped.malformed ?? 0,
      requests_per_second: s.ntp.requestsPerSecond, clients: s.ntp.distinctClients,
    }));
  }
  if (s.ntp.nts.enabled) {
    const x = s.ntp.nts;
    out.push(p('nts', {
      ke_sessions: x.keSessions, ke_failures: Object.values(x.keFailures).reduce((a, b) => a + b, 0), requests: x.requests,
      replied: x.replied, naks: x.naks, failures: Object.values(x.failures).reduce((a, b) => a + b, 0),
      cookie_key_age_s: x.cookieKeyAgeS,
      ...Object.fromEntries(Object.entries(x.failures).map(([k, v]) => [`failed_${k.replace(/-/g, '_')}`, v])),
      ...Object.fromEntries(Object.entries(x.keFailures).map(([k, v]) => [`ke_failed_${k.replace(/-/g, '_')}`, v])),
    }));
  }
  // Partner mode: chronyd under telegraf's chrony measurement and field names (seconds, ppm), its
  // sources and server stats; ptp4l as pmc shows it. Only while the daemon answers.
  const c = s.partners.chrony;
  if (c.enabled) {
    out.push(p('partner', { up: c.reachable ? 1 : 0, synchronised: c.synchronised ? 1 : 0 }, { daemon: 'chronyd' }));
  }
  if (c.enabled && c.reachable) {
    const sec = (v: number | null) => (v === null ? null : v / 1e9);
    out.push(p('chrony', {
      system_time: sec(c.systemOffsetNs), last_offset: sec(c.lastOffsetNs), rms_offset: sec(c.rmsOffsetNs), frequency: c.frequencyPpm,
      residual_freq: c.residualFreqPpm, skew: c.skewPpm, root_delay: c.rootDelayS, root_dispersion: c.rootDispersionS,
      update_interval: c.updateIntervalS, stratum: c.stratum, synchronised: c.synchronised ? 1 : 0,
    }, { reference_id: c.referenceId ?? '', leap_status: c.leapStatus ?? 'unknown' }));
    for (const x of c.sources) {
      out.push(p('chrony_sources', {
        offset: x.lastRxAgeS === null ? null : x.offsetNs / 1e9, error: x.lastRxAgeS === null ? null : x.errorNs / 1e9, stratum: x.stratum,
        poll: x.pollLog2, reach: parseInt(x.reach, 8) & 255, last_rx: x.lastRxAgeS, samples: x.stats?.samples, stddev: x.stats ? x.stats.stdDevNs / 1e9 : null,
        state: x.state,
      }, { source: x.name, mode: x.mode }));
    }
    if (c.serverStats) {
      const st = c.serverStats;
      out.push(p('chrony_serverstats', { ntp_hits: st.ntpHits, ntp_drops: st.ntpDrops, cmd_hits: st.cmdHits, cmd_drops: st.cmdDrops, nke_hits: st.nkeHits, log_drops: st.logDrops }));
    }
  }
  const t = s.partners.ptp4l;
  if (t.enabled) {
    out.push(p('partner', { up: t.reachable ? 1 : 0, in_expected_state: t.inExpectedState ? 1 : 0 }, { daemon: 'ptp4l' }));
    if (t.reachable) {
      out.push(p('ptp4l', {
        port_state: t.portState, in_expected_state: t.inExpectedState ? 1 : 0, offset_from_master_ns: t.offsetFromMasterNs,
        mean_path_delay_ns: t.meanPathDelayNs, gm_clock_class: t.gmClockClass, steps_removed: t.stepsRemoved,
      }, { grandmaster: t.grandmasterIdentity ?? '' }));
    }
  }
  if (s.gpsd.enabled) {
    out.push(p('gpsd', {
      connected: s.gpsd.connected ? 1 : 0, pps_offset_ns: s.gpsd.pps?.offsetNs, toff_offset_ns: s.gpsd.toff?.offsetNs, errors: s.gpsd.errors,
    }));
  }
  if (t.enabled) out.push(p('phc2sys', { running: t.phc2sys.running ? 1 : 0, processes: t.phc2sys.processes.length }));
  return out.filter((x) => Object.keys(x.fields).length > 0);
}

/** An alarm raised or cleared, as a point (state 1 raised, 0 cleared). */
export function alarmPoint(e: AgentEvent, base: Record<string, string>): Point | undefined {
  if (e.type !== 'alarmRaised' && e.type !== 'alarmCleared') return undefined;
  return {
    measurement: 'alarm', tags: { ...base, alarm: e.name, severity: e.severity },
    fields: clean({ state: e.type === 'alarmRaised' ? 1 : 0, value: e.value, threshold: e.type === 'alarmRaised' ? e.threshold : null, text: `${e.type === 'alarmRaised' ? 'raised' : 'cleared'} ${e.name} (${e.severity})` }),
    timestamp: e.at.toString(),
  };
}
