/**
 * IEEE 1588-2008 (PTPv2) messages (pure): the common header, Sync, Delay_Req, Follow_Up, Delay_Resp,
 * Announce and Management with the data sets pmc asks for. Decoding never throws: anything malformed
 * or foreign comes back classified, so a hostile packet costs a counter and nothing else.
 */

export const MSG = {
  SYNC: 0x0, DELAY_REQ: 0x1, PDELAY_REQ: 0x2, PDELAY_RESP: 0x3, FOLLOW_UP: 0x8, DELAY_RESP: 0x9,
  PDELAY_RESP_FOLLOW_UP: 0xa, ANNOUNCE: 0xb, SIGNALING: 0xc, MANAGEMENT: 0xd,
} as const;
export const MSG_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MSG).map(([k, v]) => [v, k.toLowerCase()]));

const CONTROL: Record<number, number> = { [MSG.SYNC]: 0, [MSG.DELAY_REQ]: 1, [MSG.FOLLOW_UP]: 2, [MSG.DELAY_RESP]: 3, [MSG.MANAGEMENT]: 4 };

export const HEADER_LEN = 34;
/** Lengths of the messages we decode (the body after the header included). */
const MIN_LEN: Record<number, number> = {
  [MSG.SYNC]: 44, [MSG.DELAY_REQ]: 44, [MSG.FOLLOW_UP]: 44, [MSG.DELAY_RESP]: 54, [MSG.ANNOUNCE]: 64, [MSG.MANAGEMENT]: 48,
  [MSG.PDELAY_REQ]: 54, [MSG.PDELAY_RESP]: 54, [MSG.PDELAY_RESP_FOLLOW_UP]: 54, [MSG.SIGNALING]: 44,
};

/** flagField, first octet */
export const FLAG_TWO_STEP = 0x0200;
export const FLAG_UNICAST = 0x0400;
/** flagField, second octet */
export const FLAG_LEAP61 = 0x0001;
export const FLAG_LEAP59 = 0x0002;
export const FLAG_UTC_OFFSET_VALID = 0x0004;
export const FLAG_PTP_TIMESCALE = 0x0008;
export const FLAG_TIME_TRACEABLE = 0x0010;
export const FLAG_FREQ_TRACEABLE = 0x0020;

export const TIME_SOURCE_GNSS = 0x20;
export const TIME_SOURCE_INTERNAL_OSCILLATOR = 0xa0;

export interface PortIdentity {
  clockIdentity: Buffer; // 8 octets
  portNumber: number;
}

/** A PTP timestamp: 48-bit seconds and 32-bit nanoseconds. */
export interface PtpTime {
  seconds: bigint;
  nanoseconds: number;
}

export interface Header {
  transportSpecific: number;
  messageType: number;
  version: number;
  messageLength: number;
  domainNumber: number;
  flags: number;
  /** correctionField in ns * 2^16 */
  correction: bigint;
  sourcePortIdentity: PortIdentity;
  sequenceId: number;
  control: number;
  logMessageInterval: number;
}

export interface ClockQuality {
  clockClass: number;
  clockAccuracy: number;
  offsetScaledLogVariance: number;
}

export interface AnnounceBody {
  originTimestamp: PtpTime;
  currentUtcOffset: number;
  grandmasterPriority1: number;
  grandmasterClockQuality: ClockQuality;
  grandmasterPriority2: number;
  grandmasterIdentity: Buffer;
  stepsRemoved: number;
  timeSource: number;
}

export interface ManagementBody {
  targetPortIdentity: PortIdentity;
  startingBoundaryHops: number;
  boundaryHops: number;
  action: number;
  /** undefined when the message carries no (or no MANAGEMENT) TLV */
  managementId: number | undefined;
  data: Buffer;
  /** A MANAGEMENT_ERROR_STATUS TLV (managementId stays undefined): its managementErrorId and the
   * managementId it refuses. */
  error?: { errorId: number; managementId: number };
}

export type Decoded =
  | { ok: true; header: Header; kind: 'sync' | 'delay_req' | 'follow_up'; timestamp: PtpTime }
  | { ok: true; header: Header; kind: 'delay_resp'; timestamp: PtpTime; requestingPortIdentity: PortIdentity }
  | { ok: true; header: Header; kind: 'announce'; announce: AnnounceBody }
  | { ok: true; header: Header; kind: 'management'; management: ManagementBody }
  | { ok: true; header: Header; kind: 'other' }
  | { ok: false; reason: 'short' | 'version' | 'length' | 'type' | 'tlv'; detail: string };

