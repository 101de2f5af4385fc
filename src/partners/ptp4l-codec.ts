/**
 * linuxptp's management protocol as `pmc -u` speaks it over ptp4l's Unix socket (pure): GET requests
 * (a Management message, actionField GET, one MANAGEMENT TLV naming the data set, its dataField
 * zero-filled to the data set's length as pmc sends it) and the RESPONSE TLVs of the data sets the
 * partner reads: DEFAULT_DATA_SET, PORT_DATA_SET, CURRENT_DATA_SET, PARENT_DATA_SET,
 * TIME_PROPERTIES_DATA_SET (IEEE 1588-2008 15.5.3) and linuxptp's TIME_STATUS_NP (0xC000). The common
 * header and the Management body come from src/ptp/codec.ts. Decoding never throws: a reply that is
 * not the answer to our question, or whose data set is not exactly the length linuxptp sends, is an
 * error value saying why.
 */
import {
  decode, encodeManagement, readPortIdentity, identityHex, MSG, MGMT_ACTION, MGMT_ID, MGMT_ID_TIME_STATUS_NP, ALL_PORTS,
  type PortIdentity, type ClockQuality,
} from '../ptp/codec.ts';

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export const PTP4L_IDS = {
  DEFAULT_DATA_SET: MGMT_ID.DEFAULT_DATA_SET, CURRENT_DATA_SET: MGMT_ID.CURRENT_DATA_SET, PARENT_DATA_SET: MGMT_ID.PARENT_DATA_SET,
  TIME_PROPERTIES_DATA_SET: MGMT_ID.TIME_PROPERTIES_DATA_SET, PORT_DATA_SET: MGMT_ID.PORT_DATA_SET, TIME_STATUS_NP: MGMT_ID_TIME_STATUS_NP,
} as const;
export type Ptp4lDataSet = keyof typeof PTP4L_IDS;

/** Each data set's length on the wire (linuxptp's packed structs; a response of any other length is refused, as pmc does). */
export const DATA_SET_LEN: Readonly<Record<Ptp4lDataSet, number>> = {
  DEFAULT_DATA_SET: 20, CURRENT_DATA_SET: 18, PARENT_DATA_SET: 32, TIME_PROPERTIES_DATA_SET: 4, PORT_DATA_SET: 26, TIME_STATUS_NP: 50,
};

/** IEEE 1588 portState (linuxptp reports nothing above SLAVE). */
export const PORT_STATES = ['NONE', 'INITIALIZING', 'FAULTY', 'DISABLED', 'LISTENING', 'PRE_MASTER', 'MASTER', 'PASSIVE', 'UNCALIBRATED', 'SLAVE'] as const;
export type PortStateName = (typeof PORT_STATES)[number];

/** IEEE 1588 managementErrorId names (15.5.4.4), for clear errors. */
const ERROR_NAMES: Record<number, string> = {
  0x0001: 'RESPONSE_TOO_BIG', 0x0002: 'NO_SUCH_ID', 0x0003: 'WRONG_LENGTH', 0x0004: 'WRONG_VALUE', 0x0005: 'NOT_SETABLE',
  0x0006: 'NOT_SUPPORTED', 0xfffe: 'GENERAL_ERROR',
};

export interface DefaultDataSet {
  twoStepFlag: boolean; slaveOnly: boolean; numberPorts: number; priority1: number; clockQuality: ClockQuality; priority2: number;
  clockIdentity: string; domainNumber: number;
}
export interface PortDataSet {
  /** "clockid-port" as pmc prints it. */
  portIdentity: string; portNumber: number;
  portState: PortStateName; portStateCode: number;
  logMinDelayReqInterval: number; peerMeanPathDelayNs: number; logAnnounceInterval: number; announceReceiptTimeout: number;
  logSyncInterval: number; delayMechanism: number; logMinPdelayReqInterval: number; versionNumber: number;
}
export interface CurrentDataSet { stepsRemoved: number; offsetFromMasterNs: number; meanPathDelayNs: number }
export interface ParentDataSet {
  parentPortIdentity: string; parentStats: boolean; observedParentOffsetScaledLogVariance: number; observedParentClockPhaseChangeRate: number;
  grandmasterPriority1: number; grandmasterClockQuality: ClockQuality; grandmasterPriority2: number; grandmasterIdentity: string;
}
export interface TimePropertiesDataSet {
  currentUtcOffset: number; leap61: boolean; leap59: boolean; currentUtcOffsetValid: boolean; ptpTimescale: boolean;
  timeTraceable: boolean; frequencyTraceable: boolean; timeSource: number;
}
export interface TimeStatusNp {
  /** The servo's last offset from the master, ns. */
  masterOffsetNs: bigint;
  /** The local time that offset's Sync was received at, ns (0 before the first). */
  ingressTimeNs: bigint;
  cumulativeScaledRateOffset: number; scaledLastGmPhaseChange: number; gmTimeBaseIndicator: number;
  /** ScaledNs: 96-bit nanoseconds * 2^16, as pmc prints it (msb'lsb.frac in hex). */
  lastGmPhaseChange: string;
  gmPresent: boolean; gmIdentity: string;
}

