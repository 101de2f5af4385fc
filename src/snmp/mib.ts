/**
 * The one definition of our MIB: every object's name, place, type, units, description and the Status
 * field it reads. The agent's providers and the SMIv2 text (mibs/STRATUM1-AGENT-MIB.txt, `stratum1 mib`)
 * are both generated from this tree, so the agent cannot serve an object its MIB file lacks.
 *
 * Values are numbers with units (Integer32 nanoseconds, hundredths of a DOP, microdegrees), never
 * formatted strings, so an NMS can graph them.
 */
import { STATE_CODES, type Status } from '../status/status.ts';

/** A fixed-point Integer32: a TEXTUAL-CONVENTION with a DISPLAY-HINT ("d-2": 125 shows as 1.25). */
export interface ScaledTc { tc: string; hint: string; description: string }

export type Syntax =
  | { base: 'Integer32'; range?: [number, number]; scaled?: ScaledTc }
  | { base: 'DateAndTime' }
  | { base: 'Unsigned32' }
  | { base: 'Gauge32' }
  | { base: 'Counter32' }
  | { base: 'TimeTicks' }
  | { base: 'DisplayString' }
  | { base: 'TruthValue' }
  | { base: 'enum'; tc: string; values: Record<string, number>; description?: string };

/** A DateAndTime's value is an ISO 8601 UTC string (or null: not set); the agent encodes it. */
export type Value = number | string | boolean | null;

/** The module's revisions, newest first (LAST-UPDATED is the newest). Add one whenever a published name,
 * number or meaning changes, saying what an NMS must change. */
export const REVISIONS: readonly { date: string; description: string }[] = [
  {
    date: '202612020100Z',
    description: 'Partner mode, the rest: s1ChronySourceTable (chronyc sources and sourcestats), s1ChronyLeapStatus, s1ChronyNtpRequests and s1ChronyNtpDropped (chronyc serverstats); the notifications s1ChronySyncLost, s1ChronySyncRegained, s1ChronySourceFalseticker, s1ChronySourceFalsetickerEnded, s1Ptp4lPortStateChanged and s1Ptp4lGrandmasterChanged; s1HostSerialNumber and s1HostModel for inventories. NTPv4-MIB now describes chronyd when the agent serves no NTP and watches chronyd.',
  },
  {
    date: '202612012310Z',
    description: 'Partner mode: the s1Chrony group (chronyd as it runs: reachable, synchronised, stratum, reference, system offset, frequency, root dispersion, sources) and the s1Ptp4l group (ptp4l as it runs: port state and whether it is the expected one, grandmaster identity and clockClass, offset from master, mean path delay, steps removed). Their alarms (chrony_* and ptp4l_* rules) appear in s1AlarmTable and raise s1AlarmRaised.',
  },
  {
    date: '202612012300Z',
    description: 'NTS (RFC 8915): s1NtsKeSessions, s1NtsKeFailures, s1NtsRequests, s1NtsReplies, s1NtsNaks, s1NtsFailures and s1NtsCookieKeyAge in the s1Ntp group.',
  },
  {
    date: '202612012200Z',
    description: 'For NMS operators. Scaled values carry a DISPLAY-HINT through the textual conventions S1Tenths, S1Hundredths, S1Thousandths and S1Millionths (DOPs, latitude, longitude, altitude, ages, the upstream figures), and their UNITS now name the unit of the value as displayed (degrees, metres, seconds; a DOP has none); the integers sent are unchanged. New objects that do not saturate at 2.1 s: s1DisciplineOffsetUsec, s1DisciplineLocalOffsetUsec and s1DisciplineErrorEstimateUsec (Integer32 microseconds, +/-35 minutes), beside the nanosecond objects, which stay and saturate. s1SatTable is indexed by { s1SatSystem, s1SatPrn }, so a row follows one satellite; s1SatIndex (the row position) is gone and its number is not reused. s1AlarmRaisedTime gives when an alarm was raised as a DateAndTime. s1Host with s1HostCpuTemperature.',
  },
  {
    date: '202612011700Z',
    description: 'Integrity: the s1Integrity group (upstream NTP servers in s1UpstreamTable, the checks in s1IntegrityCheckTable), the notifications s1IntegrityCheckFailed and s1IntegrityCheckPassed, and the alarm rules gps_falseticker, position_fence, gnss_jamming, satellites_drop, pps_label_mismatch and leap_mismatch after the existing rows.',
  },
  {
    date: '202612011600Z',
    description: 'The integrity gate: s1DisciplineTimeJump (the refused jump of the receiver\'s time, seconds) and the notifications s1TimeJumpRefused and s1TimeJumpEnded; the alarm table gains the time_jump rule as its last row (the rows before it keep their numbers).',
  },
  {
    date: '202612010000Z',
    description: 'One meaning per word on every surface of the agent. s1DisciplineOffset is now the served clock\'s offset from GPS (what ntpEntStatusActiveOffset, the history, InfluxDB and Prometheus call the offset); the local oscillator\'s offset, which it was, is the new s1DisciplineLocalOffset. S1ClockState takes the history\'s codes, ordered worst first: freerun(0), acquiring(1), holdover(2), locked(3); they were freerun(1), acquiring(2), locked(3), holdover(4). s1GnssFixMode is the effective fix mode (noFix once the fix is lost), as in the history and the exporters.',
  },
  { date: '202611250000Z', description: 'First version.' },
];

export interface Scalar {
  kind: 'scalar';
  name: string;
  sub: number;
  syntax: Syntax;
  units?: string;
  description: string;
  get: (s: Status) => Value;
}

export interface Column {
  name: string;
  sub: number;
  syntax: Syntax;
  units?: string;
  description: string;
  /** The index column is not-accessible and not served. */
  index?: boolean;
}

export interface Table {
  kind: 'table';
  name: string; // xxxTable
  entry: string; // xxxEntry
  sub: number;
  description: string;
  columns: Column[];
  rows: (s: Status) => Value[][];
}

export interface Group {
  kind: 'group';
  name: string;
  sub: number;
  description: string;
  children: Node[];
}

export type Node = Scalar | Table | Group;

const INT32: [number, number] = [-2147483648, 2147483647];
/** Clamp to Integer32 (an offset of more than 2.1 s in ns saturates rather than wraps). */
export const i32 = (v: number | null | undefined): number | null =>
  v === null || v === undefined || !Number.isFinite(v) ? null : Math.max(INT32[0], Math.min(INT32[1], Math.round(v)));
const u32 = (v: number) => Math.max(0, Math.round(v)) % 4294967296;
const gauge = (v: number | null | undefined) => (v === null || v === undefined ? 0 : Math.max(0, Math.min(4294967295, Math.round(v))));

