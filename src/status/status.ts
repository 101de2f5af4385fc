/**
 * The Status snapshot: everything the agent knows, computed once per request from the rooms that own
 * each part, in plain JSON types (ISO 8601 strings for times, numbers with their unit in the name), so
 * every consumer (the CLI, the status endpoint, SNMP, the exporters, the history, the PTP grandmaster)
 * reads the same figures. Every derived fact (synchronized, the effective fix mode, the state code, a
 * better master on the PTP domain, times as numbers) is decided here or in the room that owns it, once;
 * a consumer only changes units and encodings. The types of the parts' inputs live here too, so that
 * status/ imports nothing from the rooms that consume it.
 */
import type { ActuatorSnapshot } from '../discipline/system-actuator.ts';
import { type Nanos, toIso, toIsoLabel } from '../time/index.ts';
import type { GnssSnapshot } from '../gnss/monitor.ts';
import type { PpsSnapshot } from '../pps/monitor.ts';
import type { Phc2sysStatus } from '../partners/phc2sys.ts';
import type { AgentEvent, IntegrityCheck } from './events.ts';
import type { DisciplineSnapshot, DisciplineState } from '../discipline/discipline.ts';

/** Why the NTP server dropped a request. */
export type DropReason = 'malformed' | 'mode' | 'rate' | 'denied' | 'unauthenticated';

/** The NTP server core's counters (ntp/server.ts keeps them; Status reports them). */
export interface NtpCounters {
  received: number;
  replied: number;
  kod: number;
  dropped: Record<DropReason, number>;
  malformed: Record<string, number>;
  /** Requests by "v{version} mode {mode}", for NTPv4-MIB's packet mode table. */
  byVersionMode: Record<string, number>;
}

/** NTS (RFC 8915) counters: the key exchange (ntp/nts/ke-server.ts) and the NTP extension fields
 * (ntp/nts/ntp-ext.ts) keep them; Status reports them. Failures are by reason. */
export interface NtsCounters {
  keConnections: number;
  /** Key exchanges that ended with cookies sent. */
  keSessions: number;
  keFailures: Record<string, number>;
  /** NTP requests carrying NTS extension fields. */
  requests: number;
  /** Authenticated replies sent. */
  replied: number;
  /** NTS NAKs (kiss code NTSN) sent. */
  naks: number;
  failures: Record<string, number>;
  cookiesIssued: number;
}

const NTS_OFF = () => ({
  enabled: false, keConnections: 0, keSessions: 0, keFailures: {}, requests: 0, replied: 0, naks: 0, failures: {}, cookiesIssued: 0,
  cookieKeyAgeS: null, cookieKeys: 0, certificate: null,
});

/** The InfluxDB exporter's state (export/influx.ts keeps it; Status reports it). */
export interface InfluxStats {
  enabled: boolean;
  url: string | null;
  connected: boolean;
  written: number;
  batches: number;
  failures: number;
  rejected: number;
  queued: number;
  dropped: number;
  lastDropAt: string | null;
  /** Points were dropped by the queue's bound in the last ten minutes (the export_loss alarm). */
  droppingRecently: boolean;
  lastError: string | null;
  lastWriteAt: string | null;
}

/**
 * The discipline states as small integers, ordered from worst to best, so that a state can be rolled up
 * and charted like any figure and "the worst state in an interval" is the minimum code. The one
 * enumeration of the MIB (S1ClockState), the history (samples.state and its rollups), InfluxDB
 * (timing.state_code) and Prometheus (stratum1_discipline_state_code). The history has stored these
 * codes from the start: never renumber them.
 */
export const STATE_CODES = { FREERUN: 0, ACQUIRING: 1, HOLDOVER: 2, LOCKED: 3 } as const satisfies Record<DisciplineState, number>;
export const STATE_NAMES = Object.fromEntries(Object.entries(STATE_CODES).map(([k, v]) => [v, k])) as Record<number, DisciplineState>;

/** An alarm rule and its state, as the alarm engine's owner gives it to buildStatus (`raisedAt` on the
 * agent's clock; Status gives it as ISO 8601 and as an age, so no consumer parses a time). */
export interface AlarmInput {
  /** value and threshold: the figure and the threshold it crossed when the alarm was raised (null
   * while it is not). */
  index: number; name: string; severity: 'none' | 'warning' | 'critical'; value: number | null; threshold: number | null;
  raisedAt: Nanos | null; description: string;
  /** The rule as configured, visible whether or not it is raised: its figure now (null when it does
   * not apply: the feature is off, or the figure is unknown), the direction, both thresholds (null: no
   * such level), the units (boolean rules: 1 true, 0 false), and whether it is enabled. */
  current: number | null; comparison: 'above' | 'below'; warning: number | null; critical: number | null; units: string; enabled: boolean;
}

export interface NtpSnapshot {
  counters: NtpCounters;
  requestsPerSecond: number;
  distinctClients: number;
  precisionLog2: number;
  sendErrors: number;
  rxTimestamps: 'kernel' | 'event loop';
  nts?: NtsSnapshot;
}

/** What the NTP part says about NTS, when it serves it. */
export interface NtsSnapshot {
  counters: NtsCounters;
  /** Seconds since the current cookie key was made; the number of keys kept. */
  cookieKeyAgeS: number;
  cookieKeys: number;
  certificate: { path: string; selfSigned: boolean; subject: string; validTo: string; fingerprintSha256: string } | null;
}

export interface Endpoint {
  service: string;
  protocol: 'tcp' | 'udp' | 'unix';
  address: string;
  port: number;
}

export interface AgentInfo {
  name: string;
  version: string;
  pid: number;
  startedAt: Nanos;
  receiverSource: 'serial' | 'gpsd' | 'simulator';
  ppsSource: 'kernel' | 'gpsd' | 'simulator' | 'none';
  receiverDevice: string;
  ppsDevice: string;
  simulated: boolean;
  listening: Endpoint[];
}

