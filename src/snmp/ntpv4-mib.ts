/**
 * The standard NTPv4-MIB (RFC 5907, mib-2 197), implemented from its OIDs over our Status: the entity
 * info and status, the packet mode table, the GPS/PPS reference as association 1 with its statistics,
 * and ntpEntControl (read-only: writes are not enabled). Its notifications are sent by traps.ts.
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
  /** The disciplined clock now. */
  now: Nanos;
  heartbeatS: number;
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

const synced = (s: Status) => s.discipline.synchronized;
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
  { name: 'ntpEntSoftwareName', oid: `${INFO}.1`, type: 'string', get: () => 'stratum1-agent' },
  { name: 'ntpEntSoftwareVersion', oid: `${INFO}.2`, type: 'string', get: (c) => c.status.agent.version },
  { name: 'ntpEntSoftwareVendor', oid: `${INFO}.3`, type: 'string', get: () => 'stratum1-agent project' },
  { name: 'ntpEntSystemType', oid: `${INFO}.4`, type: 'string', get: () => `${os.type()} ${os.release()} ${os.arch()}` },
  { name: 'ntpEntTimeResolution', oid: `${INFO}.5`, type: 'gauge', get: (c) => u32(2 ** -(c.status.ntp.precisionLog2 ?? 0)) },
  { name: 'ntpEntTimePrecision', oid: `${INFO}.6`, type: 'int', get: (c) => c.status.ntp.precisionLog2 ?? 0 },
  { name: 'ntpEntTimeDistance', oid: `${INFO}.7`, type: 'string', get: (c) => msText(c.status.discipline.rootDispersionS * 1e9) },
  { name: 'ntpEntStatusCurrentMode', oid: `${STATUS}.1`, type: 'int', get: (c) => (synced(c.status) ? 5 : 2) },
  { name: 'ntpEntStatusStratum', oid: `${STATUS}.2`, type: 'gauge', get: (c) => c.status.discipline.stratum },
  { name: 'ntpEntStatusActiveRefSourceId', oid: `${STATUS}.3`, type: 'gauge', get: (c) => (synced(c.status) ? 1 : 0) },
  { name: 'ntpEntStatusActiveRefSourceName', oid: `${STATUS}.4`, type: 'string', get: (c) => (synced(c.status) ? 'GPS+PPS' : '') },
  // The offset, as every surface means it: the served clock's from GPS (empty without a recent sample).
  { name: 'ntpEntStatusActiveOffset', oid: `${STATUS}.5`, type: 'string', get: (c) => msText(c.status.discipline.offsetNs) },
  { name: 'ntpEntStatusNumberOfRefSources', oid: `${STATUS}.6`, type: 'gauge', get: () => 1 },
  { name: 'ntpEntStatusDispersion', oid: `${STATUS}.7`, type: 'string', get: (c) => msText(c.status.discipline.rootDispersionS * 1e9) },
  { name: 'ntpEntStatusEntityUptime', oid: `${STATUS}.8`, type: 'ticks', get: (c) => u32(c.status.agent.uptimeS * 100) },
  { name: 'ntpEntStatusDateTime', oid: `${STATUS}.9`, type: 'octets', get: (c) => (synced(c.status) ? ntpDate(c.now) : Buffer.alloc(0)) },
  { name: 'ntpEntStatusLeapSecond', oid: `${STATUS}.10`, type: 'octets', get: (c) => {
    // Leap seconds fall on whole seconds: the Unix seconds in Status are exact.
    const at = c.status.discipline.nextLeapAtUnixS;
    return at !== null ? ntpDate(BigInt(Math.round(at)) * 1_000_000_000n) : Buffer.alloc(0);
  } },
  { name: 'ntpEntStatusLeapSecDirection', oid: `${STATUS}.11`, type: 'int', get: (c) => c.status.discipline.nextLeapDelta ?? 0 },
  { name: 'ntpEntStatusInPkts', oid: `${STATUS}.12`, type: 'counter', get: (c) => u32(c.status.ntp.received) },
  { name: 'ntpEntStatusOutPkts', oid: `${STATUS}.13`, type: 'counter', get: (c) => u32(c.status.ntp.replied + c.status.ntp.kissOfDeath) },
  { name: 'ntpEntStatusBadVersion', oid: `${STATUS}.14`, type: 'counter', get: (c) => u32(c.status.ntp.malformed.version ?? 0) },
  { name: 'ntpEntStatusProtocolError', oid: `${STATUS}.15`, type: 'counter', get: (c) => u32(Object.values(c.status.ntp.malformed).reduce((a, b) => a + b, 0)) },
  { name: 'ntpEntStatusNotifications', oid: `${STATUS}.16`, type: 'counter', get: (c) => u32(Object.entries(c.status.snmp.trapsByName).filter(([k]) => k.startsWith('ntpEntNotif')).reduce((a, [, v]) => a + v, 0)) },
  { name: 'ntpEntHeartbeatInterval', oid: `${CONTROL}.1`, type: 'gauge', get: (c) => c.heartbeatS },
  { name: 'ntpEntNotifBits', oid: `${CONTROL}.2`, type: 'octets', get: (c) => notifBits(c.heartbeatS) },
];

export const V4_TABLES: V4Table[] = [
  {
    name: 'ntpEntStatPktModeTable', entryOid: `${STATUS}.17.1`,
    columns: [{ name: 'ntpEntStatPktMode', sub: 1, type: 'int', index: true }, { name: 'ntpEntStatPktSent', sub: 2, type: 'counter' }, { name: 'ntpEntStatPktReceived', sub: 3, type: 'counter' }],
    rows: (c) => {
      const rx = modeCounts(c.status);
      return [1, 2, 3, 4, 5, 6].map((m) => [m, m === 4 ? u32(c.status.ntp.replied + c.status.ntp.kissOfDeath) : 0, u32(rx.get(m) ?? 0)]);
    },
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
    // The GPS receiver and its PPS, addressed as ntpd addresses its PPS reference clock (127.127.22.0).
    // Its stratum is 0 in NTP's terms; NtpStratum starts at 1, so 1 is given.
    rows: (c) => [[
      1, 'GPS+PPS', 'GPS', 1, Buffer.from([127, 127, 22, 0]), msText(c.status.discipline.offsetNs), 1,
      msText(c.status.pps.jitterNs), msText(0), msText((c.status.discipline.timeErrorEstimateNs ?? 0)),
    ]],
  },
  {
    name: 'ntpAssociationStatisticsTable', entryOid: `${ASSOC}.2.1`,
    columns: [
      { name: 'ntpAssocId', sub: 0, type: 'gauge', index: true }, { name: 'ntpAssocStatInPkts', sub: 1, type: 'counter' },
      { name: 'ntpAssocStatOutPkts', sub: 2, type: 'counter' }, { name: 'ntpAssocStatProtocolError', sub: 3, type: 'counter' },
    ],
    rows: (c) => [[1, u32(c.status.discipline.pairs), 0, u32(Object.values(c.status.discipline.labelsRejected).reduce((a, b) => a + b, 0))]],
  },
];
