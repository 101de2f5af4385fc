/**
 * NTP packet codec (pure), RFC 5905 with versions 1-4: the 48-byte header, 32.32 timestamps kept as
 * raw 64-bit values (so origin timestamps are echoed bit for bit), extension fields (RFC 7822) walked
 * and skipped safely, and a MAC recognised. Every malformed packet is classified, never thrown.
 */

export const NTP_HEADER = 48;

export interface NtpHeader {
  li: number;
  version: number;
  mode: number;
  stratum: number;
  poll: number;
  precision: number;
  rootDelay: number; // raw 16.16
  rootDispersion: number; // raw 16.16
  refId: number; // raw 32 bits
  refTime: bigint;
  origin: bigint;
  receive: bigint;
  transmit: bigint;
}

export type Malformed = 'short' | 'version' | 'extension' | 'length';

export type Decoded =
  | { ok: true; header: NtpHeader; extensionFields: number; mac: 'none' | 'key' | 'crypto-nak' }
  | { ok: false; reason: Malformed; detail: string };

export function decodePacket(b: Uint8Array): Decoded {
  if (b.length < NTP_HEADER) return { ok: false, reason: 'short', detail: `${b.length} bytes` };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const first = b[0]!;
  const version = (first >> 3) & 7;
  if (version < 1 || version > 4) return { ok: false, reason: 'version', detail: `version ${version}` };
  const header: NtpHeader = {
    li: first >> 6, version, mode: first & 7, stratum: b[1]!, poll: dv.getInt8(2), precision: dv.getInt8(3),
    rootDelay: dv.getUint32(4), rootDispersion: dv.getUint32(8), refId: dv.getUint32(12),
    refTime: dv.getBigUint64(16), origin: dv.getBigUint64(24), receive: dv.getBigUint64(32), transmit: dv.getBigUint64(40),
  };
  // What follows the header: extension fields (v4), then an optional MAC (4-byte crypto-NAK, or a key
  // ID and a 16- or 20-byte digest).
  let off = NTP_HEADER;
  let fields = 0;
  const rest = () => b.length - off;
  if (rest() > 0 && version === 4) {
    while (rest() > 24) {
      const len = dv.getUint16(off + 2);
      if (len < 16 || len % 4 !== 0 || len > rest()) {
        return { ok: false, reason: 'extension', detail: `extension field of length ${len} at ${off}` };
      }
      off += len;
      fields++;
      if (fields > 32) return { ok: false, reason: 'extension', detail: 'more than 32 extension fields' };
    }
  }
  const r = rest();
  if (r === 0) return { ok: true, header, extensionFields: fields, mac: 'none' };
  if (r === 4) return { ok: true, header, extensionFields: fields, mac: 'crypto-nak' };
  if (r === 20 || r === 24) return { ok: true, header, extensionFields: fields, mac: 'key' };
  return { ok: false, reason: 'length', detail: `${r} bytes after the header and extension fields` };
}

/** Writes a 48-byte header into `out` (which may be longer). */
export function encodeHeader(h: NtpHeader, out: Uint8Array): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[0] = ((h.li & 3) << 6) | ((h.version & 7) << 3) | (h.mode & 7);
  out[1] = h.stratum & 0xff;
  dv.setInt8(2, h.poll);
  dv.setInt8(3, h.precision);
  dv.setUint32(4, h.rootDelay >>> 0);
  dv.setUint32(8, h.rootDispersion >>> 0);
  dv.setUint32(12, h.refId >>> 0);
  dv.setBigUint64(16, h.refTime);
  dv.setBigUint64(24, h.origin);
  dv.setBigUint64(32, h.receive);
  dv.setBigUint64(40, h.transmit);
}

/** Four ASCII characters (a reference id or kiss code) as the 32-bit field. */
export function refIdFromAscii(s: string): number {
  const p = (s + '\0\0\0\0').slice(0, 4);
  return ((p.charCodeAt(0) << 24) | (p.charCodeAt(1) << 16) | (p.charCodeAt(2) << 8) | p.charCodeAt(3)) >>> 0;
}

export function refIdToAscii(v: number): string {
  return String.fromCharCode((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff).replace(/\0+$/, '');
}
