/**
 * Prometheus exposition (pure): Status in, the text format out. Names follow Prometheus conventions
 * (snake case, base units in the name, `_total` for counters). Where a figure means what a metric of
 * chrony_exporter or the gpsd exporters means, it carries that metric's name, so their dashboards and
 * alerts work on this agent too; the rest is ours, under `stratum1_`. docs/EXPORTS.md lists them all.
 */
import type { Status } from '../status/status.ts';
import { STATE_CODES } from '../status/status.ts';

type Kind = 'gauge' | 'counter';
interface Family {
  name: string;
  help: string;
  kind: Kind;
  samples: { labels?: Record<string, string>; value: number | null | undefined }[];
}

const escLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const num = (v: number) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));
const ns = (v: number | null) => (v === null ? null : v / 1e9);
const bool = (v: boolean) => (v ? 1 : 0);
const popcount = (v: number) => { let c = 0; for (let x = v; x; x >>= 1) c += x & 1; return c; };

export function families(s: Status): Family[] {
  const d = s.discipline;
  const g = s.gnss;
  const one = (name: string, help: string, value: number | null | undefined, kind: Kind = 'gauge'): Family => ({ name, help, kind, samples: [{ value }] });
  const sats = g.satellites.map((x) => ({ prn: String(x.prn), constellation: x.constellation }));
  const perSat = (name: string, help: string, get: (i: number) => number | null): Family => ({
    name, help, kind: 'gauge', samples: sats.map((labels, i) => ({ labels, value: get(i) })),
  });
  const f: Family[] = [
    // chrony_exporter's names: chronyd's own figures when chronyd is watched (partners.chrony), else
    // the agent's, for what they mean there (the agent's are under stratum1_* as well, always).
    ...(s.partners.chrony.enabled ? chronyFamilies(s) : agentChronyFamilies(s)),
    one('stratum1_offset_seconds', 'Offset of the served clock from GPS at the last PPS sample.', ns(d.offsetNs)),
    one('stratum1_root_dispersion_seconds', 'Root dispersion served over NTP.', d.rootDispersionS),
    one('stratum1_stratum', 'Stratum served over NTP (1 when locked to GPS, 16 unsynchronised).', d.stratum),
    one('stratum1_ntp_requests_total', 'NTP requests received.', s.ntp.enabled ? s.ntp.received : null, 'counter'),
    // The gpsd exporters' names (those already in snake case).
    one('gpsd_tpv_mode', 'NMEA fix mode: 0 unknown, 1 no fix, 2 2D, 3 3D.', g.fixMode),
    one('gpsd_tpv_lat', 'Latitude in degrees (with a current fix).', g.latitudeDeg),
    one('gpsd_tpv_lon', 'Longitude in degrees (with a current fix).', g.longitudeDeg),
    one('gpsd_sky_hdop', 'Horizontal dilution of precision.', g.hdop),
    one('gpsd_sky_pdop', 'Position dilution of precision.', g.pdop),
    one('gpsd_sky_vdop', 'Vertical dilution of precision.', g.vdop),
    perSat('gpsd_sat_ss', 'Signal to noise ratio in dB-Hz, per satellite.', (i) => g.satellites[i]!.snrDbHz),
    perSat('gpsd_sat_el', 'Elevation in degrees, per satellite.', (i) => g.satellites[i]!.elevationDeg),
    perSat('gpsd_sat_az', 'Azimuth in degrees, per satellite.', (i) => g.satellites[i]!.azimuthDeg),
    perSat('gpsd_sat_used', 'Whether the satellite is used in the solution.', (i) => bool(g.satellites[i]!.used)),
    // Ours.
    { name: 'stratum1_info', help: 'The agent: version, name, receiver and PPS sources.', kind: 'gauge', samples: [{ labels: { version: s.agent.version, name: s.agent.name, receiver: s.receiver.source, pps: s.pps.source, simulated: String(s.agent.simulated) }, value: 1 }] },
    one('stratum1_start_time_seconds', 'When the agent started.', s.agent.startedAtUnixS),
    { name: 'stratum1_discipline_state', help: 'Discipline state: 1 for the current one.', kind: 'gauge', samples: Object.keys(STATE_CODES).map((state) => ({ labels: { state }, value: bool(d.state === state) })) },
    one('stratum1_discipline_state_code', 'Discipline state as its code: 0 FREERUN, 1 ACQUIRING, 2 HOLDOVER, 3 LOCKED (worst first, as in the MIB and the history).', d.stateCode),
    one('stratum1_time_error_estimate_seconds', 'Honest bound (99 %) on the served clock\'s error.', ns(d.timeErrorEstimateNs)),
    one('stratum1_local_offset_seconds', 'Estimated offset of the undisciplined local oscillator from GPS.', ns(d.localOffsetNs)),
    // A ratio, the base unit (as node_exporter's node_timex_frequency_adjustment_ratio); it was
    // stratum1_frequency_offset_ppm until issue 19. Multiply by 1e6 for ppm.
    one('stratum1_frequency_offset_ratio', 'Frequency error of the local oscillator the discipline corrects (a ratio: 1e-6 is 1 ppm).', d.frequencyPpb === null ? null : d.frequencyPpb / 1e9),
    one('stratum1_holdover_seconds', 'Time spent in holdover so far (0 when not in holdover).', d.holdoverElapsedS ?? 0),
    one('stratum1_leap_indicator', 'NTP leap indicator served (3: unsynchronised).', d.leapIndicator),
    one('stratum1_ptp_clock_class', 'PTP clockClass the clock qualifies for.', d.ptpClockClass),
    one('stratum1_tai_utc_offset_seconds', 'TAI - UTC from the leap second table.', d.taiUtcS),
    one('stratum1_discipline_samples_accepted_total', 'PPS samples accepted by the servo.', d.samplesAccepted, 'counter'),
    one('stratum1_discipline_samples_rejected_total', 'PPS samples rejected as outliers.', d.samplesRejected, 'counter'),
    one('stratum1_clock_steps_total', 'Steps of the disciplined clock.', d.steps, 'counter'),
    one('stratum1_gnss_fix', 'Whether the receiver has a confirmed fix.', bool(g.fix)),
    { name: 'stratum1_gnss_satellites_used', help: 'Satellites used in the solution, per constellation.', kind: 'gauge', samples: Object.entries(g.byConstellation).map(([c, v]) => ({ labels: { constellation: c }, value: v.used })) },
    { name: 'stratum1_gnss_satellites_visible', help: 'Satellites in view, per constellation.', kind: 'gauge', samples: Object.entries(g.byConstellation).map(([c, v]) => ({ labels: { constellation: c }, value: v.inView })) },
    one('stratum1_gnss_altitude_msl_meters', 'Altitude above mean sea level (with a current 3D fix).', g.altitudeMslM),
    one('stratum1_antenna_fault', 'Whether the antenna is faulty (shorted, or the receiver fell back to its internal patch).', bool(g.antennaFault)),
    one('stratum1_receiver_connected', 'Whether the receiver is connected.', bool(s.receiver.connected)),
    one('stratum1_receiver_sentences_total', 'NMEA sentences accepted.', s.receiver.sentences, 'counter'),
    { name: 'stratum1_receiver_rejected_total', help: 'Lines rejected, by reason.', kind: 'counter', samples: Object.entries(s.receiver.rejected).map(([reason, v]) => ({ labels: { reason }, value: v })) },
    one('stratum1_receiver_outages_total', 'Receiver outages (disconnection or silence).', s.receiver.outages, 'counter'),
    one('stratum1_pps_present', 'Whether PPS pulses are arriving.', bool(s.pps.present)),
    one('stratum1_pps_pulses_total', 'PPS pulses seen.', s.pps.pulses, 'counter'),
    one('stratum1_pps_missed_total', 'PPS pulses missed.', s.pps.missed, 'counter'),
    one('stratum1_pps_jitter_seconds', 'PPS jitter (RMS of the pulse-to-pulse deviations).', ns(s.pps.jitterNs)),
    one('stratum1_ntp_replies_total', 'NTP replies sent.', s.ntp.replied, 'counter'),
    one('stratum1_ntp_kiss_of_death_total', 'Kiss-o\'-death replies sent.', s.ntp.kissOfDeath, 'counter'),
    { name: 'stratum1_ntp_dropped_total', help: 'NTP requests dropped, by reason.', kind: 'counter', samples: Object.entries(s.ntp.dropped).map(([reason, v]) => ({ labels: { reason }, value: v })) },
    one('stratum1_ntp_requests_per_second', 'NTP request rate over the last seconds.', s.ntp.requestsPerSecond),
    one('stratum1_ntp_clients', 'Distinct NTP clients (estimate).', s.ntp.distinctClients),
    // NTS (absent while ntp.nts is off).
    one('stratum1_nts_ke_sessions_total', 'NTS-KE key exchanges that ended with cookies sent.', s.ntp.nts.enabled ? s.ntp.nts.keSessions : null, 'counter'),
    { name: 'stratum1_nts_ke_failures_total', help: 'NTS-KE connections that ended without cookies, by reason.', kind: 'counter', samples: Object.entries(s.ntp.nts.keFailures).map(([reason, v]) => ({ labels: { reason }, value: v })) },
    one('stratum1_nts_requests_total', 'NTP requests carrying NTS extension fields.', s.ntp.nts.enabled ? s.ntp.nts.requests : null, 'counter'),
    one('stratum1_nts_replies_total', 'NTS-authenticated NTP replies sent.', s.ntp.nts.enabled ? s.ntp.nts.replied : null, 'counter'),
    one('stratum1_nts_naks_total', 'NTS NAKs (kiss code NTSN) sent.', s.ntp.nts.enabled ? s.ntp.nts.naks : null, 'counter'),
    { name: 'stratum1_nts_failures_total', help: 'NTS requests refused, by reason (malformed, unknown-key, undecryptable, authenticator, cookie-length, nak-suppressed).', kind: 'counter', samples: Object.entries(s.ntp.nts.failures).map(([reason, v]) => ({ labels: { reason }, value: v })) },
    one('stratum1_nts_cookie_key_age_seconds', 'Age of the current NTS cookie key.', s.ntp.nts.enabled ? s.ntp.nts.cookieKeyAgeS : null),
    { name: 'stratum1_alarm_severity', help: 'Each alarm rule: 0 clear, 1 warning, 2 critical.', kind: 'gauge', samples: s.alarms.map((a) => ({ labels: { alarm: a.name }, value: a.severity === 'critical' ? 2 : a.severity === 'warning' ? 1 : 0 })) },
    one('stratum1_store_healthy', 'Whether the history database is being written.', s.store.enabled ? bool(s.store.healthy) : null),
    one('stratum1_store_pending', 'Samples and events waiting to be written.', s.store.enabled ? s.store.pending : null),
    one('stratum1_store_dropped_total', 'Samples and events dropped while the disk failed.', s.store.enabled ? s.store.dropped : null, 'counter'),
    one('stratum1_store_size_bytes', 'Size of the history database and its WAL.', s.store.sizeBytes),
    { name: 'stratum1_ptp_messages_sent_total', help: 'PTP messages sent, by type.', kind: 'counter', samples: Object.entries(s.ptp.sent).map(([type, v]) => ({ labels: { type }, value: v })) },
    { name: 'stratum1_ptp_messages_received_total', help: 'PTP messages received, by type.', kind: 'counter', samples: Object.entries(s.ptp.received).map(([type, v]) => ({ labels: { type }, value: v })) },
    { name: 'stratum1_ptp_malformed_total', help: 'PTP datagrams refused as malformed, by reason.', kind: 'counter', samples: Object.entries(s.ptp.malformed).map(([reason, v]) => ({ labels: { reason }, value: v })) },
    one('stratum1_ptp_better_master', 'Whether a better master than this grandmaster announces on the domain.', s.ptp.enabled ? bool(s.ptp.betterMaster) : null),
    // Integrity: the checks, and the upstream servers as chrony_exporter shows its sources.
    one('stratum1_integrity_failing', 'Whether any integrity check fails now.', bool(s.integrity.failing)),
    { name: 'stratum1_integrity_check_failing', help: 'Each integrity check: 1 failing, 0 passing (absent while off or unarmed).', kind: 'gauge', samples: s.integrity.checks.filter((c) => c.enabled && c.armed).map((c) => ({ labels: { check: c.name }, value: bool(c.failing) })) },
    { name: 'stratum1_integrity_check_value', help: 'Each integrity check\'s figure, in the units of its label (s, m, dB, satellites).', kind: 'gauge', samples: s.integrity.checks.filter((c) => c.value !== null).map((c) => ({ labels: { check: c.name, units: c.units }, value: c.value })) },
    { name: 'stratum1_integrity_check_failures_total', help: 'Times each integrity check has failed since start.', kind: 'counter', samples: s.integrity.checks.map((c) => ({ labels: { check: c.name }, value: c.failures })) },
    one('stratum1_integrity_receiver_minus_upstream_seconds', 'The receiver\'s last label minus the upstream majority.', s.integrity.upstream.receiverMinusMajorityS),
    one('stratum1_integrity_upstream_agreeing', 'Upstream servers in the majority (0: no majority).', s.integrity.upstream.configured ? s.integrity.upstream.majority?.members.length ?? 0 : null),
    one('stratum1_integrity_position_distance_meters', 'The current fix\'s distance from the antenna\'s learned position.', s.integrity.position?.distanceM),
    one('stratum1_integrity_cn0_mean_dbhz', 'Mean C/N0 of the satellites tracked (recent).', s.integrity.cn0MeanDbHz),
    one('stratum1_integrity_cn0_baseline_dbhz', 'Long-run mean C/N0 the jamming check compares with.', s.integrity.cn0BaselineDbHz),
    { name: 'stratum1_upstream_offset_seconds', help: 'Upstream server minus the served clock (the clock filter\'s pick).', kind: 'gauge', samples: s.integrity.upstream.servers.map((x) => ({ labels: { source_name: x.name }, value: x.offsetS })) },
    { name: 'stratum1_upstream_reachability_ratio', help: 'Share of the last eight polls answered.', kind: 'gauge', samples: s.integrity.upstream.servers.map((x) => ({ labels: { source_name: x.name }, value: popcount(x.reach) / 8 })) },
    { name: 'stratum1_upstream_stratum', help: 'Stratum of each upstream server.', kind: 'gauge', samples: s.integrity.upstream.servers.map((x) => ({ labels: { source_name: x.name }, value: x.stratum })) },
    { name: 'stratum1_upstream_polling_interval_seconds', help: 'Poll interval of each upstream server.', kind: 'gauge', samples: s.integrity.upstream.servers.map((x) => ({ labels: { source_name: x.name }, value: x.pollS })) },
    { name: 'stratum1_upstream_state', help: 'Each upstream server\'s state: 1 for the current one.', kind: 'gauge', samples: s.integrity.upstream.servers.map((x) => ({ labels: { source_name: x.name, state: x.state }, value: 1 })) },
    { name: 'stratum1_upstream_root_distance_seconds', help: 'Half-width of the interval each upstream server vouches for.', kind: 'gauge', samples: s.integrity.upstream.servers.map((x) => ({ labels: { source_name: x.name }, value: x.rootDistanceS })) },
    one('stratum1_snmp_traps_sent_total', 'SNMP notifications sent.', s.snmp.trapsSent, 'counter'),
    // The chronyd feed (export.chrony_sock): absent while it is off.
    one('stratum1_chrony_feed_connected', 'Whether the feed to chronyd\'s SOCK refclock is connected.', s.chronySock.enabled ? bool(s.chronySock.connected) : null),
    one('stratum1_chrony_feed_samples_sent_total', 'PPS-paired samples sent to chronyd.', s.chronySock.enabled ? s.chronySock.samplesSent : null, 'counter'),
    one('stratum1_chrony_feed_samples_skipped_total', 'Samples not sent: no connection to chronyd.', s.chronySock.enabled ? s.chronySock.samplesSkipped : null, 'counter'),
    one('stratum1_chrony_feed_send_errors_total', 'Sends to chronyd that failed.', s.chronySock.enabled ? s.chronySock.sendErrors : null, 'counter'),
    one('stratum1_chrony_feed_reconnects_total', 'Connections to chronyd after the first (chronyd restarted).', s.chronySock.enabled ? s.chronySock.reconnects : null, 'counter'),
    // Partner mode: whether each watched daemon answers, and ptp4l as pmc shows it (absent while off).
    one('stratum1_partner_chrony_up', 'Whether chronyd (partners.chrony) answers.', s.partners.chrony.enabled ? bool(s.partners.chrony.reachable) : null),
    one('stratum1_partner_chrony_synchronised', 'Whether chronyd has a reference and its leap status is not unsynchronised.', s.partners.chrony.enabled ? bool(s.partners.chrony.synchronised) : null),
    one('stratum1_partner_ptp4l_up', 'Whether ptp4l (partners.ptp4l) answers on its management socket.', s.partners.ptp4l.enabled ? bool(s.partners.ptp4l.reachable) : null),
    { name: 'stratum1_partner_ptp4l_port_state', help: 'ptp4l\'s first port state: 1 for the current one.', kind: 'gauge', samples: s.partners.ptp4l.portState === null ? [] : [{ labels: { state: s.partners.ptp4l.portState }, value: 1 }] },
    one('stratum1_partner_ptp4l_in_expected_state', 'Whether ptp4l is in partners.ptp4l.expected_port_state.', s.partners.ptp4l.enabled ? bool(s.partners.ptp4l.inExpectedState) : null),
    one('stratum1_partner_ptp4l_offset_from_master_seconds', 'CURRENT_DATA_SET offsetFromMaster.', ns(s.partners.ptp4l.offsetFromMasterNs)),
    one('stratum1_partner_ptp4l_mean_path_delay_seconds', 'CURRENT_DATA_SET meanPathDelay.', ns(s.partners.ptp4l.meanPathDelayNs)),
    one('stratum1_partner_ptp4l_gm_clock_class', 'The grandmaster\'s clockClass (PARENT_DATA_SET).', s.partners.ptp4l.gmClockClass),
    one('stratum1_partner_ptp4l_steps_removed', 'CURRENT_DATA_SET stepsRemoved.', s.partners.ptp4l.stepsRemoved),
    one('stratum1_partner_phc2sys_running', 'Whether phc2sys runs beside the watched ptp4l (from /proc).', s.partners.ptp4l.enabled ? bool(s.partners.ptp4l.phc2sys.running) : null),
    // gpsd as the source: its own view of its last PPS and TOFF reports (absent until it sent one).
    one('stratum1_gpsd_connected', 'Whether the agent is connected to gpsd (gpsd as the source).', s.gpsd.enabled ? bool(s.gpsd.connected) : null),
    one('stratum1_gpsd_pps_offset_seconds', 'gpsd\'s last PPS report: the system clock at the pulse minus the true second.', ns(s.gpsd.pps?.offsetNs ?? null)),
    one('stratum1_gpsd_toff_offset_seconds', 'gpsd\'s last TOFF report: the system clock when the serial time arrived minus that time.', ns(s.gpsd.toff?.offsetNs ?? null)),
    { name: 'stratum1_events_total', help: 'Events raised, by type.', kind: 'counter', samples: Object.entries(s.events.counts).map(([type, v]) => ({ labels: { type }, value: v })) },
  ];
  return f;
}