export const MGMT_ACTION = { GET: 0, SET: 1, RESPONSE: 2, COMMAND: 3, ACKNOWLEDGE: 4 } as const;
export const MGMT_ID = {
  NULL_MANAGEMENT: 0x0000, CLOCK_DESCRIPTION: 0x0001, DEFAULT_DATA_SET: 0x2000, CURRENT_DATA_SET: 0x2001, PARENT_DATA_SET: 0x2002,
  TIME_PROPERTIES_DATA_SET: 0x2003, PORT_DATA_SET: 0x2004,
} as const;
/** linuxptp's own management ID (the implementation-specific range): the servo's view of the master. */
export const MGMT_ID_TIME_STATUS_NP = 0xc000;
export const TLV_MANAGEMENT = 0x0001;
export const TLV_MANAGEMENT_ERROR_STATUS = 0x0002;
export const MGMT_ERROR = { NO_SUCH_ID: 0x0002, NOT_SUPPORTED: 0x0006 } as const;

export const ALL_PORTS: PortIdentity = { clockIdentity: Buffer.alloc(8, 0xff), portNumber: 0xffff };

export function readPortIdentity(b: Buffer, off: number): PortIdentity {
  return { clockIdentity: Buffer.from(b.subarray(off, off + 8)), portNumber: b.readUInt16BE(off + 8) };
}

export function writePortIdentity(b: Buffer, off: number, p: PortIdentity): void {
  p.clockIdentity.copy(b, off, 0, 8);
  b.writeUInt16BE(p.portNumber, off + 8);
}

export function readTimestamp(b: Buffer, off: number): PtpTime {
  return { seconds: (BigInt(b.readUInt16BE(off)) << 32n) | BigInt(b.readUInt32BE(off + 2)), nanoseconds: b.readUInt32BE(off + 6) };
}

export function writeTimestamp(b: Buffer, off: number, t: PtpTime): void {
  b.writeUInt16BE(Number((t.seconds >> 32n) & 0xffffn), off);
  b.writeUInt32BE(Number(t.seconds & 0xffffffffn), off + 2);
  b.writeUInt32BE(t.nanoseconds, off + 6);
}

export function decode(b: Buffer): Decoded {
  if (b.length < HEADER_LEN) return { ok: false, reason: 'short', detail: `${b.length} octets, a header needs ${HEADER_LEN}` };
  const version = b[1]! & 0x0f;
  if (version !== 2) return { ok: false, reason: 'version', detail: `versionPTP ${version}` };
  const messageType = b[0]! & 0x0f;
  const messageLength = b.readUInt16BE(2);
  if (messageLength > b.length || messageLength < HEADER_LEN) return { ok: false, reason: 'length', detail: `messageLength ${messageLength} in a ${b.length}-octet datagram` };
  const min = MIN_LEN[messageType];
  if (min === undefined) return { ok: false, reason: 'type', detail: `messageType ${messageType}` };
  if (messageLength < min) return { ok: false, reason: 'length', detail: `${MSG_NAMES[messageType]} of ${messageLength} octets, needs ${min}` };
  const header: Header = {
    transportSpecific: b[0]! >> 4, messageType, version, messageLength, domainNumber: b[4]!, flags: b.readUInt16BE(6),
    correction: b.readBigInt64BE(8), sourcePortIdentity: readPortIdentity(b, 20), sequenceId: b.readUInt16BE(30),
    control: b[32]!, logMessageInterval: b.readInt8(33),
  };
  switch (messageType) {
    case MSG.SYNC: return { ok: true, header, kind: 'sync', timestamp: readTimestamp(b, 34) };
    case MSG.DELAY_REQ: return { ok: true, header, kind: 'delay_req', timestamp: readTimestamp(b, 34) };
    case MSG.FOLLOW_UP: return { ok: true, header, kind: 'follow_up', timestamp: readTimestamp(b, 34) };
    case MSG.DELAY_RESP: return { ok: true, header, kind: 'delay_resp', timestamp: readTimestamp(b, 34), requestingPortIdentity: readPortIdentity(b, 44) };
    case MSG.ANNOUNCE: return {
      ok: true, header, kind: 'announce', announce: {
        originTimestamp: readTimestamp(b, 34), currentUtcOffset: b.readInt16BE(44), grandmasterPriority1: b[47]!,
        grandmasterClockQuality: { clockClass: b[48]!, clockAccuracy: b[49]!, offsetScaledLogVariance: b.readUInt16BE(50) },
        grandmasterPriority2: b[52]!, grandmasterIdentity: Buffer.from(b.subarray(53, 61)), stepsRemoved: b.readUInt16BE(61), timeSource: b[63]!,
      },
    };
    case MSG.MANAGEMENT: {
      const m: ManagementBody = {
        targetPortIdentity: readPortIdentity(b, 34), startingBoundaryHops: b[44]!, boundaryHops: b[45]!, action: b[46]! & 0x0f,
        managementId: undefined, data: Buffer.alloc(0),
      };
      if (messageLength >= 54) {
        const type = b.readUInt16BE(48);
        const len = b.readUInt16BE(50);
        if (52 + len > messageLength || len < 2) return { ok: false, reason: 'tlv', detail: `TLV length ${len} past the message end` };
        if (type === TLV_MANAGEMENT) {
          m.managementId = b.readUInt16BE(52);
          m.data = Buffer.from(b.subarray(54, 52 + len));
        } else if (type === TLV_MANAGEMENT_ERROR_STATUS && len >= 8) {
          m.error = { errorId: b.readUInt16BE(52), managementId: b.readUInt16BE(54) };
        }
      }
      return { ok: true, header, kind: 'management', management: m };
    }
    default: return { ok: true, header, kind: 'other' };
  }
}