export interface SatelliteStatus {
  constellation: string;
  prn: number;
  elevationDeg: number | null;
  azimuthDeg: number | null;
  snrDbHz: number | null;
  used: boolean;
}

export interface Status {
  /** When this snapshot was taken, on the agent's local clock. */
  time: string;
  /** The same instant as Unix seconds, for consumers that compute with it (none parses `time`). */
  timeUnixS: number;
  agent: {
    name: string; version: string; pid: number; startedAt: string; startedAtUnixS: number; uptimeS: number; simulated: boolean;
    listening: Endpoint[];
  };
  receiver: {
    source: string; device: string; connected: boolean; silent: boolean; lastDataAgeS: number | null;
    outages: number; bytes: number; lines: number; sentences: number; rejected: Record<string, number>;
    junkBytes: number; version: string | null;
  };
  gnss: {
    /** `mode` and `modeName`: the receiver's last completed epoch, even after the fix was lost. */
    fix: boolean; mode: number; modeName: 'unknown' | 'no fix' | '2D' | '3D';
    /** The effective fix mode, what every surface publishes as "the fix mode": the receiver's mode while
     * its fix is confirmed (`fix`), 1 (no fix) once it is not, 0 while the receiver has said nothing. */
    fixMode: 0 | 1 | 2 | 3;
    quality: number | null;
    fixAgeS: number | null; utc: string | null; utcAgeS: number | null;
    latitudeDeg: number | null; longitudeDeg: number | null; altitudeMslM: number | null;
    pdop: number | null; hdop: number | null; vdop: number | null;
    satellitesInView: number; satellitesUsed: number;
    byConstellation: Record<string, { inView: number; used: number }>;
    satellites: SatelliteStatus[];
    antenna: string; antennaFault: boolean; antennaAgeS: number | null;
    rejectedDates: number; lastRejectedDate: string | null;
    /** Seconds since the receiver's labels last jumped (however briefly); null: never. */
    timeJumpAgeS: number | null;
  };
  pps: {
    source: string; device: string; present: boolean; pulses: number; accepted: number; missed: number;
    extra: number; outOfWindow: number; outages: number; lastEdge: string | null; lastEdgeAgeS: number | null;
    lastIntervalS: number | null; jitterNs: number | null;
  };
  discipline: {
    state: DisciplineState;
    /** The state as its code in STATE_CODES (0 FREERUN, 1 ACQUIRING, 2 HOLDOVER, 3 LOCKED). */
    stateCode: number;
    stateSince: string; everLocked: boolean;
    /** The one rule for "synchronized", decided by the discipline: LOCKED, or HOLDOVER with the time error
     * estimate within the holdover budget. While synchronized the agent serves stratum 1, reference id
     * GPS, PTP clockClass 6 (locked) or 7 (holdover) with timeTraceable, and NTPv4-MIB's current mode 5;
     * otherwise stratum 16, leap indicator 3, INIT, and no traceability. */
    synchronized: boolean;
    servo: string;
    /** The offset: the served (disciplined) clock's offset from GPS at the last PPS sample (served - GPS,
     * chrony's "last offset"), while that sample is at most 2 s old; null otherwise. */
    offsetNs: number | null;
    /** The undisciplined local oscillator's estimated offset from GPS now (local - GPS): what the
     * discipline corrects, not what clients see. */
    localOffsetNs: number | null;
    frequencyPpb: number | null; frequencySigmaPpb: number | null;
    correctionNs: number;
    /** What steers the system clock (discipline.actuator), and so which clock NTP and PTP serve:
     * 'disciplined' (the host clock corrected by the discipline; the kernel clock is left to its owner)
     * or 'kernel' (the actuator steers the kernel clock, which is served as it is; correctionNs is then
     * what the kernel has still to remove). */
    actuator: 'none' | 'system';
    servedClock: 'disciplined' | 'kernel';
    /** With the system actuator: what the kernel was told and reported (frequency, status bits, state,
     * maxerror and esterror as the kernel has them, steps, leap seconds, refusals). */
    kernel: ActuatorSnapshot | null;
    /** Bound (99 %) on the served clock's error: errorK sigma plus any slew still to do. */
    timeErrorEstimateNs: number | null;
    /** The servo's own one-sigma uncertainty of its phase estimate now (no slew in it). */
    sigmaNs: number | null;
    holdoverElapsedS: number | null;
    lastSampleAgeS: number | null;
    /** When the last accepted sample was taken, as Unix seconds on the clock of `time`. */
    lastSampleAtUnixS: number | null;
    /** Measurement minus prediction of the last sample, accepted or not. */
    lastInnovationNs: number | null;
    /** RMS of the served clock's offset at the last 64 accepted samples (chronyc tracking's RMS offset). */
    rmsOffsetNs: number | null;
    samplesAccepted: number; samplesRejected: number; steps: number;
    /** The integrity gate is refusing a jump of the receiver's time now (the served clock holds over). */
    timeJumpRefused: boolean;
    /** That jump: the receiver's label minus the served clock, in seconds; null when none is refused. */
    timeJumpS: number | null;
    timeJumpSinceUnixS: number | null;
    /** Samples the integrity gate has refused since start. */
    samplesRefused: number;
    pairsTrusted: boolean; pairs: number; labelsRejected: Record<string, number>; nmeaDelayMs: number | null;
    stratum: number; leapIndicator: number; refId: string; rootDispersionS: number;
    ptpClockClass: number; ptpClockAccuracy: number; clockAccuracyNs: number | null;
    taiUtcS: number | null; leapTableExpired: boolean | null; nextLeap: string | null; nextLeapAtUnixS: number | null; nextLeapDelta: number | null;
  };
  ntp: {
    enabled: boolean; received: number; replied: number; kissOfDeath: number; dropped: Record<string, number>;
    malformed: Record<string, number>; byVersionMode: Record<string, number>; requestsPerSecond: number;
    distinctClients: number; precisionLog2: number | null; sendErrors: number; rxTimestamps: 'kernel' | 'event loop' | null;
    /** NTS (RFC 8915): key exchanges, NTS requests, failures by reason, the cookie key's age. */
    nts: {
      enabled: boolean; keConnections: number; keSessions: number; keFailures: Record<string, number>;
      requests: number; replied: number; naks: number; failures: Record<string, number>; cookiesIssued: number;
      cookieKeyAgeS: number | null; cookieKeys: number;
      certificate: { path: string; selfSigned: boolean; subject: string; validTo: string; fingerprintSha256: string } | null;
    };
  };
  snmp: {
    enabled: boolean; agentxConnected: boolean; agentxSessions: number; requests: number; droppedSource: number; droppedSize: number;
    /** Not SNMP at all; a wrong v1/v2c community; refused because the source kept guessing communities. */
    droppedMalformed: number; badCommunity: number; guessingRefused: number;
    /** Over snmp.requests_per_second; SNMPv3 for another engine ID; SNMPv3 outside the time window (replays);
     * v1/v2c replies cut to snmp.max_reply_ratio; Reports over snmp.reports_per_second. */
    rateLimited: number; unknownEngineId: number; notInTimeWindow: number; repliesCapped: number; reportsCapped: number;
    errors: number;
    trapsSent: number; trapsAcknowledged: number; trapsFailed: number; trapsByName: Record<string, number>;
  };
  /** The machine the agent runs on. */
  host: HostStatus;
  /** The feed of PPS-paired samples to chronyd's SOCK refclock (export.chrony_sock). */
  chronySock: ChronySockStatus;
  /** Partner mode: the time daemons already running on this machine, watched read-only (partners.*). */
  partners: PartnersStatus;
  /** gpsd itself, when it is the receiver or PPS source: its version, its devices, and its PPS and TOFF reports. */
  gpsd: GpsdStatus;
  /** Whether the receiver's time and position can be believed: the upstream cross-check and the GNSS
   * plausibility checks. */
  integrity: IntegrityStatus;
  store: StoreStatus;
  influx: InfluxStats;
  ptp: PtpStatus & {
    /** A clock the best master algorithm would prefer announces on our domain (reported, not obeyed);
     * false when PTP is off. */
    betterMaster: boolean;
  };
  /** Every alarm rule, in a fixed order (its index is its place, from 1), with its state. */
  alarms: (Omit<AlarmInput, 'raisedAt'> & {
    /** When it was raised (ISO 8601, to the millisecond); null when not raised. */
    raisedAt: string | null;
    /** Seconds since it was raised (at the snapshot's `time`); null when not raised. */
    raisedAgeS: number | null;
  })[];
  events: { counts: Record<string, number>; recent: Record<string, unknown>[] };
}