export type Ptp4lValue =
  | { id: 'DEFAULT_DATA_SET'; value: DefaultDataSet }
  | { id: 'PORT_DATA_SET'; value: PortDataSet }
  | { id: 'CURRENT_DATA_SET'; value: CurrentDataSet }
  | { id: 'PARENT_DATA_SET'; value: ParentDataSet }
  | { id: 'TIME_PROPERTIES_DATA_SET'; value: TimePropertiesDataSet }
  | { id: 'TIME_STATUS_NP'; value: TimeStatusNp };

/** A response: who sent it (ptp4l's port) and the data set. */
export interface Ptp4lResponse { sequenceId: number; source: string; sourcePortNumber: number; data: Ptp4lValue }

/** pmc's own port identity over UDS: clockIdentity zero but for the top two octets of the PID, portNumber its low 16 bits. */
export function pmcPortIdentity(pid: number): PortIdentity {
  const id = Buffer.alloc(8);
  id[6] = (pid >>> 24) & 0xff;
  id[7] = (pid >>> 16) & 0xff;
  return { clockIdentity: id, portNumber: pid & 0xffff };
}

/** A GET of one data set, to every port of every clock (target all ones), boundaryHops 0 (as `pmc -b 0`). */
export function encodeGet(id: Ptp4lDataSet, sequenceId: number, source: PortIdentity, domainNumber = 0): Buffer {
  return encodeManagement({ messageType: MSG.MANAGEMENT, domainNumber, flags: 0, sourcePortIdentity: source, sequenceId, logMessageInterval: 0x7f },
    ALL_PORTS, 0, 0, MGMT_ACTION.GET, PTP4L_IDS[id], Buffer.alloc(DATA_SET_LEN[id]));
}

const ID_BY_CODE = new Map<number, Ptp4lDataSet>(Object.entries(PTP4L_IDS).map(([k, v]) => [v, k as Ptp4lDataSet]));
const idName = (code: number) => ID_BY_CODE.get(code) ?? `0x${code.toString(16).padStart(4, '0')}`;

/** TimeInterval (ns * 2^16, signed 64-bit) in ns. */
const timeInterval = (b: Buffer, off: number) => Number(b.readBigInt64BE(off)) / 65536;
const quality = (b: Buffer, off: number): ClockQuality => ({ clockClass: b[off]!, clockAccuracy: b[off + 1]!, offsetScaledLogVariance: b.readUInt16BE(off + 2) });
const cid = (b: Buffer, off: number) => identityHex(b.subarray(off, off + 8));
const pidText = (p: PortIdentity) => `${identityHex(p.clockIdentity)}-${p.portNumber}`;