export interface HeaderFields {
  messageType: number;
  domainNumber: number;
  flags: number;
  sourcePortIdentity: PortIdentity;
  sequenceId: number;
  logMessageInterval: number;
  correction?: bigint;
  transportSpecific?: number;
}

function header(length: number, h: HeaderFields): Buffer {
  const b = Buffer.alloc(length);
  b[0] = ((h.transportSpecific ?? 0) << 4) | h.messageType;
  b[1] = 2;
  b.writeUInt16BE(length, 2);
  b[4] = h.domainNumber;
  b.writeUInt16BE(h.flags, 6);
  b.writeBigInt64BE(h.correction ?? 0n, 8);
  writePortIdentity(b, 20, h.sourcePortIdentity);
  b.writeUInt16BE(h.sequenceId & 0xffff, 30);
  b[32] = CONTROL[h.messageType] ?? 5;
  b.writeInt8(h.logMessageInterval, 33);
  return b;
}

/** Sync, Delay_Req or Follow_Up: the header and one timestamp. */
export function encodeTimed(h: HeaderFields, t: PtpTime): Buffer {
  const b = header(44, h);
  writeTimestamp(b, 34, t);
  return b;
}

export function encodeDelayResp(h: HeaderFields, receiveTimestamp: PtpTime, requesting: PortIdentity): Buffer {
  const b = header(54, { ...h, messageType: MSG.DELAY_RESP });
  writeTimestamp(b, 34, receiveTimestamp);
  writePortIdentity(b, 44, requesting);
  return b;
}

export function encodeAnnounce(h: HeaderFields, a: AnnounceBody): Buffer {
  const b = header(64, { ...h, messageType: MSG.ANNOUNCE });
  writeTimestamp(b, 34, a.originTimestamp);
  b.writeInt16BE(a.currentUtcOffset, 44);
  b[47] = a.grandmasterPriority1;
  b[48] = a.grandmasterClockQuality.clockClass;
  b[49] = a.grandmasterClockQuality.clockAccuracy;
  b.writeUInt16BE(a.grandmasterClockQuality.offsetScaledLogVariance, 50);
  b[52] = a.grandmasterPriority2;
  a.grandmasterIdentity.copy(b, 53, 0, 8);
  b.writeUInt16BE(a.stepsRemoved, 61);
  b[63] = a.timeSource;
  return b;
}

/** A Management message with one TLV (MANAGEMENT, or MANAGEMENT_ERROR_STATUS when `error` is set). */
export function encodeManagement(h: HeaderFields, target: PortIdentity, startingBoundaryHops: number, boundaryHops: number, action: number,
  managementId: number, data: Buffer, error?: number): Buffer {
  const padded = data.length % 2 ? Buffer.concat([data, Buffer.alloc(1)]) : data;
  const tlvLen = error !== undefined ? 8 : 2 + padded.length;
  const b = header(48 + 4 + tlvLen, { ...h, messageType: MSG.MANAGEMENT });
  writePortIdentity(b, 34, target);
  b[44] = startingBoundaryHops;
  b[45] = boundaryHops;
  b[46] = action & 0x0f;
  if (error !== undefined) {
    b.writeUInt16BE(TLV_MANAGEMENT_ERROR_STATUS, 48);
    b.writeUInt16BE(tlvLen, 50);
    b.writeUInt16BE(error, 52);
    b.writeUInt16BE(managementId, 54);
  } else {
    b.writeUInt16BE(TLV_MANAGEMENT, 48);
    b.writeUInt16BE(tlvLen, 50);
    b.writeUInt16BE(managementId, 52);
    padded.copy(b, 54);
  }
  return b;
}

/** EUI-64 clockIdentity from a 48-bit MAC (IEEE 1588-2008 7.5.2.2.2: OUI, FF FE, the rest). */
export function clockIdentityFromMac(mac: string): Buffer {
  const m = mac.split(':').map((x) => parseInt(x, 16));
  if (m.length !== 6 || m.some((x) => !(x >= 0 && x <= 255))) throw new Error(`not a MAC address: ${mac}`);
  return Buffer.from([m[0]!, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!]);
}

export const identityHex = (id: Buffer) => [...id].map((x) => x.toString(16).padStart(2, '0')).join('').replace(/^(.{6})(.{4})(.{6})$/, '$1.$2.$3');

/** Nanoseconds since the PTP epoch (TAI) as a PTP timestamp. */
export function ptpTime(taiNs: bigint): PtpTime {
  const s = taiNs / 1_000_000_000n;
  return { seconds: s, nanoseconds: Number(taiNs - s * 1_000_000_000n) };
}

export const ptpTimeNs = (t: PtpTime): bigint => t.seconds * 1_000_000_000n + BigInt(t.nanoseconds);