export interface ChronySockStatus {
  /** export.chrony_sock is set. */
  enabled: boolean;
  path: string;
  /** Why the feed cannot run (the native addon is not loaded), else null. */
  problem: string | null;
  connected: boolean;
  samplesSent: number;
  /** Sends that failed (chronyd gone: ECONNREFUSED; busy: EAGAIN). */
  sendErrors: number;
  /** Samples not sent because no connection could be made (chronyd not running, backing off). */
  samplesSkipped: number;
  /** Connections made after the first (chronyd restarted). */
  reconnects: number;
  lastError: string | null;
  /** The last sample sent as chronyc shows it: system clock minus GPS at the edge, ns. */
  lastOffsetNs: number | null;
  /** The system clock's time of that sample's edge (ISO 8601 to the nanosecond, as sent to the
   * microsecond with the rest in the offset): what chronyd's refclocks log names it by. */
  lastEdgeSystemTime: string | null;
  lastSentAgeS: number | null;
  /** The width of time_t in the samples (64: 40-byte samples, 32: 32-byte ones). */
  timevalBits: number;
}

/** A source of chronyd's, as chronyc sources (and sourcestats) shows it. */
export interface PartnerChronySource {
  /** The address, or a refclock's reference ID as text, or ID#n for a source not yet resolved. */
  name: string;
  address: string | null;
  mode: 'server' | 'peer' | 'refclock' | 'unknown';
  /** chronyc's state mark: * selected, + combined, - not combined, x falseticker, ~ too variable, ? unusable. */
  state: '*' | '+' | '-' | 'x' | '~' | '?' | ' ';
  stratum: number;
  pollLog2: number;
  /** The reachability register in octal, as chronyc shows it. */
  reach: string;
  /** Seconds since the last sample; null before the first. */
  lastRxAgeS: number | null;
  /** The last sample's offset as adjusted since, as measured, and its error (ns; positive: the local clock is ahead of the source). */
  offsetNs: number; measuredOffsetNs: number; errorNs: number;
  /** chronyc sourcestats: samples, runs, span, residual frequency, skew, estimated offset, standard deviation. */
  stats: { samples: number; runs: number; spanS: number; frequencyPpm: number; skewPpm: number; offsetNs: number; stdDevNs: number } | null;
}

