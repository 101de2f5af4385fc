/**
 * The standard NTPv4-MIB (RFC 5907, mib-2 197), implemented from its OIDs over our Status: the entity
 * info and status, the packet mode table, the associations with their statistics, and ntpEntControl
 * (read-only: writes are not enabled). Its notifications are sent by traps.ts.
 *
 * "The NTP entity" is whoever serves NTP on this box, decided once per reading in ntpEntity(): the
 * agent itself (its GPS/PPS reference as association 1), or chronyd when the agent serves no NTP and
 * watches chronyd as a partner (partners.chrony): then the MIB says what chronyc tracking, sources
 * and serverstats say, as an NMS polling the box for its time service expects.
 */
import os from 'node:os';
import type { Status } from '../status/status.ts';
import { toNtp64, NTP_UNIX_OFFSET_S, NS_PER_S, type Nanos } from '../time/index.ts';

export const NTPV4 = '1.3.6.1.2.1.197';
const INFO = `${NTPV4}.1.1`;
const STATUS = `${NTPV4}.1.2`;
const ASSOC = `${NTPV4}.1.3`;
const CONTROL = `${NTPV4}.1.4`;

export type V4Type = 'string' | 'int' | 'gauge' | 'counter' | 'ticks' | 'octets';
export type V4Value = string | number | Buffer;

export interface V4Context {
  status: Status;
  /** The served clock now (the agent's, or the system clock chronyd disciplines). */
  now: Nanos;
  heartbeatS: number;
  /** The entity the MIB describes (ntpEntity(status)). */
  entity: NtpEntity;
}

/** RFC 5907's ntpEntStatusCurrentMode. */
export const V4_MODE = { notRunning: 1, notSynchronized: 2, noneConfigured: 3, syncToLocal: 4, syncToRefclock: 5, syncToRemoteServer: 6, unknown: 99 } as const;

export interface NtpAssociation {
  id: number; name: string; refId: string;
  /** InetAddressType: 0 unknown (a chronyd refclock: no address), 1 ipv4, 2 ipv6. */
  addressType: 0 | 1 | 2; address: Buffer;
  offsetNs: number | null; stratum: number; jitterNs: number | null; delayNs: number | null; dispersionNs: number | null;
  /** ntpAssociationStatisticsTable, when the entity counts them (chronyd's command protocol does not without more requests). */
  stats: { inPkts: number; outPkts: number; protocolErrors: number } | null;
}

/** What NTPv4-MIB says of the entity, from one Status. */
export interface NtpEntity {
  who: 'agent' | 'chronyd';
  softwareName: string; softwareVersion: string; softwareVendor: string;
  precisionLog2: number | null;
  mode: number;
  stratum: number;
  /** Index (ntpAssocId) of the selected source, 0 for none. */
  activeRefId: number; activeRefName: string;
  offsetNs: number | null;
  rootDistanceNs: number | null; dispersionNs: number | null;
  uptimeS: number;
  synchronized: boolean;
  nextLeapAtUnixS: number | null; leapDirection: number;
  inPkts: number; outPkts: number; badVersion: number; protocolErrors: number;
  /** Received and sent by NTP mode (1-6). */
  modes: Map<number, { rx: number; tx: number }>;
  associations: NtpAssociation[];
}

/** chronyd is the entity when the agent serves no NTP and watches chronyd. */
export const chronydIsEntity = (s: Status) => !s.ntp.enabled && s.partners.chrony.enabled;

/** hostNowS: the host clock's Unix seconds (where chronyd's announced leap second falls). */
export function ntpEntity(s: Status, hostNowS: number): NtpEntity {
  return chronydIsEntity(s) ? chronydEntity(s, hostNowS) : agentEntity(s);
}

/** One reading's context: the entity decided once, and "now" on the clock it serves (the agent's
 * served clock, or the system clock chronyd disciplines). */
export function v4Context(status: Status, servedNow: () => Nanos, heartbeatS: number, hostNow: () => Nanos = servedNow): V4Context {
  const host = hostNow();
  const entity = ntpEntity(status, Number(host) / 1e9);
  return { status, entity, heartbeatS, now: entity.who === 'chronyd' ? host : servedNow() };
}

