/**
 * The datagrams a hostile host on the LAN sends (pure builders): PTP Announces, Delay_Reqs and
 * Management GETs (through the agent's own codec, so they are well formed), NTP client requests, SNMP
 * v2c requests and SNMPv3 discovery probes (hand-written BER, so any field can be what an attacker
 * wants), and garbage. A seeded generator makes every run send the same bytes.
 */
import { encodeAnnounce, encodeManagement, encodeTimed, MSG, MGMT_ACTION, MGMT_ID, ALL_PORTS, ptpTime, type PortIdentity } from '../../src/ptp/codec.ts';

/** A small seeded generator (LCG): the same seed, the same flood. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

export function garbage(r: () => number, maxLen = 160): Buffer {
  const b = Buffer.alloc(Math.floor(r() * maxLen));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** A clock identity made from a number: a distinct identity for each n. */
export function identity(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(0x02bad000 + (n >>> 24), 0);
  b.writeUInt32BE(n >>> 0, 4);
  return b;
}

const hdr = (messageType: number, source: PortIdentity, sequenceId: number, logMessageInterval = 1) =>
  ({ messageType, domainNumber: 0, flags: 0, sourcePortIdentity: source, sequenceId, logMessageInterval });

/** An Announce from grandmaster `id`, with a data set better than any real grandmaster's: priority1 0,
 * clockClass 6, clockAccuracy 0x20 (25 ns), a tiny variance. */
export function announce(id: Buffer, seq: number): Buffer {
  return encodeAnnounce(hdr(MSG.ANNOUNCE, { clockIdentity: id, portNumber: 1 }, seq), {
    originTimestamp: ptpTime(0n), currentUtcOffset: 37, grandmasterPriority1: 0,
    grandmasterClockQuality: { clockClass: 6, clockAccuracy: 0x20, offsetScaledLogVariance: 0x4000 }, grandmasterPriority2: 0,
    grandmasterIdentity: id, stepsRemoved: 0, timeSource: 0x20,
  });
}

export function delayReq(id: Buffer, port: number, seq: number): Buffer {
  return encodeTimed(hdr(MSG.DELAY_REQ, { clockIdentity: id, portNumber: port }, seq, 0x7f), ptpTime(0n));
}

/** A Management GET of DEFAULT_DATA_SET to all clocks and ports (what pmc sends). */
export function managementGet(id: Buffer, seq: number, managementId: number = MGMT_ID.DEFAULT_DATA_SET): Buffer {
  return encodeManagement(hdr(MSG.MANAGEMENT, { clockIdentity: id, portNumber: 1 }, seq, 0x7f), ALL_PORTS, 1, 1, MGMT_ACTION.GET, managementId, Buffer.alloc(0));
}

/** An NTPv4 client request whose transmit timestamp carries `tag` (so a reply can be matched). */
export function ntpRequest(tag: bigint): Buffer {
  const b = Buffer.alloc(48);
  b[0] = 0x23; // LI 0, version 4, mode 3
  b.writeBigUInt64BE(tag, 40);
  return b;
}

// --- BER, as much as SNMP needs ---

function berLen(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}
export const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const c = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), berLen(c.length), c]);
};
export function berInt(v: number): Buffer {
  const out: number[] = [];
  let x = v;
  do {
    out.unshift(x & 0xff);
    x = Math.floor(x / 256);
  } while (x !== 0 && x !== -1);
  if (v >= 0 && out[0]! & 0x80) out.unshift(0);
  if (v < 0 && !(out[0]! & 0x80)) out.unshift(0xff);
  return tlv(0x02, Buffer.from(out));
}
export const berOctets = (s: string | Buffer): Buffer => tlv(0x04, typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
export function berOid(oid: string): Buffer {
  const p = oid.split('.').map(Number);
  const out: number[] = [p[0]! * 40 + (p[1] ?? 0)];
  for (const n of p.slice(2)) {
    const bytes = [n & 0x7f];
    for (let x = n >>> 7; x > 0; x >>>= 7) bytes.unshift((x & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(0x06, Buffer.from(out));
}
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const NULL = Buffer.from([0x05, 0x00]);

export const PDU = { GET: 0xa0, GETNEXT: 0xa1, GETBULK: 0xa5 } as const;

/** A v2c request: GET, GETNEXT (a, b: error status and index, zero) or GETBULK (a: nonRepeaters, b:
 * maxRepetitions), one varbind (with a NULL value) per OID. */
export function snmpV2c(community: string, pdu: number, requestId: number, oids: string[], a = 0, b = 0): Buffer {
  return seq(berInt(1), berOctets(community), tlv(pdu, berInt(requestId), berInt(a), berInt(b), seq(...oids.map((o) => seq(berOid(o), NULL)))));
}

/** The first message of every SNMPv3 exchange (RFC 3414 4): no engine ID, no user, reportable, an
 * empty GET; the agent answers with a Report carrying its engine ID, boots and time. */
export function snmpV3Discovery(msgId: number): Buffer {
  const usm = seq(berOctets(''), berInt(0), berInt(0), berOctets(''), berOctets(''), berOctets(''));
  return seq(berInt(3), seq(berInt(msgId), berInt(65507), berOctets(Buffer.from([0x04])), berInt(3)), berOctets(usm),
    seq(berOctets(''), berOctets(''), tlv(PDU.GET, berInt(msgId), berInt(0), berInt(0), seq())));
}
