/**
 * The agent's configuration: one YAML file, every option documented here with its default. A bad
 * file is refused before anything starts, with the key path, what was expected and what was found.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import { parseDocument, visit, isCollection, isNode } from 'yaml';
import { isIP } from 'node:net';
import { parseCidr } from '../ntp/acl.ts';
import { DEFAULT_RULES } from '../alarms/rules.ts';
import { parseCron } from '../store/schedule.ts';

const alarmRules = Object.fromEntries(DEFAULT_RULES.map((r) => [r.name, section(`${r.description} (${r.comparison} the threshold, in ${r.units})`, {
  enabled: bool('Evaluate this rule.', true),
  ...(r.warning !== null ? { warning: num('Warning threshold.', r.warning) } : {}),
  ...(r.critical !== null ? { critical: num('Critical threshold.', r.critical) } : {}),
  hysteresis: num('A raised alarm clears only once the value is this far back past its threshold.', r.hysteresis, { min: 0 }),
  raise_after_s: num('Seconds the condition must hold before the alarm is raised.', r.raiseAfterS, { min: 0 }),
  clear_after_s: num('Seconds the condition must be gone before the alarm clears.', r.clearAfterS, { min: 0 }),
})]));

/** A list item's problem, from a parser that throws: its message, or undefined when it parses. */
const problemOf = (parse: (s: string) => unknown) => (s: string): string | undefined => {
  try {
    parse(s);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};
const cidrProblem = problemOf(parseCidr);
import { section, num, int, bool, str, oneOf, list, strList, secretPaths, type ValueOf, type Issue, type Section, type Node } from './schema.ts';

/** A URL the WHATWG parser (what fetch and the influx client use) accepts. */
const validUrl = (u: string) => {
  try {
    new URL(u);
    return true;
  } catch {
    return false;
  }
};
/** The user information of a URL (scheme://user:password@host), whether it parses or not. */
const URL_CREDENTIALS = /^([^:/?#]*:\/\/)([^/?#]*)@/;
/** A URL as an error may show it: any credentials in it replaced. */
const urlWithoutCredentials = (u: string) => u.replace(URL_CREDENTIALS, '$1(credentials not shown)@');

/** An upstream server: host, host:port, [v6] or [v6]:port. */
export function parseUpstream(s: string): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s) ?? /^([^:\s[\]]+)(?::(\d+))?$/.exec(s);
  if (!m) {
    if (isIP(s) === 6) return { host: s, port: 123 };
    throw new Error('not host, host:port or [IPv6]:port');
  }
  const port = m[2] === undefined ? 123 : Number(m[2]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`port ${m[2]} is out of range`);
  return { host: m[1]!, port };
}
const upstreamProblem = problemOf(parseUpstream);

const hostPort = (doc: string, address: string, port: number) => section(doc, {
  address: str('Address to listen on. 127.0.0.1 or ::1 keeps it on this machine.', address, { what: 'an IP address', valid: (a) => isIP(a) !== 0 }),
  port: int('Port to listen on (0 picks a free one).', port, { min: 0, max: 65535 }),
});

const fault = section('A scripted fault.', {
  at_s: num('Seconds after the simulator starts.', 0, { min: 0 }),
  kind: oneOf('What happens.', 'antenna_unplugged', [
    'antenna_unplugged', 'antenna_short', 'pps_lost', 'satellites_drop', 'time_jump', 'garbage', 'silence',
    'position_walk', 'jamming', 'pps_offset', 'upstream_down', 'upstream_offset',
  ] as const),
  duration_s: num('How long it lasts (0 for a one-off such as a time jump).', 60, { min: 0 }),
  value: num('Fault parameter: satellites left for satellites_drop (under 1: that share of those tracked), seconds for time_jump, bytes per second for garbage, metres per second for position_walk (a spoofer walking the position off), decibels of C/N0 lost on every satellite for jamming, milliseconds the receiver\'s time runs ahead for pps_offset (a subtle spoof: the pulses move, the labels do not), seconds added to every simulated NTP server for upstream_offset (upstream_down: they answer nothing).', 0),
});

export const configSchema = section('stratum1-agent configuration.', {
  agent: section('The agent itself.', {
    name: str('A name for this time server, used in logs and status.', 'stratum1'),
    state_dir: str('Directory for state that outlives a restart (relative paths are from the working directory).', './var'),
    cpu_temperature_file: str('Where the CPU temperature is read (millidegrees C; a Pi: thermal_zone0). Missing: no temperature alarm.', '/sys/class/thermal/thermal_zone0/temp'),
  }),
  receiver: section('The GNSS receiver that labels each second.', {
    source: oneOf('Where NMEA comes from: a serial port, a gpsd daemon, or the built-in simulator.', 'serial', ['serial', 'gpsd', 'simulator'] as const),
    min_valid_date: str('Dates before this (YYYY-MM-DD) are refused as impossible (GPS week-number rollover).', '2026-01-01', { pattern: /^\d{4}-\d\d-\d\d$/, what: 'a date YYYY-MM-DD' }),
    fix_lost_after_s: num('A fix not confirmed for this long counts as lost.', 3, { min: 1, max: 60 }),
    external_antenna: bool('An external active antenna is fitted: the receiver falling back to its internal patch (PGTOP status 2) is an antenna fault.', true),
    serial: section('Serial port receiver (an MTK3339 on the Pi UART by default).', {
      device: str('Serial device.', '/dev/serial0'),
      baud: int('Baud rate (8N1).', 9600, { min: 1200, max: 921600 }),
      configure_mtk: bool('Send MediaTek PMTK commands at open: sentence set, 1 Hz, antenna status reports.', true),
      silence_after_s: num('No bytes for this long is reported as receiver silence.', 3, { min: 0.5, max: 600 }),
      reopen_min_ms: int('First reopen delay after the device fails or disappears.', 500, { min: 10 }),
      reopen_max_ms: int('Longest reopen delay (the delay doubles up to this).', 30000, { min: 10 }),
    }),
    gpsd: section('gpsd as the source of receiver data and PPS.', {
      host: str('gpsd host.', '127.0.0.1'),
      port: int('gpsd port.', 2947, { min: 1, max: 65535 }),
      device: str('Watch only this device (empty: all).', ''),
      reconnect_max_ms: int('Longest reconnect delay.', 30000, { min: 10 }),
    }),
  }),
  pps: section('The pulse-per-second input.', {
    source: oneOf('Where PPS edges come from.', 'kernel', ['kernel', 'gpsd', 'simulator', 'none'] as const),
    device: str('Kernel PPS device name (its sysfs directory is /sys/class/pps/NAME).', 'pps0'),
    sysfs_root: str('Root of the PPS class in sysfs (changed only for tests).', '/sys/class/pps'),
    poll_ms: int('How often the kernel PPS assert file is read.', 100, { min: 5, max: 1000 }),
    use_clear_edge: bool('Also read the clear (falling) edge.', false),
    min_interval_s: num('Shortest plausible interval between pulses.', 0.9, { min: 0.1, max: 1 }),
    max_interval_s: num('Longest plausible interval between pulses.', 1.1, { min: 1, max: 2 }),
    lost_after_s: num('No pulse for this long counts as PPS lost (must stay under 2 s).', 1.5, { min: 1.05, max: 10 }),
  }),
  discipline: section('The clock discipline: pairing PPS with UTC, the servo, states and quality.', {
    servo: oneOf('The servo: a Kalman filter on phase and frequency (honest error estimate), or linuxptp-style PI.', 'kalman', ['kalman', 'pi'] as const),
    nmea_delay_s: num('Expected delay from a PPS edge to the first sentence labelling it (MTK3339: about 0.5 s).', 0.5, { min: 0, max: 0.95 }),
    window_s: num('Half-width of the window around that delay in which a label pairs with an edge.', 0.35, { min: 0.05, max: 0.45 }),
    trust_after: int('Consecutive good, agreeing labels before the receiver\'s time is trusted.', 3, { min: 1, max: 60 }),
    wander_ppb_per_sqrt_s: num('Random-walk frequency wander of the local oscillator (ppb per root second) assumed by the servo; a Pi crystal in a room: about 2.', 2, { min: 0.001, max: 1000 }),
    pps_jitter_ns: num('PPS timestamp noise assumed until the pulse monitor has measured it (and the floor under the measurement is 100 ns).', 2000, { min: 10 }),
    lock_min_samples: int('Accepted samples in a row before LOCKED.', 8, { min: 1, max: 3600 }),
    lock_error_ns: num('Time error estimate under which the clock counts as LOCKED.', 10000, { min: 10 }),
    lock_freq_sigma_ppb: num('LOCKED also needs the frequency known this well (one sigma): what holdover lives on.', 50, { min: 0.1 }),
    holdover_after_s: num('No accepted sample for this long: LOCKED becomes HOLDOVER (4 s rides out a single bad second, which can cost up to three samples).', 4, { min: 1.5, max: 60 }),
    relock_after: int('Accepted samples in a row to leave HOLDOVER.', 5, { min: 1, max: 3600 }),
    reacquire_after: int('Outliers in a row after which the reference is believed and the clock steps to it (a receiver wrong for a while must not drag the clock).', 300, { min: 5, max: 86_400 }),
    holdover_budget_us: num('HOLDOVER becomes FREERUN when the time error estimate passes this.', 100, { min: 1 }),
    out_of_budget_clock_class: int('PTP clockClass once the holdover budget is spent: 52 or 187.', 52, { min: 52, max: 187 }),
    timestamping_error_us: num('Error of how time is stamped and served, added to the clock\'s own for the accuracy claimed (software timestamps: tens of microseconds).', 25, { min: 0 }),
    error_k: num('Coverage factor of the time error estimate (2.576 sigma: 99 %).', 2.576, { min: 1, max: 6 }),
    leap_seconds_file: str('The IERS leap-seconds.list (tzdata installs it). Empty: no leap second support.', '/usr/share/zoneinfo/leap-seconds.list'),
    drift_file: str('Where the learned frequency is kept across restarts (relative to agent.state_dir).', 'frequency.json'),
    save_every_s: int('How often the learned frequency is saved while LOCKED.', 600, { min: 10 }),
    actuator: oneOf('What steers the system clock. none: the kernel clock is left to its owner (chronyd, which export.chrony_sock can feed), and NTP and PTP serve the disciplined clock; system: the agent is the box\'s time daemon and steers the kernel clock itself through clock_adjtime (needs CAP_SYS_TIME, refuses to start beside another time daemon; with the simulator, a model of the kernel clock is steered, never the host\'s). docs/DEPLOYMENT.md.', 'none', ['none', 'system'] as const),
    step_threshold_ms: num('With actuator system: an error of the system clock larger than this is stepped rather than slewed (at most 500 ppm), within the first step_limit samples, as chronyd\'s makestep.', 128, { min: 0.001, max: 1e6 }),
    step_limit: int('With actuator system: how many accepted samples after the start a step is allowed for (-1: at any time).', 3, { min: -1, max: 1_000_000 }),
  }),
  integrity: section('Time integrity: when the served clock believes the receiver. While LOCKED or in HOLDOVER, a second label that disagrees with the served clock by more than the time error estimate (and jump_threshold_ms) is a jump: refused (an event, the time_jump alarm, a notification) while the clock holds over, not believed just because it repeats.', {
    jump_threshold_ms: num('The smallest disagreement that counts as a jump, whatever the error estimate (labels are whole seconds: a wrong one is off by at least one).', 1, { min: 0.01, max: 1000 }),
    accept_jump: oneOf('never: a jump is believed only once the holdover budget is spent (FREERUN, stratum 16) and the receiver still says it; after: a jump that persists accept_after_s (and that no upstream majority contradicts) is believed and the clock steps to it; with_upstream: a jump is believed as soon as the majority of integrity.ntp_servers agrees with the receiver\'s new time (never without them).', 'never', ['never', 'after', 'with_upstream'] as const),
    accept_after_s: int('With accept_jump: after, how long a jump must persist before the clock steps to it.', 600, { min: 1 }),
    ntp_servers: strList('Upstream NTP servers the receiver is cross-checked against (host, host:port or [IPv6]:port; other stratum1-agent boxes make a fleet that checks itself). More than half of them must agree for a majority; the receiver outside the majority\'s interval is a falseticker and is refused. Empty: no cross-check.', [], 'NTP servers', upstreamProblem),
    min_poll_s: int('Shortest poll interval of the upstream servers (a power of two).', 64, { min: 16, max: 1024 }),
    max_poll_s: int('Longest poll interval of the upstream servers (a power of two).', 1024, { min: 16, max: 65536 }),
    iburst: bool('Send four requests two seconds apart when starting, so a majority is known within seconds.', true),
    upstream_threshold_ms: num('Margin beyond the upstream majority\'s interval before the receiver counts as a falseticker.', 50, { min: 0.01, max: 60000 }),
    position_fence_m: num('The reported position leaving a circle of this radius around its long-run average (the antenna does not move) fails the position check: spoofing. 0: off.', 100, { min: 0 }),
    position_learn_s: num('Seconds of 3D fixes averaged before the position fence is armed.', 600, { min: 10 }),
    cn0_drop_db: num('The mean C/N0 of the satellites tracked this many dB under its long-run baseline fails the jamming check. 0: off.', 10, { min: 0, max: 60 }),
    satellites_drop_ratio: num('Satellites used falling to this fraction of their recent level or below fails the satellites check (a sudden drop, not satellites setting). 0: off.', 0.5, { min: 0, max: 0.95 }),
    pps_count_after: int('Labels in a row that disagree with the count of PPS pulses since the last good one before the pps_count check fails.', 3, { min: 1, max: 60 }),
  }),
  ntp: section('The NTP server (RFC 5905, server mode only).', {
    enabled: bool('Serve NTP.', true),
    addresses: strList('Addresses to listen on (IPv4 and IPv6; 0.0.0.0 and :: for all).', ['0.0.0.0', '::'], 'IP addresses', (a) => (isIP(a) ? undefined : 'not an IP address')),
    port: int('UDP port (123 needs CAP_NET_BIND_SERVICE, which the systemd unit grants; 0 picks a free one).', 123, { min: 0, max: 65535 }),
    recv_buffer_bytes: int('Socket receive buffer (the kernel caps it at net.core.rmem_max).', 4 * 1024 * 1024, { min: 65536 }),
    client_table_size: int('How many clients `stratum1 clients` (the control endpoint\'s /clients) keeps, with their requests over the last minute, hour and day; beyond it the client seen least recently is forgotten. 0: none.', 1000, { min: 0, max: 100_000 }),
    rate_limit: section('Per-client rate limiting (IPv6 clients by /64), with bounded memory.', {
      enabled: bool('Limit each client\'s request rate.', true),
      interval_s: num('Average interval a client may sustain, seconds.', 2, { min: 0.001, max: 3600 }),
      burst: int('Requests a client may send in a burst.', 16, { min: 1, max: 1000 }),
      slots: int('Clients remembered (memory is fixed by this, about 40 bytes each).', 65536, { min: 64, max: 4194304 }),
      kod: bool('Answer a client over its limit with a kiss-o\'-death RATE instead of silence.', false),
    }),
    allow: strList('Clients allowed (CIDR); empty: everyone not denied.', [], 'CIDR prefixes', cidrProblem),
    deny: strList('Clients denied (CIDR); deny wins over allow.', [], 'CIDR prefixes', cidrProblem),
    deny_action: oneOf('What a denied client gets.', 'drop', ['drop', 'kod'] as const),
    nts: section('Network Time Security (RFC 8915): the NTS-KE server (TLS 1.3) and authenticated NTP with cookies (docs/NTS.md).', {
      enabled: bool('Serve NTS: the key exchange on ke_port and NTS-protected requests on the NTP port.', false),
      ke_addresses: strList('Addresses the NTS-KE server listens on (TCP).', ['0.0.0.0', '::'], 'IP addresses', (a) => (isIP(a) ? undefined : 'not an IP address')),
      ke_port: int('NTS-KE TCP port (4460 is NTS-KE\'s own; 0 picks a free one).', 4460, { min: 0, max: 65535 }),
      cert: str('Certificate chain (PEM) of the NTS-KE server, reloaded when the file changes. Empty (with key empty): a self-signed certificate for "localhost", made in agent.state_dir/nts-cert.pem.', ''),
      key: str('Private key (PEM file) of the certificate, reloaded when the file changes.', ''),
      ntp_server: str('The NTP server (name or address) clients are told to use after the key exchange; empty: this one.', '', { pattern: /^[A-Za-z0-9.:-]{0,255}$/, what: 'a host name or address' }),
      key_rotation_s: int('Seconds between new cookie keys (kept in agent.state_dir/nts-keys.json, mode 0600, so cookies outlive a restart).', 86400, { min: 60, max: 31536000 }),
      key_grace_s: int('Seconds an old cookie key is still accepted after the next one replaces it.', 172800, { min: 0, max: 31536000 }),
      max_connections: int('NTS-KE connections at once; more are closed at once.', 64, { min: 1, max: 100000 }),
      timeout_s: num('Seconds an NTS-KE session (handshake, request and response) may take.', 5, { min: 0.1, max: 120 }),
    }),
  }),
  snmp: section('The SNMP agent (standalone, UDP): our MIB and the system group, read-only.', {
    enabled: bool('Run the SNMP agent.', false),
    mode: oneOf('standalone: our own UDP agent; agentx: a subagent of the system\'s snmpd (which then owns the port, the users and the system group).', 'standalone', ['standalone', 'agentx'] as const),
    agentx_master: str('AgentX master (snmpd) address, TCP.', '127.0.0.1', { what: 'an IP address', valid: (a) => isIP(a) !== 0 }),
    agentx_port: int('AgentX master port (snmpd: agentXSocket tcp:127.0.0.1:705).', 705, { min: 1, max: 65535 }),
    address: str('Address to listen on.', '0.0.0.0', { what: 'an IP address', valid: (a) => isIP(a) !== 0 }),
    port: int('UDP port (161 needs CAP_NET_BIND_SERVICE).', 161, { min: 1, max: 65535 }),
    enterprise_oid: str('Where our MIB lives. The default is Net-SNMP\'s experimental netSnmpPlaypen; use your own enterprise number.', '1.3.6.1.4.1.8072.9999.9999', { pattern: /^1\.3\.6\.1\.4\.1(\.\d+)+$/, what: 'an OID under 1.3.6.1.4.1' }),
    engine_id: str('SNMPv3 engine ID (hex). Empty: generated once and kept in agent.state_dir/snmp-engine-id, so trap receivers can bind users to it.', '', { pattern: /^([0-9a-fA-F]{10,64})?$/, what: '10 to 64 hex digits, or empty' }),
    communities: strList('v1/v2c read-only communities. Empty: v1/v2c off (SNMPv3 only). Never logged.', [], 'community strings', (c) => (c.length >= 1 ? undefined : 'empty'), { secret: true }),
    v2c_allow: strList('Networks v1/v2c requests are accepted from (CIDR).', ['127.0.0.1/32', '::1/128'], 'CIDR prefixes', cidrProblem),
    users: list('SNMPv3 users (authPriv with SHA-256 and AES unless said otherwise).', section('An SNMPv3 user.', {
      name: str('User name.', ''),
      auth: oneOf('Authentication protocol.', 'sha256', ['sha256', 'sha384', 'sha512', 'sha224', 'sha', 'md5'] as const),
      auth_key: str('Authentication passphrase (at least 8 characters). Never logged.', '', { pattern: /^.{8,}$/, what: 'at least 8 characters', secret: true }),
      priv: oneOf('Privacy protocol.', 'aes', ['aes', 'des', 'none'] as const),
      priv_key: str('Privacy passphrase (at least 8 characters). Never logged.', '', { pattern: /^.{8,}$/, what: 'at least 8 characters', secret: true }),
    })),
    trap_sinks: list('Where notifications go.', section('A trap receiver.', {
      host: str('Receiver address.', '127.0.0.1'),
      port: int('Receiver port.', 162, { min: 1, max: 65535 }),
      version: oneOf('v2c (community) or v3 (one of snmp.users, from our engine ID).', 'v3', ['v2c', 'v3'] as const),
      community: str('Community for v2c. Never logged.', '', { secret: true }),
      user: str('Name of the snmp.users entry for v3.', ''),
      inform: bool('v2c only: send informs (acknowledged and retried) instead of traps.', false),
      retries: int('Retries of an unacknowledged inform.', 3, { min: 0, max: 10 }),
      timeout_ms: int('Inform acknowledgement timeout.', 2000, { min: 100, max: 60000 }),
    })),
    heartbeat_s: int('Send s1Heartbeat this often (0: never).', 0, { min: 0, max: 86400 }),
    description: str('sysDescr (empty: the agent\'s name and version).', ''),
    contact: str('sysContact.', ''),
    location: str('sysLocation.', ''),
    max_request_bytes: int('Requests larger than this are dropped unread.', 4096, { min: 484, max: 65507 }),
    max_repetitions: int('GetBulk answers at most this many rows, whatever was asked (no amplification).', 50, { min: 1, max: 1000 }),
    requests_per_second: int('Requests one source (an address; IPv6 by /64) may send each second, in bursts of twice that (a whole walk of our MIB with snmpwalk is about 400 requests); beyond, dropped unread. 0: no limit.', 500, { min: 0, max: 1000000 }),
    max_reply_ratio: int('v1/v2c replies are at most this many times the size of their request: a GetBulk answers fewer rows, a Get or GetNext of several objects answers tooBig (one object is always answered). 0: no cap. SNMPv3 replies go only to authenticated users and are not capped.', 4, { min: 0, max: 1000 }),
    reports_per_second: int('SNMPv3 Report PDUs (engine discovery, unknown user, wrong digest, not in time window) sent each second in all: discovery is the one unauthenticated reply larger than its request.', 50, { min: 1, max: 100000 }),
  }),
  simulator: section('The built-in GPS: an oscillator, PPS edges and an MTK3339 byte stream.', {
    seed: int('Random seed: the same seed gives the same run.', 1, { min: 0 }),
    initial_offset_ms: num('Initial offset of the simulated local clock from true time.', 200),
    frequency_ppm: num('Frequency error of the simulated local oscillator.', 20, { min: -500, max: 500 }),
    wander_ppb_per_sqrt_s: num('Random-walk frequency wander (ppb per root second); 2 is about 0.1 ppm an hour, a Pi crystal in a room.', 2, { min: 0 }),
    pps_jitter_ns: num('RMS jitter of the PPS edge timestamps.', 1000, { min: 0 }),
    nmea_delay_ms: num('Delay from the PPS edge to the first sentence labelling it.', 500, { min: 0, max: 950 }),
    nmea_jitter_ms: num('Uniform spread of that delay (+/-).', 50, { min: 0, max: 400 }),
    satellites: int('Satellites in view at start.', 11, { min: 0, max: 32 }),
    latitude: num('Simulated antenna latitude.', 44.0688, { min: -90, max: 90 }),
    longitude: num('Simulated antenna longitude.', -121.3142, { min: -180, max: 180 }),
    altitude_m: num('Simulated antenna altitude (MSL).', 1127.7),
    start: str('Simulated start time, ISO 8601 UTC (empty: the host clock).', ''),
    faults: list('Faults on a schedule.', fault),
    ntp_servers: list('Simulated upstream NTP servers, answering in-process on the true clock (so the integrity cross-check runs in virtual time and in a demo); polled beside integrity.ntp_servers, named sim1, sim2, ...', section('A simulated NTP server.', {
      offset_ms: num('Its clock minus true time (a falseticker: tens of milliseconds or more).', 0),
      delay_ms: num('Round-trip network delay.', 20, { min: 0, max: 10000 }),
      jitter_ms: num('Spread of each one-way delay (uniform, +/-).', 1, { min: 0, max: 1000 }),
      stratum: int('The stratum it claims.', 2, { min: 1, max: 15 }),
      lost: num('Fraction of requests it never answers.', 0, { min: 0, max: 1 }),
    })),
  }),
  alarms: section('Threshold alarms: raised and cleared once each, with hysteresis and hold-off; events, logs and SNMP notifications.', alarmRules),
  store: section('History in SQLite: per-second samples and events, rolled up to minutes and hours, kept for a set time.', {
    enabled: bool('Keep history.', true),
    file: str('The database file (relative to agent.state_dir).', 'history.db'),
    flush_interval_s: num('Samples and events are written in one transaction this often; a crash loses at most this much.', 10, { min: 1, max: 300 }),
    max_pending: int('Samples and events held in memory while the disk fails (samples are dropped first, and counted).', 100_000, { min: 100, max: 10_000_000 }),
    busy_timeout_ms: int('How long a write waits on a locked database (it blocks the event loop: keep it short).', 50, { min: 0, max: 5000 }),
    retention: section('How long each table is kept.', {
      samples_days: num('Per-second samples.', 3, { min: 0.01, max: 3650 }),
      minute_days: num('Minute rollups.', 60, { min: 0.01, max: 3650 }),
      hour_days: num('Hour rollups.', 730, { min: 0.01, max: 36500 }),
      events_days: num('Events.', 365, { min: 0.01, max: 36500 }),
    }),
    schedules: section('When the upkeep jobs run (cron expressions, local time; empty: never).', {
      rollup: str('Roll complete minutes and hours up (every 5 minutes: each run is a transaction, and the card\'s writes count).', '*/5 * * * *'),
      prune: str('Delete what is past its retention.', '7 * * * *'),
      vacuum: str('Return free pages to the filesystem (incremental vacuum) and truncate the WAL.', '17 * * * *'),
      integrity: str('Full integrity check (in a worker thread).', '23 3 * * *'),
      backup: str('Online backup (SQLite backup API, in a worker thread).', '43 3 * * *'),
    }),
    backup_dir: str('Where backups go (relative to agent.state_dir).', 'backups'),
    backups_kept: int('Newest backups kept.', 7, { min: 1, max: 1000 }),
    vacuum_pages: int('Free pages returned per vacuum run at most.', 2000, { min: 1 }),
  }),
  ptp: section('PTP grandmaster: IEEE 1588-2008 default profile over UDP/IPv4 multicast (224.0.1.129, ports 319 and 320), E2E, two-step, software timestamps. Ports 319/320 need CAP_NET_BIND_SERVICE.', {
    enabled: bool('Serve PTP.', false),
    interface: str('Network interface to serve on: its first IPv4 address, and its MAC, which makes the clockIdentity (EUI-64).', 'eth0'),
    domain: int('PTP domain.', 0, { min: 0, max: 127 }),
    priority1: int('priority1 announced (lower wins the best master selection).', 128, { min: 0, max: 255 }),
    priority2: int('priority2 announced.', 128, { min: 0, max: 255 }),
    log_announce_interval: int('Announce every 2^n seconds.', 1, { min: -3, max: 4 }),
    log_sync_interval: int('Sync (and Follow_Up) every 2^n seconds.', 0, { min: -7, max: 4 }),
    log_min_delay_req_interval: int('The Delay_Req interval slaves are told to keep to (2^n seconds).', 0, { min: -7, max: 6 }),
    announce_receipt_timeout: int('Announce intervals after which a silent foreign master is forgotten.', 3, { min: 2, max: 10 }),
    utc_offset_fallback: int('TAI-UTC announced (marked not valid) while no leap second table is loaded.', 37, { min: 0, max: 100 }),
    management_per_second: int('Management answers per second at most (the rest are dropped and counted).', 20, { min: 1, max: 1000 }),
    max_foreign_masters: int('Foreign masters remembered at most (Status, /status); new ones beyond it are counted, not kept.', 16, { min: 1, max: 1024 }),
    delay_resp_per_second: int('Delay_Resp sent per second at most, whoever asks (each goes to the whole segment); each asking port is also held to twice the Delay_Req rate it is told, in bursts of 8.', 1000, { min: 1, max: 100_000 }),
  }),
  influx: section('Export to InfluxDB (1.x write API; InfluxDB 2.x and 3.x accept it on their compatibility endpoint).', {
    enabled: bool('Write points to InfluxDB.', false),
    url: str('InfluxDB URL (http:// or https://), without user:password@: credentials go in username and password, which are never shown (the URL is, in Status).', 'http://127.0.0.1:8086', {
      pattern: /^https?:\/\/[^\s]+$/, what: 'an http:// or https:// URL without credentials',
      valid: (u) => validUrl(u) && !URL_CREDENTIALS.test(u), show: urlWithoutCredentials,
    }),
    database: str('Database (InfluxDB 2.x: the bucket mapped by a DBRP mapping).', 'stratum1', { pattern: /^[^\s"]+$/, what: 'a database name' }),
    retention_policy: str('Retention policy (empty: the database\'s default).', ''),
    username: str('User name (InfluxDB 2.x: any name, with the token as password).', ''),
    password: str('Password or token. Never logged.', '', { secret: true }),
    create_database: bool('Create the database if it does not exist (InfluxDB 1.x, needs the right to).', true),
    interval_s: num('A set of points from Status this often.', 10, { min: 1, max: 3600 }),
    batch_points: int('Points per write request at most (replay after an outage goes in batches of this).', 5000, { min: 1, max: 100_000 }),
    timeout_ms: int('A write that takes longer has failed.', 5000, { min: 100, max: 120_000 }),
    host_tag: str('The host tag of every point (empty: agent.name).', ''),
    queue_file: str('The durable queue of points not yet written (relative to agent.state_dir).', 'influx-queue.db'),
    queue_max_points: int('Points the queue keeps at most; the oldest go first, counted, and the export_loss alarm is raised.', 1_000_000, { min: 100 }),
    queue_max_age_s: num('Points older than this are dropped from the queue (counted, alarmed).', 7 * 86400, { min: 60 }),
  }),
  prometheus: section('The Prometheus /metrics endpoint (names compatible with chrony_exporter and the gpsd exporters where they mean the same).', {
    enabled: bool('Serve /metrics.', true),
    address: str('Address to listen on (loopback by default; 0.0.0.0 or :: for a Prometheus server elsewhere).', '127.0.0.1', { what: 'an IP address', valid: (a) => isIP(a) !== 0 }),
    port: int('TCP port (0 picks a free one).', 9710, { min: 0, max: 65535 }),
  }),
  export: section('Feeds of our time to other programs on this machine.', {
    chrony_sock: str('Path of chronyd\'s SOCK refclock socket (chrony.conf: refclock SOCK PATH refid GPS): every PPS-paired sample goes there, so chronyd disciplines the kernel clock from our GPS and PPS, as with gpsd. Needs the native addon. Empty: no feed.', '', {
      what: 'a socket path of at most 107 bytes, or empty', valid: (p) => Buffer.byteLength(p) <= 107,
    }),
  }),
  partners: section('Partner mode: time daemons already running on this machine, watched read-only and shown in Status and `stratum1 status`. Nothing is ever written to them.', {
    chrony: section('chronyd, through its command protocol (what chronyc uses): tracking, sources, source stats, server stats.', {
      enabled: bool('Watch chronyd.', false),
      socket: str('chronyd\'s Unix command socket (chrony.conf bindcmdaddress), asked as chronyc asks it: everything, server stats included. The agent binds its reply socket in the same directory, so its user needs write access there (chronyd\'s group; Debian: _chrony). When the socket cannot be used, or is empty, the agent asks over UDP (address, port), and Status says why.', '/run/chrony/chronyd.sock', {
        what: 'a socket path of at most 107 bytes, or empty', valid: (p) => Buffer.byteLength(p) <= 107,
      }),
      address: str('chronyd\'s command address (chrony.conf bindcmdaddress; it answers read-only requests from this machine).', '127.0.0.1', { what: 'an IP address', valid: (a) => isIP(a) !== 0 }),
      port: int('chronyd\'s command port (chrony.conf cmdport).', 323, { min: 1, max: 65535 }),
      poll_s: num('Ask chronyd this often (s).', 10, { min: 0.5, max: 3600 }),
    }),
    ptp4l: section('linuxptp\'s ptp4l, through its management protocol on its Unix socket (what `pmc -u` uses), GETs only: PORT_DATA_SET, CURRENT_DATA_SET, PARENT_DATA_SET, TIME_PROPERTIES_DATA_SET, TIME_STATUS_NP. Needs the native addon.', {
      enabled: bool('Watch ptp4l.', false),
      socket: str('ptp4l\'s management socket (ptp4l.conf uds_address). The agent binds a socket of its own for the replies, in agent.state_dir/partners (or /run/stratum1-agent).', '/var/run/ptp4l', {
        what: 'a socket path of 1 to 106 bytes', valid: (p) => Buffer.byteLength(p) >= 1 && Buffer.byteLength(p) <= 106,
      }),
      poll_s: num('Ask ptp4l this often (s).', 2, { min: 0.5, max: 3600 }),
      expected_port_state: oneOf('The port state ptp4l should be in: MASTER for a grandmaster (every port), SLAVE for a clock that follows one (one port). Status partners.ptp4l.inExpectedState says whether it is.', 'MASTER',
        ['MASTER', 'SLAVE', 'PASSIVE', 'LISTENING', 'UNCALIBRATED', 'PRE_MASTER', 'DISABLED', 'FAULTY', 'INITIALIZING'] as const),
      domain: int('The domainNumber of our requests (ptp4l.conf domainNumber; pmc -d).', 0, { min: 0, max: 255 }),
    }),
  }),
  control: section('The local status endpoint that `stratum1 status` reads, and the live web page.', {
    http: hostPort('HTTP endpoint: GET /status, and the read-only live page at / (docs/WEB.md). Loopback by default; another address serves both (and the POST actions) to that network.', '127.0.0.1', 7323),
  }),
  logging: section('Structured logs (JSON lines on standard error).', {
    level: oneOf('Least severe level logged.', 'info', ['debug', 'info', 'warn', 'error'] as const),
    repeat_per_minute: int('The same message at most this many times a minute; the rest are counted.', 6, { min: 1 }),
  }),
});

export type Config = ValueOf<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly file: string, readonly issues: Issue[]) {
    super(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
      issues.map((i) => `  ${i.path}: expected ${i.expected}, found ${i.found}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export function defaultConfig(): Config {
  return configSchema.defaultValue() as Config;
}

const lineOf = (text: string, offset: number): number => text.slice(0, offset).split('\n').length;

export function parseConfig(text: string, file = '(config)'): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(file, doc.errors.map((e) => ({
      path: e.linePos ? `line ${e.linePos[0].line} column ${e.linePos[0].col}` : '(YAML)',
      expected: 'valid YAML', found: e.message.split('\n')[0] ?? e.code,
    })));
  }
  // A mapping key that is itself a list or mapping (`? [a, b]`, `? {a: {a: ...}}`) is no option name,
  // and yaml's toJS turns such keys into strings in time that grows with the cube of their depth (a
  // 10 kB file took minutes: found by the fuzzer): refused before toJS.
  let collectionKey: string | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (!isCollection(pair.key)) return undefined;
      collectionKey = isNode(pair.key) && pair.key.range ? `line ${lineOf(text, pair.key.range[0])}` : '(YAML)';
      return visit.BREAK;
    },
  });
  if (collectionKey !== undefined) {
    throw new ConfigError(file, [{ path: collectionKey, expected: 'a plain key (an option name)', found: 'a list or mapping used as a key' }]);
  }
  let data: unknown;
  try {
    // yaml refuses an alias bomb (aliases that expand exponentially) with an exception: a bad file too.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError(file, [{ path: '(YAML)', expected: 'valid YAML', found: (e as Error).message }]);
  }
  const issues: Issue[] = [];
  const cfg = configSchema.check(data ?? {}, '', issues);
  const c = cfg as Config | undefined;
  // The cross-checks read sections the schema has checked: a section with problems is left undefined
  // (found by the fuzzer: TypeError in crossCheck), so they run only on a configuration without any.
  if (c && issues.length === 0) crossCheck(c, issues);
  if (issues.length || !c) throw new ConfigError(file, issues);
  return c;
}

function crossCheck(c: Config, issues: Issue[]): void {
  if (c.pps.min_interval_s >= c.pps.max_interval_s) {
    issues.push({ path: 'pps.min_interval_s', expected: 'less than pps.max_interval_s', found: String(c.pps.min_interval_s) });
  }
  c.snmp.trap_sinks.forEach((t, i) => {
    if (t.version === 'v3' && !c.snmp.users.some((u) => u.name === t.user)) {
      issues.push({ path: `snmp.trap_sinks[${i}].user`, expected: 'the name of one of snmp.users', found: JSON.stringify(t.user) });
    }
    if (t.version === 'v2c' && !t.community) issues.push({ path: `snmp.trap_sinks[${i}].community`, expected: 'a community for v2c', found: 'none' });
  });
  if ((c.ntp.nts.cert === '') !== (c.ntp.nts.key === '')) {
    issues.push({ path: c.ntp.nts.cert === '' ? 'ntp.nts.cert' : 'ntp.nts.key', expected: 'set together with ntp.nts.' + (c.ntp.nts.cert === '' ? 'key' : 'cert') + ' (or both empty: a self-signed certificate)', found: 'empty' });
  }
  c.snmp.users.forEach((u, i) => {
    if (!u.name) issues.push({ path: `snmp.users[${i}].name`, expected: 'a user name', found: 'none' });
  });
  if (c.discipline.out_of_budget_clock_class !== 52 && c.discipline.out_of_budget_clock_class !== 187) {
    issues.push({ path: 'discipline.out_of_budget_clock_class', expected: '52 or 187', found: String(c.discipline.out_of_budget_clock_class) });
  }
  if (c.receiver.serial.reopen_min_ms > c.receiver.serial.reopen_max_ms) {
    issues.push({ path: 'receiver.serial.reopen_min_ms', expected: 'at most receiver.serial.reopen_max_ms', found: String(c.receiver.serial.reopen_min_ms) });
  }
  if (Number.isNaN(Date.parse(c.receiver.min_valid_date))) {
    issues.push({ path: 'receiver.min_valid_date', expected: 'a real date', found: c.receiver.min_valid_date });
  }
  // The scheduler's own parser: what passes here is what the upkeep can run.
  for (const [job, expr] of Object.entries(c.store.schedules)) {
    if (expr === '') continue;
    try {
      parseCron(expr);
    } catch {
      issues.push({ path: `store.schedules.${job}`, expected: 'a cron expression (minute hour day month weekday) or empty', found: JSON.stringify(expr) });
    }
  }
  if (c.simulator.start !== '' && Number.isNaN(Date.parse(c.simulator.start))) {
    issues.push({ path: 'simulator.start', expected: 'an ISO 8601 time or empty', found: c.simulator.start });
  }
}

/** The secret options, from the schema (snmp.users[].auth_key, ...). */
const SECRET_PATHS = new Set(secretPaths(configSchema as Section<unknown>));
const isSecret = (path: string) => SECRET_PATHS.has(path.replace(/\[\d+\]/g, '[]'));

/** Every option as path -> value (JSON), secrets replaced by a keyed digest: enough to tell what changed
 * between two runs without writing down a secret or anything a secret can be guessed from. The key is
 * this installation's own (`fingerprintKey`), kept in the state directory readable by the agent alone,
 * so the digest in a copied history file cannot be checked against guessed passphrases (an unsalted
 * hash could: found by issue 15). Without a key a secret is recorded as changed or not only. */
export function configFingerprint(c: Config, key?: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (v: unknown, path: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    } else if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
    } else {
      const json = JSON.stringify(v);
      out[path] = !isSecret(path) ? json : key ? `secret:${createHmac('sha256', key).update(`${path}\0${json}`).digest('hex').slice(0, 16)}` : 'secret';
    }
  };
  walk(c, '');
  return out;
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, [{ path: '(file)', expected: 'a readable file', found: (e as NodeJS.ErrnoException).code ?? String(e) }]);
  }
  return parseConfig(text, file);
}

/** The documented example: every option with its default and its doc, as YAML. */
export function exampleYaml(): string {
  const lines: string[] = [
    '# stratum1-agent configuration: every option, with its default.',
    '# Generated from src/config/config.ts by `stratum1 config-example`; a test keeps the two equal.',
    '',
  ];
  const walk = (n: Section<unknown>, indent: string) => {
    for (const [k, f] of Object.entries(n.fields) as [string, Node][]) {
      if (f.kind === 'section') {
        lines.push(`${indent}# ${f.doc}`, `${indent}${k}:`);
        walk(f, indent + '  ');
      } else {
        const d = f.defaultValue();
        const v = Array.isArray(d) ? `[${d.map((x) => JSON.stringify(x)).join(', ')}]` : typeof d === 'string' ? JSON.stringify(d) : String(d);
        lines.push(`${indent}# ${f.doc}${f.describe() !== 'a list' ? ` (${f.describe()})` : ''}`, `${indent}${k}: ${v}`);
      }
    }
  };
  walk(configSchema as Section<unknown>, '');
  const faultDoc = [
    '',
    '# A fault in simulator.faults has: at_s (seconds after start), kind (antenna_unplugged, antenna_short,',
    '# pps_lost, satellites_drop, time_jump, garbage, silence), duration_s, and value (satellites left,',
    '# seconds of jump, or bytes of garbage per second). Example:',
    '#   faults:',
    '#     - { at_s: 600, kind: antenna_unplugged, duration_s: 300 }',
  ];
  return [...lines, ...faultDoc, ''].join('\n');
}

/**
 * This installation's key for configFingerprint: 32 random bytes in `state_dir/fingerprint.key`, mode
 * 0600, made on first use. Undefined when the state directory cannot hold it (read-only): secrets are
 * then fingerprinted without a digest.
 */
export function fingerprintKey(stateDir: string): Buffer | undefined {
  const path = join(stateDir, 'fingerprint.key');
  try {
    const k = readFileSync(path);
    if (k.length >= 32) return k;
  } catch { /* none yet */ }
  try {
    mkdirSync(stateDir, { recursive: true });
    const k = randomBytes(32);
    writeFileSync(path, k, { mode: 0o600, flag: 'w' });
    return k;
  } catch {
    return undefined;
  }
}
