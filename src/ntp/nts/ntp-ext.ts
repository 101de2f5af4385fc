/**
 * NTS for NTPv4 (RFC 8915 section 5), pure: reading the NTS extension fields of a request (unique
 * identifier 0x0104, cookie 0x0204, cookie placeholder 0x0304, authenticator and encrypted extension
 * fields 0x0404), checking the cookie and the authenticator, and building the authenticated reply
 * (the unique identifier echoed, fresh cookies encrypted inside the authenticator, never larger than
 * the request) or the NTS NAK (kiss code NTSN with the unique identifier). The transmit timestamp is
 * part of what is authenticated, so the reply is sealed by `seal(transmit)` at the last moment.
 */
import { randomBytes } from 'node:crypto';
import { NTP_HEADER } from '../packet.ts';
import { RandomPool, SivCache } from './siv.ts';
import { COOKIE_BYTES, type CookieKeys, type SessionKeys } from './cookies.ts';

export const EF_UNIQUE_ID = 0x0104;
export const EF_COOKIE = 0x0204;
export const EF_COOKIE_PLACEHOLDER = 0x0304;
export const EF_AUTHENTICATOR = 0x0404;

const NTS_TYPES = new Set([EF_UNIQUE_ID, EF_COOKIE, EF_COOKIE_PLACEHOLDER, EF_AUTHENTICATOR]);
/** At most this many placeholders are honoured (chronyd sends up to 7; the reply's size bounds the rest). */
const MAX_FIELDS = 32;

/** Session ciphers (C2S and S2C keys of recent clients) and nonces, shared by every request. */
const sessions = new SivCache(2048);
const pool = new RandomPool(randomBytes);

export type NtsFailure =
  | 'malformed' | 'cookie-length' | 'unknown-key' | 'undecryptable' | 'authenticator' | 'nak-suppressed';

export type NtsParse =
  | { kind: 'none' }
  | { kind: 'bad'; detail: string }
  | {
    kind: 'nts';
    /** The request's unique identifier field, whole (type, length, body and padding). */
    uidField: Buffer;
    cookie: Buffer;
    placeholders: number;
    /** Everything authenticated: the header and the fields before the authenticator. */
    associated: Buffer;
    nonce: Buffer;
    ciphertext: Buffer;
  };

/** Reads the extension fields after the 48-byte header of an NTPv4 request. */
export function parseNtsRequest(b: Buffer): NtsParse {
  let off = NTP_HEADER;
  let uid: Buffer | undefined;
  let cookie: Buffer | undefined;
  let placeholders = 0;
  let sawNts = false;
  let fields = 0;
  while (off + 4 <= b.length) {
    const type = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 2);
    if (len < 16 || len % 4 !== 0 || off + len > b.length) {
      return sawNts || NTS_TYPES.has(type) ? { kind: 'bad', detail: `extension field of length ${len} at ${off}` } : { kind: 'none' };
    }
    if (++fields > MAX_FIELDS) return { kind: 'bad', detail: `more than ${MAX_FIELDS} extension fields` };
    const body = b.subarray(off + 4, off + len);
    if (NTS_TYPES.has(type)) sawNts = true;
    switch (type) {
      case EF_UNIQUE_ID:
        if (uid) return { kind: 'bad', detail: 'two unique identifiers' };
        if (body.length < 32) return { kind: 'bad', detail: `a unique identifier of ${body.length} bytes` };
        uid = b.subarray(off, off + len);
        break;
      case EF_COOKIE:
        if (cookie) return { kind: 'bad', detail: 'two cookies' };
        cookie = body;
        break;
      case EF_COOKIE_PLACEHOLDER:
        placeholders++;
        break;
      case EF_AUTHENTICATOR: {
        if (off + len !== b.length) return { kind: 'bad', detail: 'fields after the authenticator' };
        if (!uid || !cookie) return { kind: 'bad', detail: `no ${uid ? 'cookie' : 'unique identifier'} before the authenticator` };
        if (body.length < 4) return { kind: 'bad', detail: 'a short authenticator' };
        const nl = body.readUInt16BE(0);
        const cl = body.readUInt16BE(2);
        const nPad = Math.ceil(nl / 4) * 4;
        const cPad = Math.ceil(cl / 4) * 4;
        if (4 + nPad + cPad > body.length) return { kind: 'bad', detail: `nonce ${nl} and ciphertext ${cl} bytes do not fit ${body.length}` };
        // RFC 8915 5.6: the nonce and the padding after the ciphertext at least 16 bytes together.
        if (nl < 16 && nPad + (body.length - 4 - nPad - cPad) < 16) return { kind: 'bad', detail: `a nonce of ${nl} bytes without padding` };
        if (cl < 16) return { kind: 'bad', detail: `a ciphertext of ${cl} bytes` };
        return {
          kind: 'nts', uidField: uid, cookie, placeholders, associated: b.subarray(0, off),
          nonce: body.subarray(4, 4 + nl), ciphertext: body.subarray(4 + nPad, 4 + nPad + cl),
        };
      }
      default:
        break;
    }
    off += len;
  }
  if (!sawNts) return { kind: 'none' };
  return { kind: 'bad', detail: off !== b.length ? 'trailing bytes after the extension fields' : 'no authenticator' };
}