export interface PartnerChronyStatus {
  /** partners.chrony.enabled. */
  enabled: boolean;
  /** How we ask: "udp 127.0.0.1:323". */
  transport: string | null;
  /** Something the operator should know about the setup (the Unix socket not supported yet), else null. */
  notice: string | null;
  /** The last round of questions was answered. */
  reachable: boolean;
  lastError: string | null;
  lastReplyAgeS: number | null;
  polls: number; failures: number;
  /** Times chronyd answered again after not answering (restarted, or back). */
  reconnects: number;
  /** chronyc tracking: the reference ID (hex) and its name (address, refclock text); null without a reference. */
  referenceId: string | null; reference: string | null; stratum: number | null; refTimeUnixS: number | null;
  /** The system clock minus NTP time (ns; chronyc: "fast of NTP time" when positive). */
  systemOffsetNs: number | null;
  lastOffsetNs: number | null; rmsOffsetNs: number | null;
  /** chronyc's Frequency: positive is "ppm fast". */
  frequencyPpm: number | null; residualFreqPpm: number | null; skewPpm: number | null;
  rootDelayS: number | null; rootDispersionS: number | null; updateIntervalS: number | null;
  leapStatus: 'normal' | 'insert second' | 'delete second' | 'unsynchronised' | 'invalid' | null;
  /** Derived once: chronyd has a reference and its leap status is not unsynchronised. */
  synchronised: boolean;
  sources: PartnerChronySource[];
  serverStats: {
    ntpHits: number; nkeHits: number; cmdHits: number; ntpDrops: number; nkeDrops: number; cmdDrops: number; logDrops: number;
    ntpAuthHits: number; ntpInterleavedHits: number; ntpTimestamps: number; ntpSpanS: number;
  } | null;
  /** Why there are no server stats (chronyd answers them only on its Unix socket). */
  serverStatsProblem: string | null;
}

/** A port of ptp4l's, as pmc's PORT_DATA_SET shows it. */
export interface PartnerPtp4lPort {
  portIdentity: string; portNumber: number;
  portState: 'NONE' | 'INITIALIZING' | 'FAULTY' | 'DISABLED' | 'LISTENING' | 'PRE_MASTER' | 'MASTER' | 'PASSIVE' | 'UNCALIBRATED' | 'SLAVE';
  logSyncInterval: number; logAnnounceInterval: number; announceReceiptTimeout: number; logMinDelayReqInterval: number;
  /** 1 E2E, 2 P2P. */
  delayMechanism: number;
  peerMeanPathDelayNs: number; versionNumber: number;
}

export interface PartnerPtp4lStatus {
  /** partners.ptp4l.enabled. */
  enabled: boolean;
  /** ptp4l's management socket (partners.ptp4l.socket) and ours, bound for its replies. */
  socket: string | null; localSocket: string | null;
  /** Why the partner cannot run (the native addon is not loaded), else null. */
  problem: string | null;
  /** The last round of GETs was answered. */
  reachable: boolean;
  lastError: string | null;
  lastReplyAgeS: number | null;
  polls: number; failures: number;
  /** Times ptp4l answered again after not answering (restarted, or back). */
  reconnects: number;
  /** partners.ptp4l.expected_port_state. */
  expectedPortState: string;
  /** The first port's state; null while unreachable. */
  portState: PartnerPtp4lPort['portState'] | null;
  /** Derived once: every port is in the expected state (for SLAVE: one port is). False while unreachable. */
  inExpectedState: boolean;
  ports: PartnerPtp4lPort[];
  /** DEFAULT_DATA_SET: ptp4l's own clock. */
  clockIdentity: string | null; numberPorts: number | null; domainNumber: number | null; slaveOnly: boolean | null; clockClass: number | null;
  /** PARENT_DATA_SET: the grandmaster and its quality; isGrandmaster: ptp4l's clock is its own grandmaster. */
  grandmasterIdentity: string | null; isGrandmaster: boolean | null; parentPortIdentity: string | null;
  gmClockClass: number | null; gmClockAccuracy: number | null; gmOffsetScaledLogVariance: number | null; gmPriority1: number | null; gmPriority2: number | null;
  /** CURRENT_DATA_SET (ns; offsetFromMaster is the local clock minus the master's). */
  stepsRemoved: number | null; offsetFromMasterNs: number | null; meanPathDelayNs: number | null;
  /** TIME_PROPERTIES_DATA_SET. */
  currentUtcOffset: number | null; currentUtcOffsetValid: boolean | null; leap61: boolean | null; leap59: boolean | null;
  ptpTimescale: boolean | null; timeTraceable: boolean | null; frequencyTraceable: boolean | null;
  timeSource: number | null; timeSourceName: string | null;
  /** TIME_STATUS_NP (linuxptp's): the servo's last offset (ns), the receive time of its Sync (ns since the epoch, as a decimal
   * string), whether a grandmaster is present, its identity, the rate ratio minus one. */
  masterOffsetNs: number | null; ingressTimeNs: string | null; gmPresent: boolean | null; timeStatusGmIdentity: string | null;
  cumulativeScaledRateOffset: number | null;
  /** Why there is no TIME_STATUS_NP. */
  timeStatusProblem: string | null;
  /** phc2sys beside it, from /proc (it answers no management requests of its own): whether it runs,
   * and from its command line which clocks it synchronises. Looked at every 10 s (or poll_s if longer). */
  phc2sys: Phc2sysStatus;
}

/** A PPS or TOFF report of gpsd's: `real` is the true second (the pulse's, or the serial sentence's
 * label), `clock` the system clock when gpsd saw it; offsetNs = clock - real (for PPS: the system clock's
 * offset at the pulse as gpsd sees it; for TOFF: the serial time's latency). */
export interface GpsdTimeReport {
  device: string | null; real: string; clock: string; offsetNs: number;
  /** gpsd's precision (log2 s), when it says. */
  precision: number | null;
  /** Seconds since the agent received it; reports received since start. */
  ageS: number; count: number;
}

/** A device of gpsd's (DEVICES / DEVICE). */
export interface GpsdDeviceStatus {
  path: string; driver: string | null; subtype: string | null; activated: string | null;
  bps: number | null; parity: string | null; stopbits: number | null; cycleS: number | null;
}