const CONSTELLATIONS = { unknown: 0, gps: 1, sbas: 2, glonass: 3, galileo: 4, beidou: 5, qzss: 6, navic: 7 };
const constellationCode = (c: string): number => {
  const k = c.toLowerCase() as keyof typeof CONSTELLATIONS;
  return CONSTELLATIONS[k] ?? 0;
};
const TC_CONSTELLATION: Syntax = { base: 'enum', tc: 'S1Constellation', values: CONSTELLATIONS };
const TC_FIXMODE: Syntax = { base: 'enum', tc: 'S1FixMode', values: { unknown: 0, noFix: 1, fix2D: 2, fix3D: 3 }, description: 'The effective fix mode: the receiver\'s mode while its fix is confirmed, noFix once it is not, unknown while the receiver has said nothing. The history\'s fix_mode, InfluxDB\'s gnss.mode and Prometheus\' gpsd_tpv_mode use the same numbers.' };
const TC_ANTENNA: Syntax = { base: 'enum', tc: 'S1AntennaStatus', values: { unknown: 0, external: 1, internal: 2, shorted: 3 } };
const TC_SEVERITY: Syntax = { base: 'enum', tc: 'S1Severity', values: { none: 0, warning: 1, critical: 2 } };
const ACCEPT_JUMP = { never: 1, after: 2, with_upstream: 3 } as const;
const TC_ACCEPT_JUMP: Syntax = { base: 'enum', tc: 'S1AcceptJump', values: { never: 1, after: 2, withUpstream: 3 }, description: 'never: a jump is believed only once the holdover budget is spent; after: once it has persisted integrity.accept_after_s; withUpstream: once the upstream majority agrees with it.' };
const UPSTREAM_STATE = { polling: 1, majority: 2, falseticker: 3, candidate: 4, unreachable: 5, refused: 6, unfit: 7 } as const;
const TC_UPSTREAM_STATE: Syntax = { base: 'enum', tc: 'S1SourceState', values: UPSTREAM_STATE, description: 'polling: no answer yet; majority: agrees with the majority; falseticker: answers but outside the majority; candidate: answers, no majority to judge it by; unreachable: none of the last eight polls answered (before its first answer: none of the first two); refused: it sent a kiss o\' death DENY or RSTR; unfit: it answers but may not vote (it says it is not synchronized, or its root distance is over 1 s).' };
/** chronyc sources' state marks, as numbers. */
export const CHRONY_STATE: Record<string, number> = { unknown: 0, selected: 1, combined: 2, notCombined: 3, falseticker: 4, jittery: 5, unusable: 6 };
const CHRONY_MARK: Record<string, number> = { '*': 1, '+': 2, '-': 3, x: 4, '~': 5, '?': 6 };
const TC_CHRONY_STATE: Syntax = { base: 'enum', tc: 'S1ChronySelection', values: CHRONY_STATE, description: 'chronyc sources\' state column: selected (*), combined (+), notCombined (-: not combined with the selected one), falseticker (x: chronyd thinks it is wrong), jittery (~: too variable), unusable (?: no answers yet, or unfit).' };
const SEVERITY: Record<string, number> = { none: 0, warning: 1, critical: 2 };
// The history's codes (STATE_CODES), so that a threshold set on one surface holds on every other.
const TC_STATE: Syntax = {
  base: 'enum', tc: 'S1ClockState', values: Object.fromEntries(Object.entries(STATE_CODES).map(([k, v]) => [k.toLowerCase(), v])),
  description: 'The state of the clock discipline, ordered from worst to best (a lower value is a worse state): the codes of the history\'s state column, InfluxDB\'s timing.state_code and Prometheus\' stratum1_discipline_state_code.',
};

const scaled = (tc: string, hint: string, times: string, example: string): ScaledTc => ({
  tc, hint, description: `A fixed-point number: the integer sent is the value times ${times} (${example}). The UNITS clause of an object names the unit of the value as displayed.`,
});
const TENTHS = scaled('S1Tenths', 'd-1', '10', '42.5 is sent as 425');
const HUNDREDTHS = scaled('S1Hundredths', 'd-2', '100', '1.25 is sent as 125');
const THOUSANDTHS = scaled('S1Thousandths', 'd-3', '1000', '0.25 is sent as 250');
const MILLIONTHS = scaled('S1Millionths', 'd-6', '1000000', '0.000125 is sent as 125');
/** The fixed-point conventions, in the order the MIB text defines them. */
export const SCALED_TCS: readonly ScaledTc[] = [TENTHS, HUNDREDTHS, THOUSANDTHS, MILLIONTHS];
const I32_HUNDREDTHS: Syntax = { base: 'Integer32', scaled: HUNDREDTHS };
const I32_THOUSANDTHS: Syntax = { base: 'Integer32', scaled: THOUSANDTHS };
const I32_MILLIONTHS: Syntax = { base: 'Integer32', scaled: MILLIONTHS };
/** Microseconds in an Integer32 saturate at +/-2147 s (35 minutes), nanoseconds at +/-2.1 s. */
const us = (ns: number | null | undefined) => (ns === null || ns === undefined ? null : i32(ns / 1000));
/** No temperature sensor: below absolute zero, so that no reading can be mistaken for it. */
export const NO_TEMPERATURE = -2731;

const ANTENNA: Record<string, number> = { unknown: 0, external: 1, internal: 2, shorted: 3 };
const ms = (s: number | null) => (s === null ? -1 : i32(s * 1000));

