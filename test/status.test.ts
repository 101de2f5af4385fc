import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../src/log.ts';
import { EventBus } from '../src/status/events.ts';
import { SimClock, NS_PER_S } from '../src/time/index.ts';
import { buildStatus, STATE_CODES, STATE_NAMES, PTP_DISABLED, PARTNER_CHRONY_DISABLED, type AgentInfo, type PtpStatus, type Status, type PartnerChronyStatus, type PartnerChronySource } from '../src/status/status.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHostIdentity } from '../src/parts/host.ts';
import { Receiver } from '../src/gnss/receiver.ts';
import type { GnssSnapshot } from '../src/gnss/monitor.ts';
import type { PpsSnapshot } from '../src/pps/monitor.ts';
import type { DisciplineSnapshot } from '../src/discipline/discipline.ts';
import { allScalars, allTables } from '../src/snmp/mib.ts';
import { ntpDate, V4_SCALARS, V4_TABLES, V4_MODE, v4Context } from '../src/snmp/ntpv4-mib.ts';
import { families } from '../src/export/prometheus.ts';
import { pointsFrom } from '../src/export/influx-points.ts';
import { sampleFrom, SAMPLE_METRICS } from '../src/store/metrics.ts';
import { timePropertiesFrom, scaledLogVariance } from '../src/ptp/grandmaster.ts';
import { formatStatus } from '../src/cli/main.ts';

test('the logger writes JSON lines and rate-limits a repeated message, counting what it held back', () => {
  const clock = new SimClock(1_764_072_000n * NS_PER_S);
  const lines: string[] = [];
  const log = new Logger(clock, { level: 'info', repeatPerMinute: 3 }, { write: (l) => lines.push(l) });
  log.debug('not shown');
  for (let i = 0; i < 10; i++) log.warn('bad checksum', { n: i });
  log.info('other');
  assert.equal(lines.length, 4);
  const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(recs.map((r) => r.msg), ['bad checksum', 'bad checksum', 'bad checksum', 'other']);
  assert.equal(recs[0]!.level, 'warn');
  assert.equal(recs[0]!.ts, '2025-11-25T12:00:00.000000Z');
  clock.advance(61_000);
  log.warn('bad checksum', { n: 11 });
  assert.equal((JSON.parse(lines.at(-1)!) as { suppressed: number }).suppressed, 7);
});

test('a failing event subscriber does not stop the others, and is reported', () => {
  const errors: unknown[] = [];
  const bus = new EventBus(5, (e) => errors.push(e));
  const got: string[] = [];
  bus.on('fixLost', () => { throw new Error('boom'); });
  bus.on('fixLost', (e) => got.push(e.reason));
  for (let i = 0; i < 7; i++) bus.emit({ type: 'fixLost', at: 0n, reason: `r${i}` });
  assert.equal(got.length, 7);
  assert.equal(errors.length, 7);
  assert.equal(bus.recent().length, 5);
  assert.equal(bus.counts.fixLost, 7);
});

/** buildStatus's inputs, hand-made: a 3D receiver that has just lost its fix, a discipline in holdover
 * within its budget, PTP with a better master heard, one alarm raised 12.5 s ago. */