export interface GpsdStatus {
  /** The gpsd part runs (receiver.source or pps.source is gpsd). */
  enabled: boolean;
  /** gpsd's address (host:port). */
  where: string | null;
  connected: boolean;
  /** VERSION: gpsd's release and protocol version (major.minor). */
  release: string | null; protocol: string | null;
  devices: GpsdDeviceStatus[];
  pps: GpsdTimeReport | null;
  toff: GpsdTimeReport | null;
  /** ERROR reports gpsd sent, and the last one's message. */
  errors: number; lastError: string | null;
}

export const GPSD_DISABLED: GpsdStatus = {
  enabled: false, where: null, connected: false, release: null, protocol: null, devices: [], pps: null, toff: null, errors: 0, lastError: null,
};

export interface PartnersStatus {
  chrony: PartnerChronyStatus;
  ptp4l: PartnerPtp4lStatus;
}

export const PARTNER_PTP4L_DISABLED: PartnerPtp4lStatus = {
  enabled: false, socket: null, localSocket: null, problem: null, reachable: false, lastError: null, lastReplyAgeS: null, polls: 0, failures: 0,
  reconnects: 0, expectedPortState: 'MASTER', portState: null, inExpectedState: false, ports: [], clockIdentity: null, numberPorts: null,
  domainNumber: null, slaveOnly: null, clockClass: null, grandmasterIdentity: null, isGrandmaster: null, parentPortIdentity: null,
  gmClockClass: null, gmClockAccuracy: null, gmOffsetScaledLogVariance: null, gmPriority1: null, gmPriority2: null, stepsRemoved: null,
  offsetFromMasterNs: null, meanPathDelayNs: null, currentUtcOffset: null, currentUtcOffsetValid: null, leap61: null, leap59: null,
  ptpTimescale: null, timeTraceable: null, frequencyTraceable: null, timeSource: null, timeSourceName: null, masterOffsetNs: null,
  ingressTimeNs: null, gmPresent: null, timeStatusGmIdentity: null, cumulativeScaledRateOffset: null, timeStatusProblem: null,
  phc2sys: { running: false, processes: [], followsWatchedPtp4l: false },
};

export const PARTNER_CHRONY_DISABLED: PartnerChronyStatus = {
  enabled: false, transport: null, notice: null, reachable: false, lastError: null, lastReplyAgeS: null, polls: 0, failures: 0, reconnects: 0,
  referenceId: null, reference: null, stratum: null, refTimeUnixS: null, systemOffsetNs: null, lastOffsetNs: null, rmsOffsetNs: null,
  frequencyPpm: null, residualFreqPpm: null, skewPpm: null, rootDelayS: null, rootDispersionS: null, updateIntervalS: null, leapStatus: null,
  synchronised: false, sources: [], serverStats: null, serverStatsProblem: null,
};

export const CHRONY_SOCK_DISABLED: ChronySockStatus = {
  enabled: false, path: '', problem: null, connected: false, samplesSent: 0, sendErrors: 0, samplesSkipped: 0, reconnects: 0,
  lastError: null, lastOffsetNs: null, lastEdgeSystemTime: null, lastSentAgeS: null, timevalBits: 0,
};

export interface HostStatus {
  /** CPU temperature (degrees C) from agent.cpu_temperature_file, read once a second; null where there is none. */
  cpuTemperatureC: number | null;
  /** The board's serial number and model (a Pi's device tree), null where the machine does not say. */
  serialNumber: string | null; model: string | null;
  /** The time daemons running on this machine and whether each steers CLOCK_REALTIME (from /proc,
   * every 10 s), and one line saying who owns the system clock. */
  clockDaemons: { name: string; pid: number; steers: boolean; note: string }[];
  clockOwner: string;
}

export interface UpstreamServerStatus {
  name: string;
  /** majority: agrees with the majority; falseticker: answers but outside it; candidate: answers, no
   * majority to judge it by; unfit: answers but may not vote (says it is unsynchronized, or its root
   * distance is over 1 s); unreachable; refused (kiss o' death DENY or RSTR); polling: no answer yet. */
  state: 'majority' | 'falseticker' | 'candidate' | 'unfit' | 'unreachable' | 'refused' | 'polling';
  /** The 8-bit reach register (as chronyc shows it in octal: 377 is eight answers of eight). */
  reach: number;
  pollS: number;
  stratum: number | null;
  refId: string | null;
  /** Server - served clock, the round trip, the filter's jitter and the root distance (the interval's
   * half-width), seconds. */
  offsetS: number | null;
  delayS: number | null;
  jitterS: number | null;
  rootDistanceS: number | null;
  lastSampleAgeS: number | null;
  sent: number;
  received: number;
}

export interface IntegrityCheckStatus {
  name: IntegrityCheck;
  /** Configured on (a threshold of 0 turns a check off; upstream needs integrity.ntp_servers). */
  enabled: boolean;
  /** Has what it needs to judge (a learned baseline, a leap table, a majority). */
  armed: boolean;
  failing: boolean;
  /** When it began failing (Unix seconds), and how many times it has failed since start. */
  sinceUnixS: number | null;
  failures: number;
  /** Its figure now and the threshold it is judged by, in `units`. */
  value: number | null;
  threshold: number;
  units: string;
  detail: string;
}