function dataSet(id: Ptp4lDataSet, d: Buffer): Ptp4lValue {
  switch (id) {
    case 'DEFAULT_DATA_SET': return {
      id, value: {
        twoStepFlag: (d[0]! & 1) !== 0, slaveOnly: (d[0]! & 2) !== 0, numberPorts: d.readUInt16BE(2), priority1: d[4]!, clockQuality: quality(d, 5),
        priority2: d[9]!, clockIdentity: cid(d, 10), domainNumber: d[18]!,
      },
    };
    case 'PORT_DATA_SET': {
      const p = readPortIdentity(d, 0);
      const code = d[10]!;
      return {
        id, value: {
          portIdentity: pidText(p), portNumber: p.portNumber,
          // pmc shows a state it does not know as NONE; so do we, keeping the number.
          portState: PORT_STATES[code] ?? 'NONE', portStateCode: code,
          logMinDelayReqInterval: d.readInt8(11), peerMeanPathDelayNs: timeInterval(d, 12), logAnnounceInterval: d.readInt8(20),
          announceReceiptTimeout: d[21]!, logSyncInterval: d.readInt8(22), delayMechanism: d[23]!, logMinPdelayReqInterval: d.readInt8(24),
          versionNumber: d[25]!,
        },
      };
    }
    case 'CURRENT_DATA_SET': return { id, value: { stepsRemoved: d.readUInt16BE(0), offsetFromMasterNs: timeInterval(d, 2), meanPathDelayNs: timeInterval(d, 10) } };
    case 'PARENT_DATA_SET': return {
      id, value: {
        parentPortIdentity: pidText(readPortIdentity(d, 0)), parentStats: d[10]! !== 0, observedParentOffsetScaledLogVariance: d.readUInt16BE(12),
        observedParentClockPhaseChangeRate: d.readInt32BE(14), grandmasterPriority1: d[18]!, grandmasterClockQuality: quality(d, 19),
        grandmasterPriority2: d[23]!, grandmasterIdentity: cid(d, 24),
      },
    };
    case 'TIME_PROPERTIES_DATA_SET': {
      const f = d[2]!;
      return {
        id, value: {
          currentUtcOffset: d.readInt16BE(0), leap61: (f & 0x01) !== 0, leap59: (f & 0x02) !== 0, currentUtcOffsetValid: (f & 0x04) !== 0,
          ptpTimescale: (f & 0x08) !== 0, timeTraceable: (f & 0x10) !== 0, frequencyTraceable: (f & 0x20) !== 0, timeSource: d[3]!,
        },
      };
    }
    case 'TIME_STATUS_NP': return {
      id, value: {
        masterOffsetNs: d.readBigInt64BE(0), ingressTimeNs: d.readBigInt64BE(8), cumulativeScaledRateOffset: d.readInt32BE(16),
        scaledLastGmPhaseChange: d.readInt32BE(20), gmTimeBaseIndicator: d.readUInt16BE(24),
        lastGmPhaseChange: `0x${d.readUInt16BE(26).toString(16).padStart(4, '0')}'${d.readBigUInt64BE(28).toString(16).padStart(16, '0')}.${d.readUInt16BE(36).toString(16).padStart(4, '0')}`,
        gmPresent: d.readInt32BE(38) !== 0, gmIdentity: cid(d, 42),
      },
    };
  }
}

/**
 * ptp4l's answer to our GET of `id` with `sequenceId`: a Management RESPONSE echoing the sequence and
 * carrying exactly that data set at exactly its length. A MANAGEMENT_ERROR_STATUS comes back as an
 * error naming the refusal. Anything else (not PTP, another message, another question's answer) is
 * an error value too; the client tells "not ours" (`/^not ours/`) from "ours but broken".
 */
export function decodeResponse(buf: Uint8Array, expect: { id: Ptp4lDataSet; sequenceId: number }): Decoded<Ptp4lResponse> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = decode(b);
  if (!m.ok) return { ok: false, error: `malformed reply (${m.reason}: ${m.detail})` };
  if (m.kind !== 'management') return { ok: false, error: `not ours: a ${m.kind} message, not a management response` };
  const h = m.header;
  if (h.sequenceId !== expect.sequenceId) return { ok: false, error: `not ours: sequenceId ${h.sequenceId}, asked ${expect.sequenceId}` };
  const mg = m.management;
  if (mg.action !== MGMT_ACTION.RESPONSE) return { ok: false, error: `not ours: actionField ${mg.action}, not RESPONSE` };
  const want = PTP4L_IDS[expect.id];
  if (mg.error) {
    if (mg.error.managementId !== want) return { ok: false, error: `not ours: an error status for ${idName(mg.error.managementId)}` };
    const e = mg.error.errorId;
    return { ok: false, error: `ptp4l refused GET ${expect.id}: ${ERROR_NAMES[e] ?? `managementErrorId 0x${e.toString(16).padStart(4, '0')}`}` };
  }
  if (mg.managementId === undefined) return { ok: false, error: `a response to GET ${expect.id} without a MANAGEMENT TLV` };
  if (mg.managementId !== want) return { ok: false, error: `not ours: a response for ${idName(mg.managementId)}` };
  const len = DATA_SET_LEN[expect.id];
  if (mg.data.length !== len) return { ok: false, error: `${expect.id} of ${mg.data.length} octets, linuxptp sends ${len}` };
  return {
    ok: true,
    value: { sequenceId: h.sequenceId, source: pidText(h.sourcePortIdentity), sourcePortNumber: h.sourcePortIdentity.portNumber, data: dataSet(expect.id, mg.data) },
  };
}