function snapshotInputs(o: { sampleAgeS: number; ptpEnabled: boolean }) {
  const now = 1_764_072_000n * NS_PER_S;
  const rx = new Receiver();
  Object.assign(rx.state, { mode: 3, satellitesUsed: 7, satellitesInView: 9 });
  const gnss: GnssSnapshot = {
    fix: false, mode: 3, fixAgeS: 4, utc: undefined, utcAgeS: undefined, state: rx.state, connected: true, silent: false,
    lastDataAgeS: 0.2, link: { bytes: 0, lines: 0, sentences: 0, rejected: {}, junkBytes: 0, outages: 0 }, antennaFault: false, timeJumpAgeS: undefined,
  };
  const pps: PpsSnapshot = {
    present: true, pulses: 100, accepted: 100, missed: 0, extra: 0, outOfWindow: 0, lastEdge: now - 200_000_000n, lastEdgeAgeS: 0.2,
    lastIntervalS: 1, jitterNs: 800, outages: 0,
  };
  const d: DisciplineSnapshot = {
    state: 'HOLDOVER', stateSince: now - 30n * NS_PER_S, everLocked: true, servo: 'kalman',
    offsetNs: 200_123_456.7891, freqPpb: 20_000, freqSigmaPpb: 3, correctionNs: 200_123_000,
    timeErrorEstimateNs: 2_000, sigmaNs: 500, holdoverElapsedS: 30, lastSampleAgeS: o.sampleAgeS,
    lastUpdate: now - BigInt(Math.round(o.sampleAgeS * 1e9)), lastInnovationNs: -123.45678, rmsOffsetNs: 800,
    samples: { accepted: 90, rejected: 0, steps: 1 }, pairing: { paired: 90, rejected: {}, nmeaDelayS: 0.4, trusted: true, consecutiveGood: 90 },
    synchronized: true, stratum: 1, leapIndicator: 0, refId: 'GPS', rootDispersionS: 2e-6, clockClass: 7, clockAccuracy: 0x23,
    clockAccuracyNs: 2_000, taiUtcS: undefined, leapTableExpired: undefined, nextLeap: undefined, jump: undefined, samplesRefused: 0, upstream: undefined, falsetickerEpisodes: 0,
  };
  const agent: AgentInfo = {
    name: 't', version: '0', pid: 1, startedAt: now - 3600n * NS_PER_S, receiverSource: 'simulator', ppsSource: 'simulator',
    receiverDevice: 'sim', ppsDevice: 'sim', simulated: true, listening: [],
  };
  const ptp: PtpStatus = {
    ...PTP_DISABLED, enabled: o.ptpEnabled,
    foreignMasters: [{ identity: 'aa', domain: 0, priority1: 100, clockClass: 6, better: true, announces: 3 }],
  };
  const alarms = [{ index: 1, name: 'time_error', severity: 'warning' as const, value: 2000, threshold: 1000, raisedAt: now - 12_500_000_000n, description: '',
    current: 2100, comparison: 'above' as const, warning: 1000, critical: 100_000, units: 'ns', enabled: true }];
  return buildStatus(now, { agent, gnss, pps, discipline: d, ptp, alarms, events: { counts: {}, recent: [] } });
}

test('buildStatus decides each derived fact once: synchronized, state code, offsets, fix mode, better master, times as numbers', () => {
  const s = snapshotInputs({ sampleAgeS: 1.5, ptpEnabled: true });
  const d = s.discipline;
  assert.equal(d.synchronized, true, 'the discipline\'s rule: HOLDOVER within budget');
  assert.equal(d.stateCode, STATE_CODES.HOLDOVER);
  assert.equal(d.stateCode, 2);
  assert.equal(STATE_NAMES[d.stateCode], 'HOLDOVER');
  // The offset is the served clock's (the last sample's, while fresh); the oscillator's has its own name.
  assert.equal(d.offsetNs, -123.457);
  assert.equal(d.localOffsetNs, 200_123_456.789);
  assert.equal(d.sigmaNs, 500);
  assert.equal(snapshotInputs({ sampleAgeS: 2.5, ptpEnabled: true }).discipline.offsetNs, null, 'a sample more than 2 s old is no offset');
  // The receiver's last epoch said 3D, but its fix is no longer confirmed: the effective mode is no fix.
  assert.equal(s.gnss.mode, 3);
  assert.equal(s.gnss.fixMode, 1);
  assert.equal(s.ptp.betterMaster, true);
  assert.equal(snapshotInputs({ sampleAgeS: 1.5, ptpEnabled: false }).ptp.betterMaster, false, 'no PTP, no better master');
  assert.equal(s.timeUnixS, 1_764_072_000);
  assert.equal(s.agent.startedAtUnixS, 1_764_072_000 - 3600);
  assert.equal(d.lastSampleAtUnixS, 1_764_072_000 - 1.5);
  assert.equal(s.alarms[0]!.raisedAgeS, 12.5);
  assert.equal(s.alarms[0]!.raisedAt, '2025-11-25T11:59:47.500Z');
  // The order of the codes is what the history's rollups and the report's 'worst state' rely on.
  assert.deepEqual(Object.entries(STATE_CODES).sort((a, b) => a[1] - b[1]).map(([k]) => k), ['FREERUN', 'ACQUIRING', 'HOLDOVER', 'LOCKED']);
});