function agentEntity(s: Status): NtpEntity {
  const d = s.discipline;
  const rx = modeCounts(s);
  const tx = u32(s.ntp.replied + s.ntp.kissOfDeath);
  return {
    who: 'agent', softwareName: 'stratum1-agent', softwareVersion: s.agent.version, softwareVendor: 'stratum1-agent project',
    precisionLog2: s.ntp.precisionLog2, mode: d.synchronized ? V4_MODE.syncToRefclock : V4_MODE.notSynchronized, stratum: d.stratum,
    activeRefId: d.synchronized ? 1 : 0, activeRefName: d.synchronized ? 'GPS+PPS' : '',
    // The offset, as every surface means it: the served clock's from GPS (empty without a recent sample).
    offsetNs: d.offsetNs, rootDistanceNs: d.rootDispersionS * 1e9, dispersionNs: d.rootDispersionS * 1e9,
    uptimeS: s.agent.uptimeS, synchronized: d.synchronized, nextLeapAtUnixS: d.nextLeapAtUnixS, leapDirection: d.nextLeapDelta ?? 0,
    inPkts: u32(s.ntp.received), outPkts: tx, badVersion: u32(s.ntp.malformed.version ?? 0),
    protocolErrors: u32(Object.values(s.ntp.malformed).reduce((a, b) => a + b, 0)),
    modes: new Map([1, 2, 3, 4, 5, 6].map((m) => [m, { rx: u32(rx.get(m) ?? 0), tx: m === 4 ? tx : 0 }])),
    // The GPS receiver and its PPS, addressed as ntpd addresses its PPS reference clock (127.127.22.0).
    // Its stratum is 0 in NTP's terms; NtpStratum starts at 1, so 1 is given.
    associations: [{
      id: 1, name: 'GPS+PPS', refId: 'GPS', addressType: 1, address: Buffer.from([127, 127, 22, 0]), offsetNs: d.offsetNs, stratum: 1,
      jitterNs: s.pps.jitterNs, delayNs: 0, dispersionNs: d.timeErrorEstimateNs ?? 0,
      stats: { inPkts: u32(d.pairs), outPkts: 0, protocolErrors: u32(Object.values(d.labelsRejected).reduce((a, b) => a + b, 0)) },
    }],
  };
}

/** The end of the current UTC day, where a leap second chronyd announces falls. */
const endOfUtcDay = (unixS: number) => (Math.floor(unixS / 86400) + 1) * 86400;

function chronydEntity(s: Status, nowS: number): NtpEntity {
  const c = s.partners.chrony;
  const sources = c.sources;
  const selected = sources.findIndex((x) => x.state === '*');
  const sel = selected >= 0 ? sources[selected]! : undefined;
  // chronyd's own reference: a refclock it selected, a server, or its local clock (7F7F0101).
  const mode = !c.reachable ? V4_MODE.notRunning
    : c.synchronised && sel?.mode === 'refclock' ? V4_MODE.syncToRefclock
      : c.synchronised && sel ? V4_MODE.syncToRemoteServer
        : c.synchronised && c.referenceId === '7F7F0101' ? V4_MODE.syncToLocal
          : sources.length === 0 ? V4_MODE.noneConfigured : V4_MODE.notSynchronized;
  const st = c.serverStats;
  const leap = c.leapStatus === 'insert second' ? 1 : c.leapStatus === 'delete second' ? -1 : 0;
  return {
    who: 'chronyd', softwareName: 'chronyd', softwareVersion: '', softwareVendor: 'chrony project',
    precisionLog2: null, mode, stratum: c.reachable && c.stratum !== null ? c.stratum : 16,
    activeRefId: sel ? selected + 1 : 0, activeRefName: c.synchronised ? (c.reference ?? '') : '',
    offsetNs: c.systemOffsetNs,
    rootDistanceNs: c.rootDelayS !== null && c.rootDispersionS !== null ? (c.rootDelayS / 2 + c.rootDispersionS) * 1e9 : null,
    dispersionNs: c.rootDispersionS === null ? null : c.rootDispersionS * 1e9,
    // Not in chronyd's command protocol: the agent's own uptime would be wrong, so none.
    uptimeS: 0,
    synchronized: c.synchronised, nextLeapAtUnixS: leap !== 0 ? endOfUtcDay(nowS) : null, leapDirection: leap,
    // chronyd counts NTP requests (server stats, on its Unix socket only) and drops; what it answered is the difference.
    inPkts: u32(st?.ntpHits ?? 0), outPkts: u32(st ? st.ntpHits - st.ntpDrops : 0), badVersion: 0, protocolErrors: 0,
    modes: new Map([1, 2, 3, 4, 5, 6].map((m) => [m, { rx: m === 3 ? u32(st?.ntpHits ?? 0) : 0, tx: m === 4 ? u32(st ? st.ntpHits - st.ntpDrops : 0) : 0 }])),
    associations: sources.map((x, i): NtpAssociation => {
      const v6 = x.address?.includes(':');
      return {
        id: i + 1, name: x.name, refId: x.mode === 'refclock' ? x.name : '',
        addressType: x.address === null ? 0 : v6 ? 2 : 1, address: x.address === null ? Buffer.alloc(0) : inetBytes(x.address),
        offsetNs: x.lastRxAgeS === null ? null : x.offsetNs,
        // A refclock is stratum 0 in NTP's terms; NtpStratum starts at 1.
        stratum: Math.min(16, Math.max(1, x.stratum)),
        jitterNs: x.stats?.stdDevNs ?? null, delayNs: null, dispersionNs: x.lastRxAgeS === null ? null : x.errorNs, stats: null,
      };
    }),
  };
}