export const OBJECTS: Group = {
  kind: 'group', name: 's1Objects', sub: 1, description: 'The objects of the agent.',
  children: [
    {
      kind: 'group', name: 's1Agent', sub: 1, description: 'The agent itself.',
      children: [
        { kind: 'scalar', name: 's1AgentName', sub: 1, syntax: { base: 'DisplayString' }, description: 'The name of this time server (agent.name).', get: (s) => s.agent.name },
        { kind: 'scalar', name: 's1AgentVersion', sub: 2, syntax: { base: 'DisplayString' }, description: 'The version of stratum1-agent.', get: (s) => s.agent.version },
        { kind: 'scalar', name: 's1AgentUptime', sub: 3, syntax: { base: 'TimeTicks' }, description: 'Time since the agent started.', get: (s) => u32(s.agent.uptimeS * 100) },
        { kind: 'scalar', name: 's1AgentSimulated', sub: 4, syntax: { base: 'TruthValue' }, description: 'True when the receiver is the built-in simulator, not a GPS.', get: (s) => s.agent.simulated },
      ],
    },
    {
      kind: 'group', name: 's1Gnss', sub: 2, description: 'The GNSS receiver.',
      children: [
        { kind: 'scalar', name: 's1GnssFixMode', sub: 1, syntax: TC_FIXMODE, description: 'Effective fix mode: that of the receiver\'s last completed epoch while the fix is confirmed (s1GnssFixValid), noFix once it is not.', get: (s) => s.gnss.fixMode },
        { kind: 'scalar', name: 's1GnssFixValid', sub: 2, syntax: { base: 'TruthValue' }, description: 'True while the receiver has a fix confirmed within receiver.fix_lost_after_s.', get: (s) => s.gnss.fix },
        { kind: 'scalar', name: 's1GnssFixQuality', sub: 3, syntax: { base: 'Integer32', range: [-1, 9] }, description: 'GGA fix quality (0 invalid, 1 GPS, 2 DGPS, ...); -1 if not reported.', get: (s) => s.gnss.quality ?? -1 },
        { kind: 'scalar', name: 's1GnssFixAge', sub: 4, syntax: I32_THOUSANDTHS, units: 'seconds', description: 'Age of the last fix in milliseconds (displayed in seconds); -1 if none.', get: (s) => ms(s.gnss.fixAgeS) },
        { kind: 'scalar', name: 's1GnssSatellitesUsed', sub: 5, syntax: { base: 'Gauge32' }, units: 'satellites', description: 'Satellites used in the solution.', get: (s) => gauge(s.gnss.satellitesUsed) },
        { kind: 'scalar', name: 's1GnssSatellitesInView', sub: 6, syntax: { base: 'Gauge32' }, units: 'satellites', description: 'Satellites in view.', get: (s) => gauge(s.gnss.satellitesInView) },
        { kind: 'scalar', name: 's1GnssHdop', sub: 7, syntax: I32_HUNDREDTHS, description: 'Horizontal dilution of precision times 100 (displayed 1.25 for 125); -1 if unknown.', get: (s) => (s.gnss.hdop === null ? -1 : i32(s.gnss.hdop * 100)) },
        { kind: 'scalar', name: 's1GnssPdop', sub: 8, syntax: I32_HUNDREDTHS, description: 'Position dilution of precision times 100 (displayed 1.25 for 125); -1 if unknown.', get: (s) => (s.gnss.pdop === null ? -1 : i32(s.gnss.pdop * 100)) },
        { kind: 'scalar', name: 's1GnssVdop', sub: 9, syntax: I32_HUNDREDTHS, description: 'Vertical dilution of precision times 100 (displayed 1.25 for 125); -1 if unknown.', get: (s) => (s.gnss.vdop === null ? -1 : i32(s.gnss.vdop * 100)) },
        { kind: 'scalar', name: 's1GnssLatitude', sub: 10, syntax: { base: 'Integer32', range: [-90000000, 90000000], scaled: MILLIONTHS }, units: 'degrees', description: 'Antenna latitude in microdegrees (displayed in degrees, north positive) with a current fix, else 0.', get: (s) => i32((s.gnss.latitudeDeg ?? 0) * 1e6) },
        { kind: 'scalar', name: 's1GnssLongitude', sub: 11, syntax: { base: 'Integer32', range: [-180000000, 180000000], scaled: MILLIONTHS }, units: 'degrees', description: 'Antenna longitude in microdegrees (displayed in degrees, east positive) with a current fix, else 0.', get: (s) => i32((s.gnss.longitudeDeg ?? 0) * 1e6) },
        { kind: 'scalar', name: 's1GnssAltitude', sub: 12, syntax: I32_HUNDREDTHS, units: 'metres', description: 'Antenna altitude above mean sea level in centimetres (displayed in metres) with a current 3D fix, else 0.', get: (s) => i32((s.gnss.altitudeMslM ?? 0) * 100) },
        { kind: 'scalar', name: 's1GnssAntenna', sub: 13, syntax: TC_ANTENNA, description: 'Antenna status reported by the receiver (MTK PGTOP).', get: (s) => ANTENNA[s.gnss.antenna] ?? 0 },
        { kind: 'scalar', name: 's1GnssAntennaFault', sub: 14, syntax: { base: 'TruthValue' }, description: 'True while the antenna is shorted, or the receiver fell back to its internal antenna when an external one is configured.', get: (s) => s.gnss.antennaFault },
        { kind: 'scalar', name: 's1GnssReceiverConnected', sub: 15, syntax: { base: 'TruthValue' }, description: 'True while the receiver\'s device or gpsd connection is open.', get: (s) => s.receiver.connected },
        { kind: 'scalar', name: 's1GnssReceiverVersion', sub: 16, syntax: { base: 'DisplayString' }, description: 'Receiver firmware version, if it reported one.', get: (s) => s.receiver.version ?? '' },
        { kind: 'scalar', name: 's1GnssSentences', sub: 17, syntax: { base: 'Counter32' }, units: 'sentences', description: 'Sentences (or gpsd reports) accepted.', get: (s) => u32(s.receiver.sentences) },
        { kind: 'scalar', name: 's1GnssRejected', sub: 18, syntax: { base: 'Counter32' }, units: 'lines', description: 'Lines rejected (bad checksum, garbage, ...).', get: (s) => u32(Object.values(s.receiver.rejected).reduce((a, b) => a + b, 0)) },
        {
          kind: 'table', name: 's1SatTable', entry: 's1SatEntry', sub: 19, description: 'The satellites in view, as the receiver last reported them, indexed by constellation and PRN: a row (s1SatSnr.1.12, GPS PRN 12) follows one satellite for as long as it is in view, so an NMS graph of it is that satellite\'s.',
          columns: [
            // Sub 1 was s1SatIndex, the row position (until revision 202612012200Z): not reused.
            { name: 's1SatSystem', sub: 2, syntax: TC_CONSTELLATION, description: 'The satellite\'s constellation (first part of the index).', index: true },
            { name: 's1SatPrn', sub: 3, syntax: { base: 'Integer32', range: [0, 1000] }, description: 'PRN (or NMEA satellite id) within its constellation (second part of the index).', index: true },
            { name: 's1SatElevation', sub: 4, syntax: { base: 'Integer32', range: [-1, 90] }, units: 'degrees', description: 'Elevation; -1 if unknown.' },
            { name: 's1SatAzimuth', sub: 5, syntax: { base: 'Integer32', range: [-1, 359] }, units: 'degrees', description: 'Azimuth; -1 if unknown.' },
            { name: 's1SatSnr', sub: 6, syntax: { base: 'Integer32', range: [-1, 99] }, units: 'dB-Hz', description: 'Carrier to noise density; -1 if not tracked.' },
            { name: 's1SatUsed', sub: 7, syntax: { base: 'TruthValue' }, description: 'True if used in the solution.' },
          ],
          rows: (s) => satelliteRows(s.gnss.satellites).map((x) => [
            constellationCode(x.constellation), x.prn, x.elevationDeg === null ? -1 : Math.round(x.elevationDeg),
            x.azimuthDeg === null ? -1 : Math.round(x.azimuthDeg) % 360, x.snrDbHz === null ? -1 : Math.round(x.snrDbHz), x.used,
          ]),
        },
        {
          kind: 'table', name: 's1ConstellationTable', entry: 's1ConstellationEntry', sub: 20, description: 'Satellites in view and used, per constellation.',
          columns: [
            { name: 's1ConstellationIndex', sub: 1, syntax: TC_CONSTELLATION, description: 'The constellation.', index: true },
            { name: 's1ConstellationInView', sub: 2, syntax: { base: 'Gauge32' }, units: 'satellites', description: 'Satellites of this constellation in view.' },
            { name: 's1ConstellationUsed', sub: 3, syntax: { base: 'Gauge32' }, units: 'satellites', description: 'Satellites of this constellation used in the solution.' },
          ],
          rows: (s) => Object.entries(s.gnss.byConstellation)
            .map(([c, v]) => [constellationCode(c), gauge(v.inView), gauge(v.used)] as Value[])
            .filter((r) => (r[0] as number) > 0)
            .sort((a, b) => (a[0] as number) - (b[0] as number)),
        },
      ],
    },
    {
      kind: 'group', name: 's1Pps', sub: 3, description: 'The pulse-per-second input.',
      children: [
        { kind: 'scalar', name: 's1PpsPresent', sub: 1, syntax: { base: 'TruthValue' }, description: 'True while pulses arrive.', get: (s) => s.pps.present },
        { kind: 'scalar', name: 's1PpsPulses', sub: 2, syntax: { base: 'Counter32' }, units: 'pulses', description: 'Pulses seen.', get: (s) => u32(s.pps.pulses) },
        { kind: 'scalar', name: 's1PpsMissed', sub: 3, syntax: { base: 'Counter32' }, units: 'pulses', description: 'Pulses that never came.', get: (s) => u32(s.pps.missed) },
        { kind: 'scalar', name: 's1PpsExtra', sub: 4, syntax: { base: 'Counter32' }, units: 'pulses', description: 'Pulses too soon after the previous one.', get: (s) => u32(s.pps.extra) },
        { kind: 'scalar', name: 's1PpsJitter', sub: 5, syntax: { base: 'Integer32' }, units: 'nanoseconds', description: 'RMS jitter of the pulse timestamps; -1 until measured.', get: (s) => s.pps.jitterNs ?? -1 },
        { kind: 'scalar', name: 's1PpsLastEdgeAge', sub: 6, syntax: I32_THOUSANDTHS, units: 'seconds', description: 'Age of the last pulse in milliseconds (displayed in seconds); -1 if none.', get: (s) => ms(s.pps.lastEdgeAgeS) },
        { kind: 'scalar', name: 's1PpsNmeaDelay', sub: 7, syntax: I32_MILLIONTHS, units: 'seconds', description: 'Measured delay from a pulse to the first sentence labelling it, in microseconds (displayed in seconds); -1 until measured.', get: (s) => (s.discipline.nmeaDelayMs === null ? -1 : i32(s.discipline.nmeaDelayMs * 1000)) },
      ],
    },
    {
      kind: 'group', name: 's1Discipline', sub: 4, description: 'The disciplined clock.',
      children: [
        { kind: 'scalar', name: 's1DisciplineState', sub: 1, syntax: TC_STATE, description: 'State of the clock discipline.', get: (s) => s.discipline.stateCode },
        { kind: 'scalar', name: 's1DisciplineOffset', sub: 2, syntax: { base: 'Integer32' }, units: 'nanoseconds', description: 'Offset of the served (disciplined) clock from GPS at the last PPS sample (served - GPS), as ntpEntStatusActiveOffset gives it in milliseconds; 0 without a sample in the last 2 s. Saturates at the Integer32 range (+/-2.147 s): s1DisciplineOffsetUsec does not.', get: (s) => i32(s.discipline.offsetNs) ?? 0 },
        { kind: 'scalar', name: 's1DisciplineFrequency', sub: 3, syntax: { base: 'Integer32' }, units: 'ppb', description: 'Estimated frequency error of the local oscillator.', get: (s) => i32(s.discipline.frequencyPpb) ?? 0 },
        { kind: 'scalar', name: 's1DisciplineErrorEstimate', sub: 4, syntax: { base: 'Integer32' }, units: 'nanoseconds', description: 'Bound on the disciplined clock\'s time error (99 %); -1 if none yet. Saturates at 2.147 s (a long holdover can reach it): s1DisciplineErrorEstimateUsec does not.', get: (s) => i32(s.discipline.timeErrorEstimateNs) ?? -1 },
        { kind: 'scalar', name: 's1DisciplineHoldoverElapsed', sub: 5, syntax: { base: 'Integer32' }, units: 'seconds', description: 'Time in holdover; 0 when not in holdover.', get: (s) => i32(s.discipline.holdoverElapsedS ?? 0) },
        { kind: 'scalar', name: 's1DisciplineStratum', sub: 6, syntax: { base: 'Integer32', range: [0, 16] }, description: 'Stratum served (1 synchronized, 16 not).', get: (s) => s.discipline.stratum },
        { kind: 'scalar', name: 's1DisciplineLeapIndicator', sub: 7, syntax: { base: 'Integer32', range: [0, 3] }, description: 'Leap indicator served (3: unsynchronized).', get: (s) => s.discipline.leapIndicator },
        { kind: 'scalar', name: 's1DisciplineClockClass', sub: 8, syntax: { base: 'Integer32', range: [0, 255] }, description: 'PTP clockClass (6 locked, 7 holdover, 52/187 degraded, 248 free run).', get: (s) => s.discipline.ptpClockClass },
        { kind: 'scalar', name: 's1DisciplineClockAccuracy', sub: 9, syntax: { base: 'Integer32', range: [0, 255] }, description: 'PTP clockAccuracy code.', get: (s) => s.discipline.ptpClockAccuracy },
        { kind: 'scalar', name: 's1DisciplineTaiUtc', sub: 10, syntax: { base: 'Integer32' }, units: 'seconds', description: 'TAI - UTC; 0 without a leap second table.', get: (s) => s.discipline.taiUtcS ?? 0 },
        { kind: 'scalar', name: 's1DisciplineRefId', sub: 11, syntax: { base: 'DisplayString' }, description: 'Reference id served (GPS, or INIT when unsynchronized).', get: (s) => s.discipline.refId },
        { kind: 'scalar', name: 's1DisciplineLocalOffset', sub: 12, syntax: { base: 'Integer32' }, units: 'nanoseconds', description: 'Estimated offset of the undisciplined local oscillator from GPS (local - GPS): what the discipline corrects, not what clients are served. Saturates at the Integer32 range (+/-2.147 s): s1DisciplineLocalOffsetUsec does not; 0 before the first sample.', get: (s) => i32(s.discipline.localOffsetNs) ?? 0 },
        { kind: 'scalar', name: 's1DisciplineTimeJump', sub: 13, syntax: I32_THOUSANDTHS, units: 'seconds', description: 'The jump of the receiver\'s time the integrity gate refuses now (label - served clock), in milliseconds (displayed in seconds); 0 when none. Saturates at the Integer32 range (about 24 days).', get: (s) => i32(s.discipline.timeJumpS === null ? 0 : s.discipline.timeJumpS * 1000) ?? 0 },
        // Integer32 microseconds: every NMS graphs a signed Integer32 as a gauge (a Counter64 cannot be
        // negative and is graphed as a rate; an Opaque float is read by few), and +/-2147 s is beyond any
        // offset a served clock keeps (the integrity gate refuses larger jumps, s1DisciplineTimeJump).
        { kind: 'scalar', name: 's1DisciplineOffsetUsec', sub: 14, syntax: I32_MILLIONTHS, units: 'seconds', description: 's1DisciplineOffset in microseconds (displayed in seconds): the served clock\'s offset from GPS at the last PPS sample (served - GPS); 0 without a sample in the last 2 s. Saturates only at +/-2147 s.', get: (s) => us(s.discipline.offsetNs) ?? 0 },
        { kind: 'scalar', name: 's1DisciplineLocalOffsetUsec', sub: 15, syntax: I32_MILLIONTHS, units: 'seconds', description: 's1DisciplineLocalOffset in microseconds (displayed in seconds): the undisciplined local oscillator\'s offset from GPS (local - GPS); 0 before the first sample. Saturates only at +/-2147 s.', get: (s) => us(s.discipline.localOffsetNs) ?? 0 },
        { kind: 'scalar', name: 's1DisciplineErrorEstimateUsec', sub: 16, syntax: I32_MILLIONTHS, units: 'seconds', description: 's1DisciplineErrorEstimate in microseconds (displayed in seconds): the bound on the served clock\'s time error (99 %); -1 if none yet. Saturates only at 2147 s.', get: (s) => us(s.discipline.timeErrorEstimateNs) ?? -1 },
      ],
    },
    {
      kind: 'group', name: 's1Ntp', sub: 5, description: 'The NTP server.',
      children: [
        { kind: 'scalar', name: 's1NtpRequests', sub: 1, syntax: { base: 'Counter32' }, units: 'packets', description: 'Requests received.', get: (s) => u32(s.ntp.received) },
        { kind: 'scalar', name: 's1NtpReplies', sub: 2, syntax: { base: 'Counter32' }, units: 'packets', description: 'Time replies sent.', get: (s) => u32(s.ntp.replied) },
        { kind: 'scalar', name: 's1NtpDropped', sub: 3, syntax: { base: 'Counter32' }, units: 'packets', description: 'Requests dropped (malformed, wrong mode, rate limited, denied).', get: (s) => u32(Object.values(s.ntp.dropped).reduce((a, b) => a + b, 0)) },
        { kind: 'scalar', name: 's1NtpKissOfDeath', sub: 4, syntax: { base: 'Counter32' }, units: 'packets', description: 'Kiss-o\'-death replies sent.', get: (s) => u32(s.ntp.kissOfDeath) },
        { kind: 'scalar', name: 's1NtpRequestRate', sub: 5, syntax: { base: 'Gauge32' }, units: 'requests per second', description: 'Requests per second over about ten seconds.', get: (s) => gauge(s.ntp.requestsPerSecond) },
        { kind: 'scalar', name: 's1NtpClients', sub: 6, syntax: { base: 'Gauge32' }, units: 'clients', description: 'Estimated distinct clients since start.', get: (s) => gauge(s.ntp.distinctClients) },
        { kind: 'scalar', name: 's1NtsKeSessions', sub: 7, syntax: { base: 'Counter32' }, units: 'sessions', description: 'NTS-KE key exchanges that ended with cookies sent (0 while NTS is off).', get: (s) => u32(s.ntp.nts.keSessions) },
        { kind: 'scalar', name: 's1NtsKeFailures', sub: 8, syntax: { base: 'Counter32' }, units: 'connections', description: 'NTS-KE connections that ended without cookies (TLS or ALPN refused, timeout, busy, bad request).', get: (s) => u32(Object.values(s.ntp.nts.keFailures).reduce((a, b) => a + b, 0)) },
        { kind: 'scalar', name: 's1NtsRequests', sub: 9, syntax: { base: 'Counter32' }, units: 'packets', description: 'NTP requests carrying NTS extension fields.', get: (s) => u32(s.ntp.nts.requests) },
        { kind: 'scalar', name: 's1NtsReplies', sub: 10, syntax: { base: 'Counter32' }, units: 'packets', description: 'NTS-authenticated replies sent.', get: (s) => u32(s.ntp.nts.replied) },
        { kind: 'scalar', name: 's1NtsNaks', sub: 11, syntax: { base: 'Counter32' }, units: 'packets', description: 'NTS NAKs (kiss code NTSN) sent: a cookie that did not open or a request that failed authentication.', get: (s) => u32(s.ntp.nts.naks) },
        { kind: 'scalar', name: 's1NtsFailures', sub: 12, syntax: { base: 'Counter32' }, units: 'packets', description: 'NTS requests refused (malformed, unknown cookie key, undecryptable cookie, failed authenticator).', get: (s) => u32(Object.values(s.ntp.nts.failures).reduce((a, b) => a + b, 0)) },
        { kind: 'scalar', name: 's1NtsCookieKeyAge', sub: 13, syntax: { base: 'Gauge32' }, units: 'seconds', description: 'Age of the current NTS cookie key; 0 while NTS is off.', get: (s) => gauge(s.ntp.nts.cookieKeyAgeS ?? 0) },
      ],
    },
    {
      kind: 'group', name: 's1Alarms', sub: 6, description: 'Threshold alarms (config alarms.*).',
      children: [
        { kind: 'scalar', name: 's1AlarmsActive', sub: 1, syntax: { base: 'Gauge32' }, units: 'alarms', description: 'Alarms raised and not cleared.', get: (s) => s.alarms.filter((a) => a.severity !== 'none').length },
        {
          kind: 'table', name: 's1AlarmTable', entry: 's1AlarmEntry', sub: 2, description: 'Every alarm rule, in a fixed order, with its state.',
          columns: [
            { name: 's1AlarmIndex', sub: 1, syntax: { base: 'Integer32', range: [1, 255] }, description: 'The rule\'s place in the list.', index: true },
            { name: 's1AlarmName', sub: 2, syntax: { base: 'DisplayString' }, description: 'The rule\'s name (as in the configuration).' },
            { name: 's1AlarmSeverity', sub: 3, syntax: TC_SEVERITY, description: 'none, or the severity raised.' },
            { name: 's1AlarmValue', sub: 4, syntax: { base: 'Integer32' }, description: 'The value that raised it (in the rule\'s units); 0 when none.' },
            { name: 's1AlarmThreshold', sub: 5, syntax: { base: 'Integer32' }, description: 'The threshold crossed; 0 when none.' },
            { name: 's1AlarmRaisedAge', sub: 6, syntax: { base: 'Integer32' }, units: 'seconds', description: 'Time since it was raised; -1 when not raised.' },
            { name: 's1AlarmRaisedTime', sub: 7, syntax: { base: 'DateAndTime' }, description: 'When it was raised (UTC, to the tenth of a second); \'0000000000000000\'H when not raised.' },
          ],
          rows: (s) => s.alarms.map((a) => [
            a.index, a.name, SEVERITY[a.severity] ?? 0, i32(a.value) ?? 0, i32(a.threshold) ?? 0,
            a.raisedAgeS === null ? -1 : i32(a.raisedAgeS), a.raisedAt,
          ]),
        },
      ],
    },
    {
      kind: 'group', name: 's1Ptp', sub: 7, description: 'The PTP grandmaster (config ptp.*).',
      children: [
        { kind: 'scalar', name: 's1PtpEnabled', sub: 1, syntax: { base: 'TruthValue' }, description: 'True when the agent serves PTP.', get: (s) => s.ptp.enabled },
        { kind: 'scalar', name: 's1PtpClockIdentity', sub: 2, syntax: { base: 'DisplayString' }, description: 'The clockIdentity (EUI-64 of the interface MAC), as pmc prints it; empty when PTP is off.', get: (s) => s.ptp.clockIdentity ?? '' },
        { kind: 'scalar', name: 's1PtpDomain', sub: 3, syntax: { base: 'Integer32', range: [-1, 255] }, description: 'The PTP domain; -1 when PTP is off.', get: (s) => s.ptp.domain ?? -1 },
        { kind: 'scalar', name: 's1PtpSyncsSent', sub: 4, syntax: { base: 'Counter32' }, units: 'messages', description: 'Sync messages sent.', get: (s) => u32(s.ptp.sent.sync ?? 0) },
        { kind: 'scalar', name: 's1PtpDelayResponses', sub: 5, syntax: { base: 'Counter32' }, units: 'messages', description: 'Delay_Resp messages sent (one per Delay_Req from a slave).', get: (s) => u32(s.ptp.sent.delay_resp ?? 0) },
        { kind: 'scalar', name: 's1PtpMalformed', sub: 6, syntax: { base: 'Counter32' }, units: 'datagrams', description: 'PTP datagrams refused as malformed.', get: (s) => u32(Object.values(s.ptp.malformed).reduce((a, b) => a + b, 0)) },
        { kind: 'scalar', name: 's1PtpBetterMaster', sub: 7, syntax: { base: 'TruthValue' }, description: 'True while a clock the best master algorithm would prefer announces on the domain (it is reported, not obeyed).', get: (s) => s.ptp.betterMaster },
        { kind: 'scalar', name: 's1PtpKernelTimestamps', sub: 8, syntax: { base: 'TruthValue' }, description: 'True when PTP timestamps come from the kernel (the native addon), false when from the event loop.', get: (s) => s.ptp.rxTimestamps === 'kernel' },
      ],
    },
    {
      kind: 'group', name: 's1History', sub: 8, description: 'The history database and the InfluxDB export.',
      children: [
        { kind: 'scalar', name: 's1HistoryHealthy', sub: 1, syntax: { base: 'TruthValue' }, description: 'True while the history database is written (or history is off).', get: (s) => s.store.healthy },
        { kind: 'scalar', name: 's1HistoryPending', sub: 2, syntax: { base: 'Gauge32' }, units: 'records', description: 'Samples and events waiting to be written.', get: (s) => gauge(s.store.pending) },
        { kind: 'scalar', name: 's1HistoryDropped', sub: 3, syntax: { base: 'Counter32' }, units: 'records', description: 'Samples and events dropped while the disk failed.', get: (s) => u32(s.store.dropped) },
        { kind: 'scalar', name: 's1HistorySize', sub: 4, syntax: { base: 'Gauge32' }, units: 'kilobytes', description: 'Size of the history database and its WAL.', get: (s) => gauge((s.store.sizeBytes ?? 0) / 1024) },
        { kind: 'scalar', name: 's1InfluxQueued', sub: 5, syntax: { base: 'Gauge32' }, units: 'points', description: 'Points waiting for InfluxDB (held in the durable queue during an outage).', get: (s) => gauge(s.influx.queued) },
        { kind: 'scalar', name: 's1InfluxDropped', sub: 6, syntax: { base: 'Counter32' }, units: 'points', description: 'Points the queue\'s bound forced out.', get: (s) => u32(s.influx.dropped) },
      ],
    },
    {
      kind: 'group', name: 's1Integrity', sub: 9, description: 'Whether the receiver can be believed (config integrity.*): the upstream NTP servers it is cross-checked against, and the GNSS plausibility checks.',
      children: [
        { kind: 'scalar', name: 's1IntegrityFailing', sub: 1, syntax: { base: 'TruthValue' }, description: 'True while any integrity check fails.', get: (s) => s.integrity.failing },
        { kind: 'scalar', name: 's1IntegrityAcceptJump', sub: 2, syntax: TC_ACCEPT_JUMP, description: 'When a jump of the receiver\'s time is believed (integrity.accept_jump).', get: (s) => ACCEPT_JUMP[s.integrity.acceptJump] },
        { kind: 'scalar', name: 's1IntegrityUpstreamConfigured', sub: 3, syntax: { base: 'Gauge32' }, units: 'servers', description: 'Upstream NTP servers configured.', get: (s) => gauge(s.integrity.upstream.configured) },
        { kind: 'scalar', name: 's1IntegrityUpstreamAgreeing', sub: 4, syntax: { base: 'Gauge32' }, units: 'servers', description: 'Upstream servers in the majority; 0 when no majority agrees (more than half of those configured must).', get: (s) => gauge(s.integrity.upstream.majority?.members.length ?? 0) },
        { kind: 'scalar', name: 's1IntegrityReceiverOffset', sub: 5, syntax: I32_MILLIONTHS, units: 'seconds', description: 'The receiver\'s last second label minus the upstream majority, in microseconds (displayed in seconds); 0 without a majority. Saturates at the Integer32 range.', get: (s) => i32(s.integrity.upstream.receiverMinusMajorityS === null ? 0 : s.integrity.upstream.receiverMinusMajorityS * 1e6) ?? 0 },
        {
          kind: 'table', name: 's1IntegrityCheckTable', entry: 's1IntegrityCheckEntry', sub: 6, description: 'The integrity checks, one row each in a fixed order: upstream(1), position(2), jamming(3), satellites(4), ppsCount(5), leap(6).',
          columns: [
            { name: 's1IntegrityCheckIndex', sub: 1, syntax: { base: 'Integer32', range: [1, 255] }, description: 'The check\'s place in the list.', index: true },
            { name: 's1IntegrityCheckName', sub: 2, syntax: { base: 'DisplayString' }, description: 'The check\'s name (as in Status and the events).' },
            { name: 's1IntegrityCheckEnabled', sub: 3, syntax: { base: 'TruthValue' }, description: 'Configured on.' },
            { name: 's1IntegrityCheckArmed', sub: 4, syntax: { base: 'TruthValue' }, description: 'Has what it needs to judge (a learned baseline, a leap second table, an upstream majority).' },
            { name: 's1IntegrityCheckFailing', sub: 5, syntax: { base: 'TruthValue' }, description: 'Fails now.' },
            { name: 's1IntegrityCheckValue', sub: 6, syntax: I32_THOUSANDTHS, description: 'Its figure now, in thousandths of s1IntegrityCheckUnits; 0 when unknown.' },
            { name: 's1IntegrityCheckThreshold', sub: 7, syntax: I32_THOUSANDTHS, description: 'The threshold it is judged by, in thousandths of s1IntegrityCheckUnits.' },
            { name: 's1IntegrityCheckUnits', sub: 8, syntax: { base: 'DisplayString' }, description: 'The units of value and threshold (s, m, dB, satellites).' },
            { name: 's1IntegrityCheckFailures', sub: 9, syntax: { base: 'Counter32' }, description: 'Times it has failed since the agent started.' },
            { name: 's1IntegrityCheckDetail', sub: 10, syntax: { base: 'DisplayString' }, description: 'What it found, in words.' },
          ],
          rows: (s) => s.integrity.checks.map((c, i) => [
            i + 1, c.name, c.enabled, c.armed, c.failing, i32(c.value === null ? 0 : c.value * 1000) ?? 0, i32(c.threshold * 1000) ?? 0, c.units,
            u32(c.failures), c.detail.slice(0, 255),
          ]),
        },
        {
          kind: 'table', name: 's1UpstreamTable', entry: 's1UpstreamEntry', sub: 7, description: 'The upstream NTP servers, in the order configured (the simulator\'s last), as chronyc sources shows them.',
          columns: [
            { name: 's1UpstreamIndex', sub: 1, syntax: { base: 'Integer32', range: [1, 255] }, description: 'The server\'s place in the list.', index: true },
            { name: 's1UpstreamName', sub: 2, syntax: { base: 'DisplayString' }, description: 'As configured.' },
            { name: 's1UpstreamState', sub: 3, syntax: TC_UPSTREAM_STATE, description: 'What the selection makes of it.' },
            { name: 's1UpstreamReach', sub: 4, syntax: { base: 'Integer32', range: [0, 255] }, description: 'The reach register: bit 0 is the last poll (255: eight of eight answered).' },
            { name: 's1UpstreamPoll', sub: 5, syntax: { base: 'Integer32' }, units: 'seconds', description: 'The poll interval.' },
            { name: 's1UpstreamStratum', sub: 6, syntax: { base: 'Integer32', range: [0, 16] }, description: 'The stratum it claims; 0 before its first answer.' },
            { name: 's1UpstreamOffset', sub: 7, syntax: I32_MILLIONTHS, units: 'seconds', description: 'Server minus the served clock (the clock filter\'s pick), in microseconds (displayed in seconds); 0 before a sample. Saturates at the Integer32 range.' },
            { name: 's1UpstreamDelay', sub: 8, syntax: I32_MILLIONTHS, units: 'seconds', description: 'Round-trip delay of that sample, in microseconds (displayed in seconds).' },
            { name: 's1UpstreamRootDistance', sub: 9, syntax: I32_MILLIONTHS, units: 'seconds', description: 'Half-width of the interval it vouches for (root distance), in microseconds (displayed in seconds).' },
          ],
          rows: (s) => s.integrity.upstream.servers.slice(0, 255).map((x, i) => [
            i + 1, x.name, UPSTREAM_STATE[x.state], x.reach, i32(x.pollS) ?? 0, x.stratum ?? 0,
            i32(x.offsetS === null ? 0 : x.offsetS * 1e6) ?? 0, i32(x.delayS === null ? 0 : x.delayS * 1e6) ?? 0,
            i32(x.rootDistanceS === null ? 0 : x.rootDistanceS * 1e6) ?? 0,
          ]),
        },
      ],
    },
    {
      kind: 'group', name: 's1Host', sub: 10, description: 'The machine the agent runs on.',
      children: [
        { kind: 'scalar', name: 's1HostCpuTemperature', sub: 1, syntax: { base: 'Integer32', scaled: TENTHS }, units: 'degrees Celsius', description: `CPU temperature in tenths of a degree (displayed in degrees), from agent.cpu_temperature_file (a Pi: the SoC's thermal zone), read once a second; ${NO_TEMPERATURE} (below absolute zero) where the machine has none.`, get: (s) => (s.host.cpuTemperatureC === null ? NO_TEMPERATURE : i32(s.host.cpuTemperatureC * 10)) },
        { kind: 'scalar', name: 's1HostSerialNumber', sub: 2, syntax: { base: 'DisplayString' }, description: 'The board\'s serial number (a Raspberry Pi\'s, from its device tree or /proc/cpuinfo), for the NMS\'s inventory; empty where the machine does not say (x86 keeps it where only root may read).', get: (s) => s.host.serialNumber ?? '' },
        { kind: 'scalar', name: 's1HostModel', sub: 3, syntax: { base: 'DisplayString' }, description: 'The board\'s model (a Pi: "Raspberry Pi 3 Model B Plus Rev 1.3"); empty where the machine does not say.', get: (s) => s.host.model ?? '' },
      ],
    },
    {
      kind: 'group', name: 's1Chrony', sub: 11, description: 'chronyd as it runs on this machine (partner mode, config partners.chrony), read-only: what chronyc tracking and chronyc sources show. Unknown values read as 0 or empty while partners.chrony is off or chronyd does not answer.',
      children: [
        { kind: 'scalar', name: 's1ChronyEnabled', sub: 1, syntax: { base: 'TruthValue' }, description: 'True when partners.chrony.enabled.', get: (s) => s.partners.chrony.enabled },
        { kind: 'scalar', name: 's1ChronyReachable', sub: 2, syntax: { base: 'TruthValue' }, description: 'True while chronyd answers.', get: (s) => s.partners.chrony.reachable },
        { kind: 'scalar', name: 's1ChronySynchronised', sub: 3, syntax: { base: 'TruthValue' }, description: 'True while chronyd has a reference and its leap status is not unsynchronised.', get: (s) => s.partners.chrony.synchronised },
        { kind: 'scalar', name: 's1ChronyStratum', sub: 4, syntax: { base: 'Integer32', range: [0, 16] }, description: 'chronyd\'s stratum; 0 while unknown.', get: (s) => s.partners.chrony.stratum ?? 0 },
        { kind: 'scalar', name: 's1ChronyReference', sub: 5, syntax: { base: 'DisplayString' }, description: 'chronyd\'s reference (the name or address chronyc tracking shows), and its reference ID in parentheses; empty while unknown.', get: (s) => (s.partners.chrony.reference === null ? '' : `${s.partners.chrony.reference} (${s.partners.chrony.referenceId ?? ''})`) },
        { kind: 'scalar', name: 's1ChronySystemOffset', sub: 6, syntax: { base: 'Integer32' }, units: 'nanoseconds', description: 'chronyd\'s estimate of the system clock\'s offset from true time (chronyc tracking: System time; positive: the clock is fast). Saturates at the Integer32 range; 0 while unknown.', get: (s) => i32(s.partners.chrony.systemOffsetNs) ?? 0 },
        { kind: 'scalar', name: 's1ChronyFrequency', sub: 7, syntax: { base: 'Integer32' }, units: 'ppb', description: 'The frequency chronyd runs the system clock at, parts per billion (chronyc tracking: Frequency, in ppb); 0 while unknown.', get: (s) => i32(s.partners.chrony.frequencyPpm === null ? null : s.partners.chrony.frequencyPpm * 1000) ?? 0 },
        { kind: 'scalar', name: 's1ChronyRootDispersion', sub: 8, syntax: { base: 'Gauge32' }, units: 'microseconds', description: 'chronyd\'s root dispersion in microseconds; 0 while unknown.', get: (s) => gauge(s.partners.chrony.rootDispersionS === null ? 0 : s.partners.chrony.rootDispersionS * 1e6) },
        { kind: 'scalar', name: 's1ChronySources', sub: 9, syntax: { base: 'Gauge32' }, units: 'sources', description: 'chronyd\'s sources (chronyc sources).', get: (s) => gauge(s.partners.chrony.sources.length) },
        { kind: 'scalar', name: 's1ChronySourcesUnreachable', sub: 10, syntax: { base: 'Gauge32' }, units: 'sources', description: 'Sources none of whose last eight polls was answered (reach 0).', get: (s) => gauge(s.partners.chrony.sources.filter((x) => parseInt(x.reach, 8) === 0).length) },
        {
          kind: 'table', name: 's1ChronySourceTable', entry: 's1ChronySourceEntry', sub: 11, description: 'chronyd\'s sources as chronyc sources and sourcestats show them, in chronyd\'s order (rows renumber when chronyd adds or removes a source: use s1ChronySourceName).',
          columns: [
            { name: 's1ChronySourceIndex', sub: 1, syntax: { base: 'Integer32', range: [1, 256] }, description: 'The source\'s place in chronyc sources.', index: true },
            { name: 's1ChronySourceName', sub: 2, syntax: { base: 'DisplayString' }, description: 'Its address, or a reference clock\'s reference ID (GPS, PPS).' },
            { name: 's1ChronySourceMode', sub: 3, syntax: { base: 'DisplayString' }, description: 'server, peer or refclock.' },
            { name: 's1ChronySourceState', sub: 4, syntax: TC_CHRONY_STATE, description: 'What chronyd\'s selection makes of it.' },
            { name: 's1ChronySourceStratum', sub: 5, syntax: { base: 'Integer32', range: [0, 16] }, description: 'The stratum it claims (0 for a reference clock).' },
            { name: 's1ChronySourceReach', sub: 6, syntax: { base: 'Integer32', range: [0, 255] }, description: 'The reach register (chronyc shows it in octal; 255: eight of eight answered).' },
            { name: 's1ChronySourceLastRx', sub: 7, syntax: { base: 'Integer32' }, units: 'seconds', description: 'Seconds since its last sample; -1 before the first.' },
            { name: 's1ChronySourceOffset', sub: 8, syntax: I32_MILLIONTHS, units: 'seconds', description: 'The last sample\'s offset as adjusted since (chronyc sources\' first figure; positive: the local clock is ahead), in microseconds (displayed in seconds). Saturates at the Integer32 range.' },
            { name: 's1ChronySourceError', sub: 9, syntax: I32_MILLIONTHS, units: 'seconds', description: 'The error bound of that sample (chronyc sources: +/-), in microseconds (displayed in seconds).' },
            { name: 's1ChronySourceStdDev', sub: 10, syntax: I32_MILLIONTHS, units: 'seconds', description: 'chronyc sourcestats\' Std Dev, in microseconds (displayed in seconds); 0 without statistics.' },
          ],
          rows: (s) => s.partners.chrony.sources.slice(0, 256).map((x, i) => [
            i + 1, x.name, x.mode, CHRONY_MARK[x.state] ?? 0, x.stratum, parseInt(x.reach, 8) & 255, x.lastRxAgeS === null ? -1 : i32(x.lastRxAgeS) ?? -1,
            i32(x.offsetNs / 1e3) ?? 0, i32(x.errorNs / 1e3) ?? 0, i32(x.stats ? x.stats.stdDevNs / 1e3 : 0) ?? 0,
          ]),
        },
        { kind: 'scalar', name: 's1ChronyLeapStatus', sub: 12, syntax: { base: 'DisplayString' }, description: 'chronyc tracking\'s Leap status (normal, insert second, delete second, unsynchronised); empty while unknown.', get: (s) => s.partners.chrony.leapStatus ?? '' },
        { kind: 'scalar', name: 's1ChronyNtpRequests', sub: 13, syntax: { base: 'Counter32' }, description: 'NTP requests chronyd received (chronyc serverstats: NTP packets received; asked on its Unix socket only, 0 otherwise).', get: (s) => u32(s.partners.chrony.serverStats?.ntpHits ?? 0) },
        { kind: 'scalar', name: 's1ChronyNtpDropped', sub: 14, syntax: { base: 'Counter32' }, description: 'NTP requests chronyd dropped (chronyc serverstats: NTP packets dropped; its rate limiting).', get: (s) => u32(s.partners.chrony.serverStats?.ntpDrops ?? 0) },
      ],
    },
    {
      kind: 'group', name: 's1Ptp4l', sub: 12, description: 'linuxptp\'s ptp4l as it runs on this machine (partner mode, config partners.ptp4l), read-only, through its management protocol: what pmc shows. Unknown values read as 0 or empty while partners.ptp4l is off or ptp4l does not answer.',
      children: [
        { kind: 'scalar', name: 's1Ptp4lEnabled', sub: 1, syntax: { base: 'TruthValue' }, description: 'True when partners.ptp4l.enabled.', get: (s) => s.partners.ptp4l.enabled },
        { kind: 'scalar', name: 's1Ptp4lReachable', sub: 2, syntax: { base: 'TruthValue' }, description: 'True while ptp4l answers on its management socket.', get: (s) => s.partners.ptp4l.reachable },
        { kind: 'scalar', name: 's1Ptp4lPortState', sub: 3, syntax: { base: 'DisplayString' }, description: 'The first port\'s state as pmc names it (MASTER, SLAVE, LISTENING, ...); empty while unknown.', get: (s) => s.partners.ptp4l.portState ?? '' },
        { kind: 'scalar', name: 's1Ptp4lInExpectedState', sub: 4, syntax: { base: 'TruthValue' }, description: 'True while ptp4l is in partners.ptp4l.expected_port_state (MASTER: every port; SLAVE: one port).', get: (s) => s.partners.ptp4l.inExpectedState },
        { kind: 'scalar', name: 's1Ptp4lGrandmasterIdentity', sub: 5, syntax: { base: 'DisplayString' }, description: 'The grandmaster\'s clock identity as pmc prints it; empty while unknown.', get: (s) => s.partners.ptp4l.grandmasterIdentity ?? '' },
        { kind: 'scalar', name: 's1Ptp4lGmClockClass', sub: 6, syntax: { base: 'Integer32', range: [0, 255] }, description: 'The grandmaster\'s clockClass; 0 while unknown.', get: (s) => s.partners.ptp4l.gmClockClass ?? 0 },
        { kind: 'scalar', name: 's1Ptp4lOffsetFromMaster', sub: 7, syntax: { base: 'Integer32' }, units: 'nanoseconds', description: 'CURRENT_DATA_SET offsetFromMaster; saturates at the Integer32 range; 0 while unknown.', get: (s) => i32(s.partners.ptp4l.offsetFromMasterNs) ?? 0 },
        { kind: 'scalar', name: 's1Ptp4lMeanPathDelay', sub: 8, syntax: { base: 'Integer32' }, units: 'nanoseconds', description: 'CURRENT_DATA_SET meanPathDelay; 0 while unknown.', get: (s) => i32(s.partners.ptp4l.meanPathDelayNs) ?? 0 },
        { kind: 'scalar', name: 's1Ptp4lStepsRemoved', sub: 9, syntax: { base: 'Gauge32' }, units: 'hops', description: 'CURRENT_DATA_SET stepsRemoved; 0 while unknown.', get: (s) => gauge(s.partners.ptp4l.stepsRemoved) },
      ],
    },
  ],
};