test('every consumer publishes the facts Status decided, not its own', () => {
  const s = snapshotInputs({ sampleAgeS: 1.5, ptpEnabled: true });
  const mib = (name: string) => allScalars().find((x) => x.def.name === name)!.def.get(s);
  assert.equal(mib('s1DisciplineState'), s.discipline.stateCode);
  assert.equal(mib('s1DisciplineOffset'), Math.round(s.discipline.offsetNs!));
  assert.equal(mib('s1DisciplineLocalOffset'), Math.round(s.discipline.localOffsetNs!));
  assert.equal(mib('s1GnssFixMode'), s.gnss.fixMode);
  assert.equal(mib('s1PtpBetterMaster'), true);
  const alarmRow = allTables().find((x) => x.def.name === 's1AlarmTable')!.def.rows(s)[0]!;
  assert.equal(alarmRow[5], 13, 'raised age, whole seconds');
  const v4 = (name: string) => V4_SCALARS.find((x) => x.name === name)!.get(v4Context(s, () => 0n, 0));
  assert.equal(v4('ntpEntStatusCurrentMode'), 5, 'synchronized');
  assert.equal(v4('ntpEntStatusActiveOffset'), '-0.000123 ms');
  // The next leap second comes from Status too (as Unix seconds), not from the discipline directly.
  assert.deepEqual(v4('ntpEntStatusLeapSecond'), Buffer.alloc(0), 'no leap second announced');
  const leapAt = 1_767_225_600; // 2026-01-01T00:00:00Z
  const withLeap = { ...s, discipline: { ...s.discipline, nextLeapAtUnixS: leapAt } };
  assert.deepEqual(V4_SCALARS.find((x) => x.name === 'ntpEntStatusLeapSecond')!.get(v4Context(withLeap, () => 0n, 0)), ntpDate(BigInt(leapAt) * NS_PER_S));
  const prom = new Map(families(s).map((f) => [f.name, f.samples]));
  assert.equal(prom.get('stratum1_discipline_state_code')![0]!.value, s.discipline.stateCode);
  assert.equal(prom.get('gpsd_tpv_mode')![0]!.value, s.gnss.fixMode);
  assert.equal(prom.get('chrony_tracking_last_offset_seconds')![0]!.value, s.discipline.offsetNs! / 1e9);
  assert.equal(prom.get('stratum1_local_offset_seconds')![0]!.value, s.discipline.localOffsetNs! / 1e9);
  assert.equal(prom.get('stratum1_ptp_better_master')![0]!.value, 1);
  assert.equal(prom.get('chrony_tracking_reference_timestamp_seconds')![0]!.value, s.discipline.lastSampleAtUnixS);
  assert.equal(prom.get('stratum1_start_time_seconds')![0]!.value, s.agent.startedAtUnixS);
  const timing = pointsFrom(s, 0n, {}).find((p) => p.measurement === 'timing')!.fields;
  assert.equal(timing.state_code, s.discipline.stateCode);
  assert.equal(timing.offset_ns, s.discipline.offsetNs);
  assert.equal(timing.local_offset_ns, s.discipline.localOffsetNs);
  assert.equal(pointsFrom(s, 0n, {}).find((p) => p.measurement === 'gnss')!.fields.mode, s.gnss.fixMode);
  const row = sampleFrom(0, s);
  const col = (name: string) => row.values[SAMPLE_METRICS.findIndex((m) => m.name === name)];
  assert.equal(col('state'), s.discipline.stateCode);
  assert.equal(col('offset_ns'), s.discipline.offsetNs);
  assert.equal(col('local_offset_ns'), s.discipline.localOffsetNs);
  assert.equal(col('fix_mode'), s.gnss.fixMode);
  const tp = timePropertiesFrom(s, 37);
  assert.equal(tp.timeTraceable, s.discipline.synchronized);
  // The servo's own sigma, not the error estimate over errorK (which would hold any slew still to do).
  assert.equal(tp.quality.offsetScaledLogVariance, scaledLogVariance(s.discipline.sigmaNs));
  assert.match(formatStatus(s), /^Offset +: -0\.123 us \(served - GPS\)/m);
  assert.match(formatStatus(s), /^Oscillator +: offset 200123\.457 us \(local - GPS\)/m);
  // chronyc tracking's figures: the RMS offset over recent samples, the skew (the frequency's sigma),
  // root delay and dispersion, the leap status in chronyc's words.
  const ref = new Date(s.discipline.lastSampleAtUnixS! * 1000).toISOString();
  assert.match(formatStatus(s), new RegExp(`^Tracking +: ref time ${ref.replace(/[.]/g, '\\.')}, RMS offset 0\\.800 us, skew ${(s.discipline.frequencySigmaPpb! / 1000).toFixed(3)} ppm, ` +
    `root delay 0 us, root dispersion ${(s.discipline.rootDispersionS * 1e6).toFixed(3)} us, update interval 1 s, leap (Normal|Not synchronised|Insert second)$`, 'm'));
  // The chronyd feed has a line only when it is configured, and says plainly when it is down.
  assert.doesNotMatch(formatStatus(s), /^chronyd feed/m);
  const fed = { ...s, chronySock: { ...s.chronySock, enabled: true, path: '/run/chrony.s1.sock', connected: false, lastError: 'EACCES', samplesSent: 12, reconnects: 1 } };
  assert.match(formatStatus(fed), /^chronyd feed +: \/run\/chrony\.s1\.sock: NOT CONNECTED \(EACCES\), 12 samples sent, 0 skipped, 0 send errors, 1 reconnects$/m);
});