/** An IPv4 or IPv6 address as InetAddress octets. */
function inetBytes(a: string): Buffer {
  if (!a.includes(':')) return Buffer.from(a.split('.').map(Number));
  const [l, r] = a.includes('::') ? a.split('::') as [string, string] : [a, ''];
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return b;
}

export interface V4Scalar {
  name: string;
  oid: string;
  type: V4Type;
  get: (c: V4Context) => V4Value;
}

export interface V4Table {
  name: string;
  /** OID of the entry (table.1). */
  entryOid: string;
  columns: { name: string; sub: number; type: V4Type; index?: boolean }[];
  rows: (c: V4Context) => V4Value[][];
}

const msText = (ns: number | null) => (ns === null ? '' : `${(ns / 1e6).toFixed(6)} ms`);
const u32 = (v: number) => Math.max(0, Math.round(v)) % 4294967296;

/** RFC 5905 section 6's 128-bit NTP date: era (signed 32), era offset (32), fraction (64). */
export function ntpDate(t: Nanos): Buffer {
  const b = Buffer.alloc(16);
  const since = t + NTP_UNIX_OFFSET_S * NS_PER_S;
  const era = since >= 0n ? since / (4294967296n * NS_PER_S) : -1n;
  const ts = toNtp64(t);
  b.writeInt32BE(Number(era), 0);
  b.writeUInt32BE(Number(ts >> 32n), 4);
  b.writeUInt32BE(Number(ts & 0xffffffffn), 8);
  return b;
}

function modeCounts(s: Status): Map<number, number> {
  const m = new Map<number, number>();
  for (const [k, v] of Object.entries(s.ntp.byVersionMode)) {
    const mode = Number(/mode (\d)/.exec(k)?.[1]);
    m.set(mode, (m.get(mode) ?? 0) + v);
  }
  return m;
}

/** Which of RFC 5907's notifications we send (ntpEntNotifBits): modeChange(1), stratumChange(2),
 * syspeerChanged(3), leapSecondAnnounced(7), and heartbeat(8) when a heartbeat is configured. */
export function notifBits(heartbeatS: number): Buffer {
  const bits = [1, 2, 3, 7, ...(heartbeatS > 0 ? [8] : [])];
  const b = Buffer.alloc(2);
  for (const n of bits) b[n >> 3]! |= 0x80 >> (n & 7);
  return b;
}