export interface IntegrityStatus {
  acceptJump: 'never' | 'after' | 'with_upstream';
  upstream: {
    configured: number;
    /** How many must agree for a majority. */
    required: number;
    /** The interval the agreeing servers share (server - served clock, s), their combined offset, and who. */
    majority: { lowS: number; highS: number; offsetS: number; members: string[] } | null;
    /** The receiver's last label minus the majority (s); null without a majority or a label. */
    receiverMinusMajorityS: number | null;
    falsetickers: string[];
    servers: UpstreamServerStatus[];
  };
  /** One entry per check, in INTEGRITY_CHECKS order (the MIB's integrity table rows). */
  checks: IntegrityCheckStatus[];
  /** The antenna's learned position and the current fix's distance from it (m). */
  position: { latitudeDeg: number; longitudeDeg: number; altitudeM: number; samples: number; distanceM: number | null } | null;
  cn0MeanDbHz: number | null;
  cn0BaselineDbHz: number | null;
  satellitesBaseline: number | null;
  /** The receiver's label minus what the PPS count since the last good label predicts (s). */
  labelPpsOffsetS: number | null;
  /** Any check failing now. */
  failing: boolean;
}

export interface StoreStatus {
  enabled: boolean; path: string | null; open: boolean; healthy: boolean; lastError: string | null; lastErrorAt: string | null;
  lastFlushAt: string | null; flushes: number; samplesWritten: number; eventsWritten: number; pending: number; dropped: number;
  writeFailures: number; consecutiveFailures: number; movedAside: string[]; sizeBytes: number | null;
  jobs: Record<string, { schedule: string; runs: number; lastRun: string | null; ok: boolean | null; detail: string; durationMs: number | null }>;
}

export interface PtpStatus {
  enabled: boolean; interface: string | null; address: string | null; clockIdentity: string | null; domain: number | null;
  portState: 'MASTER' | 'DISABLED'; clockClass: number | null; clockAccuracy: number | null; offsetScaledLogVariance: number | null;
  currentUtcOffset: number | null; utcOffsetValid: boolean; timeTraceable: boolean; frequencyTraceable: boolean; timeSource: number | null;
  sent: Record<string, number>; received: Record<string, number>; malformed: Record<string, number>; otherDomain: number;
  managementDropped: number;
  /** Delay_Req left unanswered by the rate limits; Announces of new foreign masters while the table was
   * full (ptp.max_foreign_masters); Announces naming our own clock as grandmaster. */
  delayReqDropped: number; foreignDropped: number; ownGrandmaster: number;
  sendErrors: number; txStampSpreadNs: { mean: number | null; max: number | null };
  rxTimestamps: 'kernel' | 'event loop' | null;
  /** Syncs the kernel gave no transmit timestamp for (sent without a Follow_Up). */
  syncsUnstamped: number;
  foreignMasters: { identity: string; domain: number; priority1: number; clockClass: number; better: boolean; announces: number }[];
}

export const PTP_DISABLED: PtpStatus = {
  enabled: false, interface: null, address: null, clockIdentity: null, domain: null, portState: 'DISABLED', clockClass: null, clockAccuracy: null,
  offsetScaledLogVariance: null, currentUtcOffset: null, utcOffsetValid: false, timeTraceable: false, frequencyTraceable: false, timeSource: null,
  sent: {}, received: {}, malformed: {}, otherDomain: 0, managementDropped: 0, delayReqDropped: 0, foreignDropped: 0, ownGrandmaster: 0, sendErrors: 0, txStampSpreadNs: { mean: null, max: null }, rxTimestamps: null, syncsUnstamped: 0, foreignMasters: [],
};

export const INTEGRITY_NONE: IntegrityStatus = {
  acceptJump: 'never', upstream: { configured: 0, required: 1, majority: null, receiverMinusMajorityS: null, falsetickers: [], servers: [] },
  checks: [], position: null, cn0MeanDbHz: null, cn0BaselineDbHz: null, satellitesBaseline: null, labelPpsOffsetS: null, failing: false,
};

export const INFLUX_DISABLED: InfluxStats = {
  enabled: false, url: null, connected: false, written: 0, batches: 0, failures: 0, rejected: 0, queued: 0, dropped: 0,
  lastDropAt: null, droppingRecently: false, lastError: null, lastWriteAt: null,
};

export const STORE_DISABLED: StoreStatus = {
  enabled: false, path: null, open: false, healthy: true, lastError: null, lastErrorAt: null, lastFlushAt: null, flushes: 0,
  samplesWritten: 0, eventsWritten: 0, pending: 0, dropped: 0, writeFailures: 0, consecutiveFailures: 0, movedAside: [], sizeBytes: null, jobs: {},
};

export interface SnmpSnapshot {
  agentxConnected: boolean; agentxSessions: number; requests: number; droppedSource: number; droppedSize: number;
  droppedMalformed: number; badCommunity: number; guessingRefused: number;
  rateLimited: number; unknownEngineId: number; notInTimeWindow: number; repliesCapped: number; reportsCapped: number; errors: number;
  trapsSent: number; trapsAcknowledged: number; trapsFailed: number; trapsByName: Record<string, number>;
}

const MODE_NAMES = ['unknown', 'no fix', '2D', '3D'] as const;
const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const age = (now: Nanos, t: Nanos | undefined) => (t === undefined ? null : Number(now - t) / 1e9);

export function eventToJson(e: AgentEvent): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) o[k] = typeof v === 'bigint' ? toIso(v, 6) : v;
  return o;
}

/** Unix seconds from a Nanos timestamp: exact to the microsecond, enough for any consumer. */
const unixS = (t: Nanos) => Number(t / 1000n) / 1e6;

/** The fix mode every surface publishes: what the receiver last said while its fix is confirmed; "no
 * fix" once it is not (a receiver that stops confirming keeps its last GSA mode); unknown only while
 * the receiver has said nothing. */
function effectiveFixMode(fix: boolean, mode: number): 0 | 1 | 2 | 3 {
  if (fix && (mode === 2 || mode === 3)) return mode;
  return mode === 0 ? 0 : 1;
}