test('NTPv4-MIB describes chronyd when the agent serves no NTP and watches it: mode, stratum, reference, associations, counts; Prometheus chrony_* follow chronyd, the agent\'s own stay under stratum1_*', () => {
  const s0 = snapshotInputs({ sampleAgeS: 0.5, ptpEnabled: false });
  const src = (over: Partial<PartnerChronySource>): PartnerChronySource => ({
    name: 'GPS', address: null, mode: 'refclock', state: '*', stratum: 0, pollLog2: 4, reach: '377', lastRxAgeS: 3,
    offsetNs: 1500, measuredOffsetNs: 1600, errorNs: 20_000, stats: { samples: 10, runs: 5, spanS: 150, frequencyPpm: 0.01, skewPpm: 0.2, offsetNs: 100, stdDevNs: 900 }, ...over,
  });
  const chrony: PartnerChronyStatus = {
    ...PARTNER_CHRONY_DISABLED, enabled: true, transport: 'unix /run/chrony/chronyd.sock', reachable: true, referenceId: '47505300', reference: 'GPS',
    stratum: 1, refTimeUnixS: 1_764_071_990, systemOffsetNs: -2500, lastOffsetNs: 1200, rmsOffsetNs: 900, frequencyPpm: -12.5, residualFreqPpm: 0.01,
    skewPpm: 0.2, rootDelayS: 1e-9, rootDispersionS: 2e-5, updateIntervalS: 16, leapStatus: 'insert second', synchronised: true,
    sources: [src({}), src({ name: '192.0.2.7', address: '192.0.2.7', mode: 'server', state: 'x', stratum: 2, offsetNs: 250_000_000 }),
      src({ name: '2001:db8::5', address: '2001:db8::5', mode: 'server', state: '+', stratum: 2, lastRxAgeS: null })],
    serverStats: { ntpHits: 1000, nkeHits: 0, cmdHits: 50, ntpDrops: 10, nkeDrops: 0, cmdDrops: 0, logDrops: 0, ntpAuthHits: 0, ntpInterleavedHits: 0, ntpTimestamps: 0, ntpSpanS: 0 },
  };
  const s: Status = { ...s0, ntp: { ...s0.ntp, enabled: false }, partners: { ...s0.partners, chrony } };
  const nowNs = 1_764_072_000n * NS_PER_S;
  const ctx = v4Context(s, () => 0n, 0, () => nowNs);
  assert.equal(ctx.entity.who, 'chronyd', 'chronyd is the entity');
  assert.equal(ctx.now, nowNs, 'its time is the host clock chronyd disciplines');
  const v4 = (name: string) => V4_SCALARS.find((x) => x.name === name)!.get(ctx);
  assert.equal(v4('ntpEntSoftwareName'), 'chronyd', 'software');
  assert.equal(v4('ntpEntStatusCurrentMode'), V4_MODE.syncToRefclock, 'synchronised to its GPS refclock');
  assert.equal(v4('ntpEntStatusStratum'), 1, 'chronyd\'s stratum');
  assert.equal(v4('ntpEntStatusActiveRefSourceId'), 1, 'the selected source is row 1');
  assert.equal(v4('ntpEntStatusActiveRefSourceName'), 'GPS', 'its reference');
  assert.equal(v4('ntpEntStatusActiveOffset'), '-0.002500 ms', 'chronyd\'s system time offset');
  assert.equal(v4('ntpEntStatusNumberOfRefSources'), 3, 'its three sources');
  assert.equal(v4('ntpEntTimeDistance'), '0.020001 ms', 'root distance: delay/2 + dispersion');
  assert.equal(v4('ntpEntStatusInPkts'), 1000, 'server stats: received');
  assert.equal(v4('ntpEntStatusOutPkts'), 990, 'answered: received minus dropped');
  assert.equal(v4('ntpEntStatusLeapSecDirection'), 1, 'a leap second inserted');
  assert.deepEqual(v4('ntpEntStatusLeapSecond'), ntpDate(1_764_115_200n * NS_PER_S), 'at the end of the current UTC day');
  const rows = V4_TABLES.find((t) => t.name === 'ntpAssociationTable')!.rows(ctx);
  assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[3], r[6]]), [[1, 'GPS', 'GPS', 0, 1], [2, '192.0.2.7', '', 1, 2], [3, '2001:db8::5', '', 2, 2]], 'names, refids, address types, strata');
  assert.deepEqual(rows[1]![4], Buffer.from([192, 0, 2, 7]), 'an IPv4 address');
  assert.equal((rows[2]![4] as Buffer).toString('hex'), '20010db8000000000000000000000005', 'an IPv6 address');
  assert.equal(rows[1]![5], '250.000000 ms', 'a source\'s offset');
  assert.equal(rows[2]![5], '', 'no sample yet: no offset');
  assert.deepEqual(V4_TABLES.find((t) => t.name === 'ntpAssociationStatisticsTable')!.rows(ctx), [], 'chronyd counts no packets per source: no statistics rows rather than zeros');
  // Unreachable: not running; unsynchronised: its own mode.
  const down = v4Context({ ...s, partners: { ...s.partners, chrony: { ...chrony, reachable: false, synchronised: false, sources: [] } } }, () => 0n, 0, () => nowNs);
  assert.deepEqual([down.entity.mode, down.entity.stratum], [V4_MODE.notRunning, 16], 'chronyd silent: notRunning, stratum 16');
  const local = v4Context({ ...s, partners: { ...s.partners, chrony: { ...chrony, referenceId: '7F7F0101', reference: '7F7F0101', sources: [src({ state: '?' })] } } }, () => 0n, 0, () => nowNs);
  assert.equal(local.entity.mode, V4_MODE.syncToLocal, 'its local clock as the reference');
  // The agent serving NTP stays the entity even while it watches chronyd.
  assert.equal(v4Context({ ...s, ntp: { ...s.ntp, enabled: true } }, () => 0n, 0).entity.who, 'agent', 'the agent serves NTP: it is the entity');

  const prom = new Map(families(s).map((f) => [f.name, f.samples]));
  assert.equal(prom.get('chrony_tracking_stratum')![0]!.value, 1, 'chrony_tracking_stratum is chronyd\'s');
  assert.equal(prom.get('chrony_tracking_system_time_seconds')![0]!.value, -2.5e-6, 'system time in seconds');
  assert.deepEqual(prom.get('chrony_tracking_info')![0]!.labels, { tracking_address: 'GPS', tracking_name: 'GPS', tracking_refid: '47505300' }, 'tracking info');
  assert.deepEqual(prom.get('chrony_sources_state_info')!.map((x) => x.labels?.source_state), ['sync', 'falseticker', 'candidate'], 'source states in chrony_exporter\'s words');
  assert.equal(prom.get('chrony_serverstats_ntp_packets_received_total')![0]!.value, 1000, 'chronyd\'s server stats');
  assert.equal(prom.get('stratum1_offset_seconds')![0]!.value, s.discipline.offsetNs! / 1e9, 'the agent\'s own offset under its own name');
  assert.equal(prom.get('stratum1_partner_chrony_up')![0]!.value, 1, 'chronyd answers');
  // gpsd's own PPS and TOFF views, in seconds; absent while the gpsd part is off.
  assert.equal(prom.get('stratum1_gpsd_pps_offset_seconds')![0]!.value, null, 'no gpsd: no gpsd figure (left out of the exposition)');
  const report = { device: '/dev/pps0', real: '', clock: '', offsetNs: -2500, precision: -20, ageS: 0.4, count: 9 };
  const withGpsd = new Map(families({ ...s, gpsd: { ...s.gpsd, enabled: true, connected: true, pps: report, toff: { ...report, offsetNs: 120_000_000 } } }).map((f) => [f.name, f.samples]));
  assert.equal(withGpsd.get('stratum1_gpsd_pps_offset_seconds')![0]!.value, -2.5e-6, 'gpsd\'s PPS offset in seconds');
  assert.equal(withGpsd.get('stratum1_gpsd_toff_offset_seconds')![0]!.value, 0.12, 'gpsd\'s TOFF offset in seconds');
  const silentProm = new Map(families({ ...s, partners: { ...s.partners, chrony: { ...chrony, reachable: false } } }).map((f) => [f.name, f.samples]));
  assert.equal(silentProm.has('chrony_tracking_stratum'), false, 'nothing of chronyd\'s shown as current while it is silent');
  assert.equal(silentProm.get('stratum1_partner_chrony_up')![0]!.value, 0, 'and stratum1_partner_chrony_up says so');
});