const fam = (name: string, help: string, value: number | null | undefined, kind: Kind = 'gauge', labels?: Record<string, string>): Family =>
  ({ name, help, kind, samples: [{ labels, value }] });

/** The agent's own clock under chrony_exporter's tracking and serverstats names, and its upstream
 * servers as chrony_exporter's sources. */
function agentChronyFamilies(s: Status): Family[] {
  const d = s.discipline;
  const up = s.integrity.upstream.servers;
  const src = (x: { name: string }) => ({ source_address: x.name, source_name: x.name });
  return [
    fam('chrony_tracking_info', 'Tracking information: the reference (GPS with PPS).', 1, 'gauge', { tracking_address: '', tracking_name: d.refId, tracking_refid: d.refId }),
    fam('chrony_tracking_last_offset_seconds', 'Offset of the served clock from GPS at the last PPS sample.', ns(d.offsetNs)),
    fam('chrony_tracking_root_dispersion_seconds', 'Root dispersion served over NTP.', d.rootDispersionS),
    fam('chrony_tracking_stratum', 'Stratum served over NTP (1 when locked to GPS, 16 unsynchronised).', d.stratum),
    fam('chrony_tracking_remote_reference', 'Whether the reference is a remote server (0: a local reference clock, GPS).', 0),
    fam('chrony_tracking_reference_timestamp_seconds', 'Time of the last clock update from the reference.', d.lastSampleAtUnixS),
    fam('chrony_serverstats_ntp_packets_received_total', 'NTP requests received.', s.ntp.received, 'counter'),
    fam('chrony_serverstats_ntp_packets_dropped_total', 'NTP requests dropped by rate limiting.', s.ntp.dropped.rate ?? 0, 'counter'),
    { name: 'chrony_sources_last_sample_offset_seconds', help: 'Upstream server minus the served clock (the clock filter\'s pick).', kind: 'gauge', samples: up.map((x) => ({ labels: src(x), value: x.offsetS })) },
    { name: 'chrony_sources_reachability_ratio', help: 'Share of the last eight polls answered.', kind: 'gauge', samples: up.map((x) => ({ labels: src(x), value: popcount(x.reach) / 8 })) },
    { name: 'chrony_sources_stratum', help: 'Stratum of each upstream server.', kind: 'gauge', samples: up.map((x) => ({ labels: src(x), value: x.stratum })) },
    { name: 'chrony_sources_polling_interval_seconds', help: 'Poll interval of each upstream server.', kind: 'gauge', samples: up.map((x) => ({ labels: src(x), value: x.pollS })) },
  ];
}