const r3 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : Math.round(v * 1000) / 1000);

/** What Status is built from: the timing path's snapshots, the agent's identity, the bus, and the
 * sections the parts publish (a section that is missing: its part does not run). */
export interface StatusInputs {
  agent: AgentInfo;
  gnss: GnssSnapshot;
  pps: PpsSnapshot;
  discipline: DisciplineSnapshot;
  events: { counts: Record<string, number>; recent: readonly AgentEvent[] };
  ntp?: NtpSnapshot;
  snmp?: SnmpSnapshot;
  store?: StoreStatus;
  influx?: InfluxStats;
  ptp?: PtpStatus;
  alarms?: readonly AlarmInput[];
  host?: HostStatus;
  integrity?: IntegrityStatus;
  chronySock?: ChronySockStatus;
  /** Each partner part publishes its own member. */
  partners?: Partial<PartnersStatus>;
  gpsd?: GpsdStatus;
  /** The system actuator's snapshot, when discipline.actuator is system. */
  actuator?: ActuatorSnapshot;
}

/** The sections parts publish. */
export type PartSections = Required<Pick<StatusInputs, 'ntp' | 'snmp' | 'store' | 'influx' | 'ptp' | 'alarms' | 'host' | 'integrity' | 'chronySock' | 'partners' | 'gpsd'>>;