/** The satellites as s1SatTable rows: one per (constellation, PRN), the first of a pair the receiver
 * reports twice (one per signal band), at most 255. */
export function satelliteRows<T extends { constellation: string; prn: number }>(sats: readonly T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const x of sats) {
    const k = `${constellationCode(x.constellation)}.${x.prn}`;
    if (seen.has(k) || x.prn < 0 || x.prn > 1000) continue;
    seen.add(k);
    out.push(x);
  }
  return out.slice(0, 255);
}

export interface Flat {
  oid: number[];
  scalar?: Scalar;
  table?: Table;
  group?: Group;
  parent: string;
}

/** Every node with its OID relative to the module root. */
export function flatten(root: Group = OBJECTS, base: number[] = [], parent = 'stratum1AgentMIB'): Flat[] {
  const out: Flat[] = [];
  const here = [...base, root.sub];
  out.push({ oid: here, group: root, parent });
  for (const c of root.children) {
    if (c.kind === 'group') out.push(...flatten(c, here, root.name));
    else if (c.kind === 'scalar') out.push({ oid: [...here, c.sub], scalar: c, parent: root.name });
    else out.push({ oid: [...here, c.sub], table: c, parent: root.name });
  }
  return out;
}

export function allScalars(): { oid: number[]; def: Scalar }[] {
  return flatten().filter((f) => f.scalar).map((f) => ({ oid: f.oid, def: f.scalar! }));
}