test('the board\'s serial number and model: device tree first, then /proc/cpuinfo; zeros and absent files are none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'host-id-'));
  try {
    const f = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };
    const cpuinfo = f('cpuinfo', 'processor\t: 0\nHardware\t: BCM2835\nRevision\t: a020d3\nSerial\t\t: 00000000c0ffee42\nModel\t\t: Raspberry Pi 3 Model B Plus Rev 1.3\n');
    assert.deepEqual(readHostIdentity({ serial: [join(dir, 'none')], model: [join(dir, 'none')], cpuinfo }),
      { serialNumber: '00000000c0ffee42', model: 'Raspberry Pi 3 Model B Plus Rev 1.3' }, 'from /proc/cpuinfo');
    const dt = { serial: [f('serial-number', '10000000deadbeef\0')], model: [f('model', 'Raspberry Pi 4 Model B Rev 1.4\0')], cpuinfo };
    assert.deepEqual(readHostIdentity(dt), { serialNumber: '10000000deadbeef', model: 'Raspberry Pi 4 Model B Rev 1.4' }, 'the device tree wins, NULs dropped');
    assert.deepEqual(readHostIdentity({ serial: [f('zero', '0000000000000000\n')], model: [], cpuinfo: f('x86', 'processor\t: 0\nmodel name\t: Intel\n') }),
      { serialNumber: null, model: null }, 'zeros and nothing: none');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
