/**
 * An NTS client for tests and benches: the key exchange over node:tls (TLS 1.3, ALPN ntske/1) and
 * NTS-protected NTP requests (unique identifier, cookie, placeholders, authenticator), and the reading
 * of replies. Written from RFC 8915, independently of the server's own NTP-side code.
 */
import { connect, type ConnectionOptions } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { encodeKeRequest, parseKeMessage, readKeResponse, RESPONSE_LIMITS, type KeClientResult } from '../../src/ntp/nts/ke-codec.ts';
import { exportNtsKeys, NTS_ALPN } from '../../src/ntp/nts/ke-server.ts';
import { AesSivCmac256 } from '../../src/ntp/nts/siv.ts';
import { encodeHeader, NTP_HEADER } from '../../src/ntp/packet.ts';

export interface KeResult {
  response: KeClientResult;
  c2s: Buffer;
  s2c: Buffer;
  raw: Buffer;
  fingerprint: string;
}

/** One key exchange. Rejects on a TLS failure or when the server closes before End of Message. */
export function ntsKe(port: number, ca: Buffer | undefined, o: { host?: string; request?: Buffer; tls?: Partial<ConnectionOptions> } = {}): Promise<KeResult> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: o.host ?? '127.0.0.1', port, servername: 'localhost', ...(ca ? { ca } : {}), ALPNProtocols: [NTS_ALPN],
      minVersion: 'TLSv1.3', ...o.tls,
    }, () => {
      s.write(o.request ?? encodeKeRequest());
    });
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const p = parseKeMessage(buf, RESPONSE_LIMITS);
      if (!p.ok) {
        s.destroy();
        reject(new Error(`bad response: ${p.reason}`));
      } else if (p.complete) {
        const keys = exportNtsKeys(s);
        const fingerprint = s.getPeerX509Certificate()?.fingerprint256 ?? '';
        s.end();
        resolve({ response: readKeResponse(p.records), ...keys, raw: buf, fingerprint });
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed before End of Message (${buf.length} bytes)`)));
  });
}

export function extField(type: number, body: Buffer): Buffer {
  const len = Math.max(16, Math.ceil((4 + body.length) / 4) * 4);
  const b = Buffer.alloc(len);
  b.writeUInt16BE(type, 0);
  b.writeUInt16BE(len, 2);
  body.copy(b, 4);
  return b;
}

export interface NtsRequest {
  packet: Buffer;
  uid: Buffer;
  transmit: bigint;
}

/** An NTS-protected client request: one cookie, `placeholders` placeholders, authenticated with C2S. */
export function ntsRequest(cookie: Buffer, c2s: Buffer, placeholders = 0, o: { nonceBytes?: number; transmit?: bigint; random?: (n: number) => Buffer } = {}): NtsRequest {
  const random = o.random ?? randomBytes;
  const header = Buffer.alloc(NTP_HEADER);
  const transmit = o.transmit ?? random(8).readBigUInt64BE(0);
  encodeHeader({ li: 0, version: 4, mode: 3, stratum: 0, poll: 4, precision: -20, rootDelay: 0, rootDispersion: 0, refId: 0, refTime: 0n, origin: 0n, receive: 0n, transmit }, header);
  const uid = random(32);
  const fields = [extField(0x0104, uid), extField(0x0204, cookie)];
  for (let i = 0; i < placeholders; i++) fields.push(extField(0x0304, Buffer.alloc(cookie.length)));
  const ad = Buffer.concat([header, ...fields]);
  const nonce = random(o.nonceBytes ?? 16);
  const ct = new AesSivCmac256(c2s).seal(Buffer.alloc(0), [ad], nonce);
  const pad4 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const body = Buffer.alloc(4);
  body.writeUInt16BE(nonce.length, 0);
  body.writeUInt16BE(ct.length, 2);
  const auth = extField(0x0404, Buffer.concat([body, pad4(nonce), pad4(ct)]));
  return { packet: Buffer.concat([ad, auth]), uid, transmit };
}

export interface NtsReply {
  stratum: number;
  refId: string;
  origin: bigint;
  uid: Buffer | undefined;
  authenticated: boolean;
  cookies: Buffer[];
  /** Extension field types in order, outside the authenticator. */
  types: number[];
}

/** Reads a reply: the unique identifier, and with S2C the cookies inside the authenticator. */
export function readNtsReply(b: Buffer, s2c: Buffer | undefined): NtsReply {
  const out: NtsReply = {
    stratum: b[1]!, refId: b.subarray(12, 16).toString('latin1').replace(/\0+$/, ''), origin: b.readBigUInt64BE(24),
    uid: undefined, authenticated: false, cookies: [], types: [],
  };
  let off = NTP_HEADER;
  while (off + 4 <= b.length) {
    const type = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 2);
    if (len < 4 || off + len > b.length) break;
    const body = b.subarray(off + 4, off + len);
    out.types.push(type);
    if (type === 0x0104) out.uid = Buffer.from(body);
    if (type === 0x0404 && s2c) {
      const nl = body.readUInt16BE(0);
      const cl = body.readUInt16BE(2);
      const nonce = body.subarray(4, 4 + nl);
      const ctOff = 4 + Math.ceil(nl / 4) * 4;
      const ct = body.subarray(ctOff, ctOff + cl);
      const p = new AesSivCmac256(s2c).open(ct, [b.subarray(0, off)], nonce);
      if (p) {
        out.authenticated = true;
        let q = 0;
        while (q + 4 <= p.length) {
          const t = p.readUInt16BE(q);
          const l = p.readUInt16BE(q + 2);
          if (l < 4 || q + l > p.length) break;
          if (t === 0x0204) out.cookies.push(Buffer.from(p.subarray(q + 4, q + l)));
          q += l;
        }
      }
    }
    off += len;
  }
  return out;
}