export function allTables(): { oid: number[]; def: Table }[] {
  return flatten().filter((f) => f.table).map((f) => ({ oid: f.oid, def: f.table! }));
}

export const TEXTUAL_CONVENTIONS = [TC_FIXMODE, TC_ANTENNA, TC_STATE, TC_CONSTELLATION, TC_SEVERITY, TC_ACCEPT_JUMP, TC_UPSTREAM_STATE, TC_CHRONY_STATE] as const;

/** Notifications: fault/clear pairs and the rest, each with the objects it carries and the agent
 * event that raises it. */
export interface Notification {
  name: string;
  sub: number;
  objects: string[];
  /** Columns of the alarm table, sent for the row of the alarm concerned. */
  columns?: string[];
  description: string;
  /** The agent event that sends it (test and heartbeat are sent on demand and on a timer). */
  event?: string;
}

const CORE = ['s1AgentName', 's1DisciplineState'];

export const NOTIFICATIONS: Notification[] = [
  { name: 's1GpsFixLost', sub: 1, event: 'fixLost', objects: [...CORE, 's1GnssFixMode', 's1GnssSatellitesUsed', 's1GnssAntenna'], description: 'The GNSS receiver lost its fix (or stopped confirming one). Cleared by s1GpsFixAcquired.' },
  { name: 's1GpsFixAcquired', sub: 2, event: 'fixAcquired', objects: [...CORE, 's1GnssFixMode', 's1GnssSatellitesUsed'], description: 'The GNSS receiver has a fix again. Clears s1GpsFixLost.' },
  { name: 's1PpsLost', sub: 3, event: 'ppsLost', objects: [...CORE, 's1PpsPulses', 's1PpsMissed'], description: 'Pulses stopped arriving. Cleared by s1PpsRestored.' },
  { name: 's1PpsRestored', sub: 4, event: 'ppsRestored', objects: [...CORE, 's1PpsPulses', 's1PpsMissed'], description: 'Pulses arrive again. Clears s1PpsLost.' },
  { name: 's1AntennaFault', sub: 5, event: 'antennaFault', objects: [...CORE, 's1GnssAntenna'], description: 'The antenna is shorted, or the receiver fell back to its internal antenna. Cleared by s1AntennaOk.' },
  { name: 's1AntennaOk', sub: 6, event: 'antennaOk', objects: [...CORE, 's1GnssAntenna'], description: 'The antenna is healthy again. Clears s1AntennaFault.' },
  { name: 's1TimeJumpRefused', sub: 15, event: 'timeJumpRefused', objects: [...CORE, 's1DisciplineTimeJump', 's1DisciplineErrorEstimate'], description: 'The receiver\'s time jumped away from the served clock by more than its error estimate; the jump is refused and the clock holds over. Cleared by s1TimeJumpEnded.' },
  { name: 's1TimeJumpEnded', sub: 16, event: 'timeJumpEnded', objects: [...CORE, 's1DisciplineTimeJump', 's1DisciplineStratum'], description: 'A refused jump ended: the receiver agrees with the served clock again, the policy accepted the jump (the clock stepped), or the holdover budget was spent. Clears s1TimeJumpRefused.' },
  { name: 's1IntegrityCheckFailed', sub: 17, event: 'integrityCheckFailed', objects: [...CORE, 's1DisciplineStratum'], columns: ['s1IntegrityCheckName', 's1IntegrityCheckValue', 's1IntegrityCheckThreshold', 's1IntegrityCheckUnits', 's1IntegrityCheckDetail'], description: 'An integrity check failed: the receiver is a falseticker against the upstream majority, its position left the fence, C/N0 collapsed (jamming), the satellites used dropped, its labels disagree with the PPS count, or its leap second disagrees with the table. Cleared by s1IntegrityCheckPassed for the same row.' },
  { name: 's1IntegrityCheckPassed', sub: 18, event: 'integrityCheckPassed', objects: [...CORE, 's1DisciplineStratum'], columns: ['s1IntegrityCheckName', 's1IntegrityCheckValue'], description: 'An integrity check passes again. Clears s1IntegrityCheckFailed for the same row.' },
  { name: 's1HoldoverEntered', sub: 7, event: 'holdoverEntered', objects: [...CORE, 's1DisciplineErrorEstimate'], description: 'The clock lost its reference and runs on its last frequency. Cleared by s1HoldoverExited.' },
  { name: 's1HoldoverExited', sub: 8, event: 'holdoverExited', objects: [...CORE, 's1DisciplineErrorEstimate', 's1DisciplineHoldoverElapsed'], description: 'Holdover ended (locked again, or the holdover budget was spent). Clears s1HoldoverEntered.' },
  { name: 's1LockStateChanged', sub: 9, event: 'lockStateChanged', objects: [...CORE, 's1DisciplineStratum', 's1DisciplineClockClass'], description: 'The discipline changed state (FREERUN, ACQUIRING, LOCKED, HOLDOVER).' },
  { name: 's1LeapSecondAnnounced', sub: 10, event: 'leapSecondAnnounced', objects: [...CORE, 's1DisciplineLeapIndicator', 's1DisciplineTaiUtc'], description: 'A leap second will be inserted or deleted at the end of this UTC day.' },
  { name: 's1AlarmRaised', sub: 13, event: 'alarmRaised', objects: [...CORE], columns: ['s1AlarmName', 's1AlarmSeverity', 's1AlarmValue', 's1AlarmThreshold'], description: 'A threshold alarm was raised (or its severity changed). Cleared by s1AlarmCleared for the same row.' },
  { name: 's1AlarmCleared', sub: 14, event: 'alarmCleared', objects: [...CORE], columns: ['s1AlarmName', 's1AlarmSeverity', 's1AlarmValue'], description: 'A threshold alarm cleared. Clears s1AlarmRaised for the same row.' },
  { name: 's1ChronySyncLost', sub: 19, event: 'chronySyncLost', objects: [...CORE, 's1ChronyReachable', 's1ChronySynchronised', 's1ChronyStratum', 's1ChronyLeapStatus'], description: 'The partner chronyd lost its synchronisation: no reference, its leap status unsynchronised, or it stopped answering (s1ChronyReachable false). Cleared by s1ChronySyncRegained.' },
  { name: 's1ChronySyncRegained', sub: 20, event: 'chronySyncRegained', objects: [...CORE, 's1ChronySynchronised', 's1ChronyStratum', 's1ChronyReference'], description: 'The partner chronyd is synchronised again. Clears s1ChronySyncLost.' },
  { name: 's1ChronySourceFalseticker', sub: 21, event: 'chronySourceFalseticker', objects: [...CORE, 's1ChronyReference'], columns: ['s1ChronySourceName', 's1ChronySourceState', 's1ChronySourceOffset'], description: 'A source of the partner chronyd became a falseticker (chronyc sources: x): it disagrees with the majority of the others. Cleared by s1ChronySourceFalsetickerEnded for the same source.' },
  { name: 's1ChronySourceFalsetickerEnded', sub: 22, event: 'chronySourceFalsetickerEnded', objects: [...CORE, 's1ChronyReference'], columns: ['s1ChronySourceName', 's1ChronySourceState'], description: 'A source of the partner chronyd is no longer a falseticker (or is gone: then without its row). Clears s1ChronySourceFalseticker.' },
  { name: 's1Ptp4lPortStateChanged', sub: 23, event: 'ptp4lPortStateChanged', objects: [...CORE, 's1Ptp4lReachable', 's1Ptp4lPortState', 's1Ptp4lInExpectedState'], description: 'The partner ptp4l\'s port state changed; s1Ptp4lInExpectedState says whether it is now in partners.ptp4l.expected_port_state (false: it left it).' },
  { name: 's1Ptp4lGrandmasterChanged', sub: 24, event: 'ptp4lGrandmasterChanged', objects: [...CORE, 's1Ptp4lGrandmasterIdentity', 's1Ptp4lGmClockClass'], description: 'The partner ptp4l\'s grandmaster or the grandmaster\'s clockClass changed (a clockClass of 7 or 52 to 187: the grandmaster lost its reference).' },
  { name: 's1Heartbeat', sub: 11, objects: [...CORE, 's1DisciplineStratum', 's1DisciplineErrorEstimate', 's1GnssSatellitesUsed'], description: 'Sent every snmp.heartbeat_s seconds: the agent is alive.' },
  { name: 's1Test', sub: 12, objects: [...CORE], description: 'Sent on demand (stratum1 traps test) to check the path to the trap receiver.' },
];

/** The OID of a notification under the module root. */
export const notificationOid = (root: string, n: Notification) => `${root}.2.0.${n.sub}`;