export const V4_SCALARS: V4Scalar[] = [
  { name: 'ntpEntSoftwareName', oid: `${INFO}.1`, type: 'string', get: (c) => c.entity.softwareName },
  { name: 'ntpEntSoftwareVersion', oid: `${INFO}.2`, type: 'string', get: (c) => c.entity.softwareVersion },
  { name: 'ntpEntSoftwareVendor', oid: `${INFO}.3`, type: 'string', get: (c) => c.entity.softwareVendor },
  { name: 'ntpEntSystemType', oid: `${INFO}.4`, type: 'string', get: () => `${os.type()} ${os.release()} ${os.arch()}` },
  { name: 'ntpEntTimeResolution', oid: `${INFO}.5`, type: 'gauge', get: (c) => (c.entity.precisionLog2 === null ? 0 : u32(2 ** -c.entity.precisionLog2)) },
  { name: 'ntpEntTimePrecision', oid: `${INFO}.6`, type: 'int', get: (c) => c.entity.precisionLog2 ?? 0 },
  { name: 'ntpEntTimeDistance', oid: `${INFO}.7`, type: 'string', get: (c) => msText(c.entity.rootDistanceNs) },
  { name: 'ntpEntStatusCurrentMode', oid: `${STATUS}.1`, type: 'int', get: (c) => c.entity.mode },
  { name: 'ntpEntStatusStratum', oid: `${STATUS}.2`, type: 'gauge', get: (c) => c.entity.stratum },
  { name: 'ntpEntStatusActiveRefSourceId', oid: `${STATUS}.3`, type: 'gauge', get: (c) => c.entity.activeRefId },
  { name: 'ntpEntStatusActiveRefSourceName', oid: `${STATUS}.4`, type: 'string', get: (c) => c.entity.activeRefName },
  { name: 'ntpEntStatusActiveOffset', oid: `${STATUS}.5`, type: 'string', get: (c) => msText(c.entity.offsetNs) },
  { name: 'ntpEntStatusNumberOfRefSources', oid: `${STATUS}.6`, type: 'gauge', get: (c) => c.entity.associations.length },
  { name: 'ntpEntStatusDispersion', oid: `${STATUS}.7`, type: 'string', get: (c) => msText(c.entity.dispersionNs) },
  { name: 'ntpEntStatusEntityUptime', oid: `${STATUS}.8`, type: 'ticks', get: (c) => u32(c.entity.uptimeS * 100) },
  { name: 'ntpEntStatusDateTime', oid: `${STATUS}.9`, type: 'octets', get: (c) => (c.entity.synchronized ? ntpDate(c.now) : Buffer.alloc(0)) },
  { name: 'ntpEntStatusLeapSecond', oid: `${STATUS}.10`, type: 'octets', get: (c) => {
    // Leap seconds fall on whole seconds: the Unix seconds are exact.
    const at = c.entity.nextLeapAtUnixS;
    return at !== null ? ntpDate(BigInt(Math.round(at)) * 1_000_000_000n) : Buffer.alloc(0);
  } },
  { name: 'ntpEntStatusLeapSecDirection', oid: `${STATUS}.11`, type: 'int', get: (c) => c.entity.leapDirection },
  { name: 'ntpEntStatusInPkts', oid: `${STATUS}.12`, type: 'counter', get: (c) => c.entity.inPkts },
  { name: 'ntpEntStatusOutPkts', oid: `${STATUS}.13`, type: 'counter', get: (c) => c.entity.outPkts },
  { name: 'ntpEntStatusBadVersion', oid: `${STATUS}.14`, type: 'counter', get: (c) => c.entity.badVersion },
  { name: 'ntpEntStatusProtocolError', oid: `${STATUS}.15`, type: 'counter', get: (c) => c.entity.protocolErrors },
  { name: 'ntpEntStatusNotifications', oid: `${STATUS}.16`, type: 'counter', get: (c) => u32(Object.entries(c.status.snmp.trapsByName).filter(([k]) => k.startsWith('ntpEntNotif')).reduce((a, [, v]) => a + v, 0)) },
  { name: 'ntpEntHeartbeatInterval', oid: `${CONTROL}.1`, type: 'gauge', get: (c) => c.heartbeatS },
  { name: 'ntpEntNotifBits', oid: `${CONTROL}.2`, type: 'octets', get: (c) => notifBits(c.heartbeatS) },
];

export const V4_TABLES: V4Table[] = [
  {
    name: 'ntpEntStatPktModeTable', entryOid: `${STATUS}.17.1`,
    columns: [{ name: 'ntpEntStatPktMode', sub: 1, type: 'int', index: true }, { name: 'ntpEntStatPktSent', sub: 2, type: 'counter' }, { name: 'ntpEntStatPktReceived', sub: 3, type: 'counter' }],
    rows: (c) => [...c.entity.modes].map(([m, v]) => [m, v.tx, v.rx]),
  },
  {
    name: 'ntpAssociationTable', entryOid: `${ASSOC}.1.1`,
    columns: [
      { name: 'ntpAssocId', sub: 1, type: 'gauge', index: true }, { name: 'ntpAssocName', sub: 2, type: 'string' },
      { name: 'ntpAssocRefId', sub: 3, type: 'string' }, { name: 'ntpAssocAddressType', sub: 4, type: 'int' },
      { name: 'ntpAssocAddress', sub: 5, type: 'octets' }, { name: 'ntpAssocOffset', sub: 6, type: 'string' },
      { name: 'ntpAssocStratum', sub: 7, type: 'gauge' }, { name: 'ntpAssocStatusJitter', sub: 8, type: 'string' },
      { name: 'ntpAssocStatusDelay', sub: 9, type: 'string' }, { name: 'ntpAssocStatusDispersion', sub: 10, type: 'string' },
    ],
    rows: (c) => c.entity.associations.map((a) => [
      a.id, a.name, a.refId, a.addressType, a.address, msText(a.offsetNs), a.stratum, msText(a.jitterNs), msText(a.delayNs), msText(a.dispersionNs),
    ]),
  },
  {
    name: 'ntpAssociationStatisticsTable', entryOid: `${ASSOC}.2.1`,
    columns: [
      { name: 'ntpAssocId', sub: 0, type: 'gauge', index: true }, { name: 'ntpAssocStatInPkts', sub: 1, type: 'counter' },
      { name: 'ntpAssocStatOutPkts', sub: 2, type: 'counter' }, { name: 'ntpAssocStatProtocolError', sub: 3, type: 'counter' },
    ],
    rows: (c) => c.entity.associations.filter((a) => a.stats).map((a) => [a.id, a.stats!.inPkts, a.stats!.outPkts, a.stats!.protocolErrors]),
  },
];