export type NtsCheck =
  | { ok: true; keys: SessionKeys }
  | { ok: false; reason: Exclude<NtsFailure, 'malformed' | 'nak-suppressed'> };

/** Opens the cookie and checks the authenticator with its C2S key. */
export function checkNtsRequest(p: Extract<NtsParse, { kind: 'nts' }>, keys: CookieKeys): NtsCheck {
  const o = keys.open(p.cookie);
  if (!o.ok) return { ok: false, reason: o.reason === 'cookie-length' ? 'cookie-length' : o.reason };
  const plain = sessions.get(o.c2s).open(p.ciphertext, [p.associated], p.nonce);
  // Encrypted extension fields from a client are allowed; we know none, so their content is ignored.
  if (!plain) return { ok: false, reason: 'authenticator' };
  return { ok: true, keys: { c2s: o.c2s, s2c: o.s2c } };
}

function field(type: number, len: number, out: Buffer, at: number): number {
  out.writeUInt16BE(type, at);
  out.writeUInt16BE(len, at + 2);
  return at + 4;
}

/**
 * The authenticated reply: `header` (48 bytes, transmit still to be written) + the unique identifier
 * + an authenticator holding as many fresh cookies as the request had cookie and placeholders, fewer
 * if needed so the reply is no larger than the request. `seal(tx)` writes the transmit timestamp and
 * encrypts; until then the reply must not be sent.
 */
export function ntsReply(header: Buffer, p: Extract<NtsParse, { kind: 'nts' }>, s: SessionKeys, keys: CookieKeys, requestBytes: number,
  random: (n: number) => Buffer = (n) => pool.take(n)): { reply: Buffer; cookies: number; seal: (txNtp: bigint) => void } {
  const cookieField = 4 + Math.ceil(COOKIE_BYTES / 4) * 4;
  const fixed = NTP_HEADER + p.uidField.length + 4 + 4 + 16 + 16;
  let n = 1 + p.placeholders;
  while (n > 0 && fixed + n * cookieField > requestBytes) n--;
  const plain = Buffer.alloc(n * cookieField);
  for (let i = 0; i < n; i++) {
    const c = keys.make(s);
    const at = field(EF_COOKIE, cookieField, plain, i * cookieField);
    c.copy(plain, at);
  }
  const reply = Buffer.alloc(fixed + plain.length);
  header.copy(reply, 0, 0, NTP_HEADER);
  p.uidField.copy(reply, NTP_HEADER);
  const authAt = NTP_HEADER + p.uidField.length;
  let at = field(EF_AUTHENTICATOR, reply.length - authAt, reply, authAt);
  reply.writeUInt16BE(16, at);
  reply.writeUInt16BE(16 + plain.length, at + 2);
  at += 4;
  const nonceAt = at;
  const ctAt = at + 16;
  return {
    reply, cookies: n,
    seal(txNtp: bigint) {
      reply.writeBigUInt64BE(txNtp, 40);
      const nonce = random(16);
      nonce.copy(reply, nonceAt);
      sessions.get(s.s2c).seal(plain, [reply.subarray(0, authAt)], nonce).copy(reply, ctAt);
    },
  };
}