export function buildStatus(now: Nanos, i: StatusInputs): Status {
  const { agent, gnss, pps, discipline: d, ntp, snmp, events } = i;
  const store = i.store ?? STORE_DISABLED;
  const influx = i.influx ?? INFLUX_DISABLED;
  const ptp = i.ptp ?? PTP_DISABLED;
  const alarms = i.alarms ?? [];
  const st = gnss.state;
  const nowS = unixS(now);
  return {
    time: toIso(now, 6),
    timeUnixS: nowS,
    agent: {
      name: agent.name, version: agent.version, pid: agent.pid, startedAt: toIso(agent.startedAt, 3), startedAtUnixS: unixS(agent.startedAt),
      uptimeS: Number(now - agent.startedAt) / 1e9, simulated: agent.simulated, listening: agent.listening,
    },
    receiver: {
      source: agent.receiverSource, device: agent.receiverDevice, connected: gnss.connected, silent: gnss.silent,
      lastDataAgeS: n(gnss.lastDataAgeS), outages: gnss.link.outages, bytes: gnss.link.bytes, lines: gnss.link.lines,
      sentences: gnss.link.sentences, rejected: { ...gnss.link.rejected } as Record<string, number>,
      junkBytes: gnss.link.junkBytes, version: n(st.receiverVersion),
    },
    gnss: {
      fix: gnss.fix, mode: st.mode, modeName: MODE_NAMES[st.mode] ?? 'unknown', fixMode: effectiveFixMode(gnss.fix, st.mode), quality: n(st.quality),
      fixAgeS: n(gnss.fixAgeS), utc: st.utc === undefined ? null : toIsoLabel(st.utc, st.utcLeapSecond, 3), utcAgeS: n(gnss.utcAgeS),
      // Position only with a current fix: a stale position is not reported as current.
      latitudeDeg: gnss.fix ? n(st.lat) : null, longitudeDeg: gnss.fix ? n(st.lon) : null,
      altitudeMslM: gnss.fix && st.mode === 3 ? n(st.altMsl) : null,
      pdop: n(st.pdop), hdop: n(st.hdop), vdop: n(st.vdop),
      satellitesInView: st.satellitesInView, satellitesUsed: st.satellitesUsed,
      byConstellation: { ...st.byConstellation } as Record<string, { inView: number; used: number }>,
      satellites: st.satellites.map((s) => ({
        constellation: s.constellation, prn: s.prn, elevationDeg: n(s.elevation), azimuthDeg: n(s.azimuth),
        snrDbHz: n(s.snr), used: s.used,
      })),
      antenna: st.antenna, antennaFault: gnss.antennaFault, antennaAgeS: age(now, st.lastAntennaAt),
      rejectedDates: st.counters.rejectedDates, lastRejectedDate: n(st.lastRejectedDate),
      timeJumpAgeS: n(gnss.timeJumpAgeS),
    },
    pps: {
      source: agent.ppsSource, device: agent.ppsDevice, present: pps.present, pulses: pps.pulses,
      accepted: pps.accepted, missed: pps.missed, extra: pps.extra, outOfWindow: pps.outOfWindow,
      outages: pps.outages, lastEdge: pps.lastEdge === undefined ? null : toIso(pps.lastEdge, 9),
      lastEdgeAgeS: n(pps.lastEdgeAgeS), lastIntervalS: n(pps.lastIntervalS),
      jitterNs: pps.jitterNs === undefined ? null : Math.round(pps.jitterNs),
    },
    discipline: {
      state: d.state, stateCode: STATE_CODES[d.state], stateSince: toIso(d.stateSince, 3), everLocked: d.everLocked,
      synchronized: d.synchronized, servo: d.servo,
      // A sample more than 2 s old is no longer the served clock's offset: about one missed pulse.
      offsetNs: d.lastSampleAgeS !== undefined && d.lastSampleAgeS <= 2 ? r3(d.lastInnovationNs) : null,
      localOffsetNs: r3(d.offsetNs), frequencyPpb: r3(d.freqPpb), frequencySigmaPpb: r3(d.freqSigmaPpb),
      correctionNs: Math.round(d.correctionNs),
      actuator: i.actuator ? 'system' : 'none', servedClock: i.actuator ? 'kernel' : 'disciplined', kernel: i.actuator ?? null,
      timeErrorEstimateNs: r3(d.timeErrorEstimateNs), sigmaNs: r3(d.sigmaNs),
      holdoverElapsedS: r3(d.holdoverElapsedS), lastSampleAgeS: r3(d.lastSampleAgeS),
      lastSampleAtUnixS: d.lastUpdate === undefined ? null : unixS(d.lastUpdate), lastInnovationNs: r3(d.lastInnovationNs),
      rmsOffsetNs: r3(d.rmsOffsetNs),
      samplesAccepted: d.samples.accepted, samplesRejected: d.samples.rejected, steps: d.samples.steps,
      timeJumpRefused: d.jump !== undefined, timeJumpS: d.jump ? d.jump.jumpNs / 1e9 : null,
      timeJumpSinceUnixS: d.jump ? unixS(d.jump.since) : null, samplesRefused: d.samplesRefused,
      pairsTrusted: d.pairing.trusted, pairs: d.pairing.paired, labelsRejected: { ...d.pairing.rejected } as Record<string, number>,
      nmeaDelayMs: d.pairing.nmeaDelayS === undefined ? null : Math.round(d.pairing.nmeaDelayS * 1e4) / 10,
      stratum: d.stratum, leapIndicator: d.leapIndicator, refId: d.refId, rootDispersionS: d.rootDispersionS,
      ptpClockClass: d.clockClass, ptpClockAccuracy: d.clockAccuracy, clockAccuracyNs: r3(d.clockAccuracyNs),
      taiUtcS: n(d.taiUtcS), leapTableExpired: n(d.leapTableExpired),
      nextLeap: d.nextLeap ? toIso(d.nextLeap.at) : null, nextLeapAtUnixS: d.nextLeap ? unixS(d.nextLeap.at) : null, nextLeapDelta: d.nextLeap ? d.nextLeap.delta : null,
    },
    ntp: ntp ? {
      enabled: true, received: ntp.counters.received, replied: ntp.counters.replied, kissOfDeath: ntp.counters.kod,
      dropped: { ...ntp.counters.dropped }, malformed: { ...ntp.counters.malformed }, byVersionMode: { ...ntp.counters.byVersionMode },
      requestsPerSecond: Math.round(ntp.requestsPerSecond * 10) / 10, distinctClients: ntp.distinctClients,
      precisionLog2: ntp.precisionLog2, sendErrors: ntp.sendErrors, rxTimestamps: ntp.rxTimestamps,
      nts: ntp.nts ? {
        enabled: true, ...ntp.nts.counters, keFailures: { ...ntp.nts.counters.keFailures }, failures: { ...ntp.nts.counters.failures },
        cookieKeyAgeS: Number.isFinite(ntp.nts.cookieKeyAgeS) ? Math.round(ntp.nts.cookieKeyAgeS) : null, cookieKeys: ntp.nts.cookieKeys,
        certificate: ntp.nts.certificate ? { ...ntp.nts.certificate } : null,
      } : NTS_OFF(),
    } : {
      enabled: false, received: 0, replied: 0, kissOfDeath: 0, dropped: {}, malformed: {}, byVersionMode: {},
      requestsPerSecond: 0, distinctClients: 0, precisionLog2: null, sendErrors: 0, rxTimestamps: null, nts: NTS_OFF(),
    },
    snmp: snmp ? { enabled: true, ...snmp, trapsByName: { ...snmp.trapsByName } } : {
      enabled: false, agentxConnected: false, agentxSessions: 0, requests: 0, droppedSource: 0, droppedSize: 0, droppedMalformed: 0, badCommunity: 0, guessingRefused: 0, rateLimited: 0, unknownEngineId: 0, notInTimeWindow: 0, repliesCapped: 0, reportsCapped: 0, errors: 0, trapsSent: 0, trapsAcknowledged: 0, trapsFailed: 0, trapsByName: {},
    },
    host: i.host ? { ...i.host, clockDaemons: i.host.clockDaemons.map((d) => ({ ...d })) } : { cpuTemperatureC: null, serialNumber: null, model: null, clockDaemons: [], clockOwner: 'not looked at' },
    chronySock: i.chronySock ? { ...i.chronySock } : { ...CHRONY_SOCK_DISABLED },
    partners: {
      chrony: i.partners?.chrony ? { ...i.partners.chrony, sources: i.partners.chrony.sources.map((s) => ({ ...s })) } : { ...PARTNER_CHRONY_DISABLED, sources: [] },
      ptp4l: i.partners?.ptp4l ? {
        ...i.partners.ptp4l, ports: i.partners.ptp4l.ports.map((p) => ({ ...p })),
        phc2sys: { ...i.partners.ptp4l.phc2sys, processes: i.partners.ptp4l.phc2sys.processes.map((p) => ({ ...p, sources: [...p.sources] })) },
      } : { ...PARTNER_PTP4L_DISABLED, ports: [], phc2sys: { running: false, processes: [], followsWatchedPtp4l: false } },
    },
    gpsd: i.gpsd ? {
      ...i.gpsd, devices: i.gpsd.devices.map((x) => ({ ...x })), pps: i.gpsd.pps && { ...i.gpsd.pps }, toff: i.gpsd.toff && { ...i.gpsd.toff },
    } : { ...GPSD_DISABLED, devices: [] },
    store,
    influx,
    integrity: i.integrity ?? INTEGRITY_NONE,
    ptp: { ...ptp, betterMaster: ptp.enabled && ptp.foreignMasters.some((m) => m.better) },
    alarms: alarms.map((a) => ({
      ...a, raisedAt: a.raisedAt === null ? null : toIso(a.raisedAt, 3),
      raisedAgeS: a.raisedAt === null ? null : Math.max(0, Math.round(Number(now - a.raisedAt) / 1e6) / 1000),
    })),
    events: { counts: { ...events.counts } as Record<string, number>, recent: events.recent.slice(-20).map(eventToJson) },
  };
}