/** chronyc's words for the state marks, as chrony_exporter labels them. */
const CHRONY_STATE_NAME: Record<string, string> = { '*': 'sync', '+': 'candidate', '-': 'outlier', x: 'falseticker', '~': 'jittery', '?': 'unreach', ' ': 'unknown' };
const CHRONY_MODE_NAME: Record<string, string> = { server: 'client', peer: 'peer', refclock: 'ref', unknown: 'unknown' };

/** chronyd as the partner sees it (partners.chrony), under chrony_exporter's names: what its
 * dashboards and alerts read, fed by the agent instead of a second exporter. Absent while chronyd
 * does not answer (stratum1_partner_chrony_up says so). */
function chronyFamilies(s: Status): Family[] {
  const c = s.partners.chrony;
  if (!c.reachable) return [];
  const src = (x: { name: string; address: string | null }) => ({ source_address: x.address ?? x.name, source_name: x.name });
  const st = c.serverStats;
  const per = (name: string, help: string, get: (x: typeof c.sources[number]) => number | null, kind: Kind = 'gauge'): Family =>
    ({ name, help, kind, samples: c.sources.map((x) => ({ labels: src(x), value: get(x) })) });
  return [
    fam('chrony_tracking_info', 'chronyd\'s tracking: its reference.', 1, 'gauge', { tracking_address: c.reference ?? '', tracking_name: c.reference ?? '', tracking_refid: c.referenceId ?? '' }),
    fam('chrony_tracking_last_offset_seconds', 'chronyd\'s estimated local offset at its last clock update.', ns(c.lastOffsetNs)),
    fam('chrony_tracking_rms_offset_seconds', 'chronyd\'s long-term average of the offset.', ns(c.rmsOffsetNs)),
    fam('chrony_tracking_system_time_seconds', 'The system clock minus chronyd\'s estimate of true time (chronyc tracking: System time; positive: fast).', ns(c.systemOffsetNs)),
    fam('chrony_tracking_frequency_ppms', 'The rate at which the system clock would be wrong without chronyd (ppm; positive: fast).', c.frequencyPpm),
    fam('chrony_tracking_residual_frequency_ppms', 'chronyd\'s residual frequency for its reference (ppm).', c.residualFreqPpm),
    fam('chrony_tracking_skew_ppms', 'chronyd\'s estimated error bound on the frequency (ppm).', c.skewPpm),
    fam('chrony_tracking_root_delay_seconds', 'chronyd\'s root delay.', c.rootDelayS),
    fam('chrony_tracking_root_dispersion_seconds', 'chronyd\'s root dispersion.', c.rootDispersionS),
    fam('chrony_tracking_update_interval_seconds', 'Interval between chronyd\'s last two clock updates.', c.updateIntervalS),
    fam('chrony_tracking_stratum', 'chronyd\'s stratum.', c.stratum),
    fam('chrony_tracking_reference_timestamp_seconds', 'When chronyd last updated its clock from the reference.', c.refTimeUnixS),
    fam('chrony_tracking_remote_reference', 'Whether chronyd\'s reference is a remote server (0: a reference clock or its local clock).', c.sources.some((x) => x.state === '*' && x.mode !== 'refclock') ? 1 : 0),
    per('chrony_sources_last_sample_age_seconds', 'Age of each source\'s last good sample.', (x) => x.lastRxAgeS),
    per('chrony_sources_last_sample_offset_seconds', 'Each source\'s last sample offset (positive: the local clock is ahead).', (x) => (x.lastRxAgeS === null ? null : x.offsetNs / 1e9)),
    per('chrony_sources_last_sample_error_margin_seconds', 'The error margin of each source\'s last sample.', (x) => (x.lastRxAgeS === null ? null : x.errorNs / 1e9)),
    per('chrony_sources_polling_interval_seconds', 'Each source\'s polling interval.', (x) => 2 ** x.pollLog2),
    per('chrony_sources_stratum', 'Each source\'s stratum.', (x) => x.stratum),
    per('chrony_sources_reachability_ratio', 'Share of each source\'s last eight polls answered.', (x) => popcount(parseInt(x.reach, 8) & 255) / 8),
    { name: 'chrony_sources_state_info', help: 'Each source\'s state in chronyd\'s selection (1 for its current state).', kind: 'gauge', samples: c.sources.map((x) => ({ labels: { ...src(x), source_state: CHRONY_STATE_NAME[x.state] ?? 'unknown', source_mode: CHRONY_MODE_NAME[x.mode] ?? 'unknown' }, value: 1 })) },
    per('chrony_sourcestats_samples', 'Samples chronyd keeps for each source (chronyc sourcestats: NP).', (x) => x.stats?.samples ?? null),
    per('chrony_sourcestats_runs', 'Runs of residuals of one sign after the last regression (chronyc sourcestats: NR).', (x) => x.stats?.runs ?? null),
    per('chrony_sourcestats_span_seconds', 'Interval between each source\'s oldest and newest samples (chronyc sourcestats: Span).', (x) => x.stats?.spanS ?? null),
    per('chrony_sourcestats_frequency_ppms', 'Each source\'s residual frequency (chronyc sourcestats: Freq).', (x) => x.stats?.frequencyPpm ?? null),
    per('chrony_sourcestats_frequency_skew_ppms', 'Each source\'s frequency error bound (chronyc sourcestats: Freq Skew).', (x) => x.stats?.skewPpm ?? null),
    per('chrony_sourcestats_offset', 'Each source\'s estimated offset in seconds (chronyc sourcestats: Offset).', (x) => (x.stats ? x.stats.offsetNs / 1e9 : null)),
    per('chrony_sourcestats_stddev', 'Each source\'s sample standard deviation in seconds (chronyc sourcestats: Std Dev).', (x) => (x.stats ? x.stats.stdDevNs / 1e9 : null)),
    fam('chrony_serverstats_ntp_packets_received_total', 'Valid NTP requests chronyd received.', st?.ntpHits, 'counter'),
    fam('chrony_serverstats_ntp_packets_dropped_total', 'NTP requests chronyd dropped by rate limiting.', st?.ntpDrops, 'counter'),
    fam('chrony_serverstats_command_packets_received_total', 'Command requests chronyd received.', st?.cmdHits, 'counter'),
    fam('chrony_serverstats_command_packets_dropped_total', 'Command requests chronyd dropped by rate limiting.', st?.cmdDrops, 'counter'),
    fam('chrony_serverstats_nts_ke_connections_accepted_total', 'NTS-KE connections chronyd accepted.', st?.nkeHits, 'counter'),
    fam('chrony_serverstats_client_log_records_dropped_total', 'Client log records chronyd dropped to limit its memory.', st?.logDrops, 'counter'),
    fam('chrony_serverstats_interleaved_ntp_packets_total', 'NTP requests chronyd saw in interleaved mode.', st?.ntpInterleavedHits, 'counter'),
  ];
}

/** The text exposition format (version 0.0.4). Families without a value are left out. */
export function exposition(s: Status, extra: Family[] = []): string {
  let out = '';
  for (const fam of [...families(s), ...extra]) {
    const samples = fam.samples.filter((x) => x.value !== null && x.value !== undefined && Number.isFinite(x.value));
    if (samples.length === 0) continue;
    out += `# HELP ${fam.name} ${escHelp(fam.help)}\n# TYPE ${fam.name} ${fam.kind}\n`;
    for (const x of samples) {
      const labels = x.labels && Object.keys(x.labels).length ? `{${Object.entries(x.labels).map(([k, v]) => `${k}="${escLabel(v)}"`).join(',')}}` : '';
      out += `${fam.name}${labels} ${num(x.value!)}\n`;
    }
  }
  return out;
}

export type { Family };
