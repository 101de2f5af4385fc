/**
 * NTS-KE records (RFC 8915 section 4), pure: the record framing (critical bit, 15-bit type, 16-bit body
 * length), a bounded parser that says whether a message is complete, the server's reading of a
 * request, and the encoders. Malformed input is an error value with a reason, never an exception.
 */

export const KE_END = 0;
export const KE_NEXT_PROTOCOL = 1;
export const KE_ERROR = 2;
export const KE_WARNING = 3;
export const KE_AEAD = 4;
export const KE_NEW_COOKIE = 5;
export const KE_SERVER = 6;
export const KE_PORT = 7;

/** Next protocol 0: NTPv4. AEAD 15: AEAD_AES_SIV_CMAC_256. */
export const PROTOCOL_NTPV4 = 0;
export const AEAD_AES_SIV_CMAC_256 = 15;

/** Error codes (RFC 8915 section 4.1.3). */
export const KE_ERR_UNRECOGNIZED_CRITICAL = 0;
export const KE_ERR_BAD_REQUEST = 1;
export const KE_ERR_INTERNAL = 2;

export interface KeRecord {
  critical: boolean;
  type: number;
  body: Buffer;
}

export interface KeLimits {
  /** Most bytes a message may have. */
  maxBytes: number;
  /** Most records a message may have. */
  maxRecords: number;
}

/** A request is tiny (chronyd's is 16 bytes); a response carries eight cookies of about 100 bytes. */
export const REQUEST_LIMITS: KeLimits = { maxBytes: 1024, maxRecords: 32 };
export const RESPONSE_LIMITS: KeLimits = { maxBytes: 16384, maxRecords: 64 };

export type KeParse =
  | { ok: true; complete: true; records: KeRecord[]; length: number }
  | { ok: true; complete: false }
  | { ok: false; reason: 'too-long' | 'too-many-records' | 'end-not-critical' | 'end-with-body'; detail: string };

/**
 * Reads records from the start of `b` up to and including End of Message. Incomplete (no End yet, all
 * within the limits) asks for more bytes. Bytes after End of Message are not looked at (`length` is
 * where the message ended).
 */
export function parseKeMessage(b: Uint8Array, limits: KeLimits): KeParse {
  const records: KeRecord[] = [];
  let off = 0;
  for (;;) {
    if (off + 4 > b.length) break;
    const word = (b[off]! << 8) | b[off + 1]!;
    const len = (b[off + 2]! << 8) | b[off + 3]!;
    if (off + 4 + len > limits.maxBytes) return { ok: false, reason: 'too-long', detail: `a record of ${len} bytes at ${off} passes the ${limits.maxBytes}-byte limit` };
    if (off + 4 + len > b.length) break;
    const rec: KeRecord = { critical: (word & 0x8000) !== 0, type: word & 0x7fff, body: Buffer.from(b.subarray(off + 4, off + 4 + len)) };
    off += 4 + len;
    records.push(rec);
    if (rec.type === KE_END) {
      if (!rec.critical) return { ok: false, reason: 'end-not-critical', detail: 'End of Message without its critical bit' };
      if (len !== 0) return { ok: false, reason: 'end-with-body', detail: `End of Message with a ${len}-byte body` };
      return { ok: true, complete: true, records, length: off };
    }
    if (records.length >= limits.maxRecords) return { ok: false, reason: 'too-many-records', detail: `more than ${limits.maxRecords} records without End of Message` };
  }
  if (b.length >= limits.maxBytes) return { ok: false, reason: 'too-long', detail: `${b.length} bytes without End of Message (limit ${limits.maxBytes})` };
  return { ok: true, complete: false };
}

function u16list(body: Buffer): number[] | undefined {
  if (body.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < body.length; i += 2) out.push(body.readUInt16BE(i));
  return out;
}

export type KeRequest =
  | { ok: true; protocols: number[]; aeads: number[] }
  | { ok: false; error: number; reason: 'unrecognized-critical' | 'bad-request'; detail: string };

/** The server's reading of a complete request (RFC 8915 section 4.1). */
export function readKeRequest(records: readonly KeRecord[]): KeRequest {
  let protocols: number[] | undefined;
  let aeads: number[] | undefined;
  const bad = (detail: string): KeRequest => ({ ok: false, error: KE_ERR_BAD_REQUEST, reason: 'bad-request', detail });
  for (const r of records) {
    switch (r.type) {
      case KE_END:
        break;
      case KE_NEXT_PROTOCOL: {
        if (protocols) return bad('more than one Next Protocol Negotiation record');
        const l = u16list(r.body);
        if (!l) return bad('a Next Protocol Negotiation body of odd length');
        protocols = l;
        break;
      }
      case KE_AEAD: {
        if (aeads) return bad('more than one AEAD Algorithm Negotiation record');
        const l = u16list(r.body);
        if (!l) return bad('an AEAD Algorithm Negotiation body of odd length');
        aeads = l;
        break;
      }
      case KE_ERROR:
      case KE_WARNING:
      case KE_NEW_COOKIE:
        return bad(`record type ${r.type}, which only a server sends`);
      case KE_SERVER:
      case KE_PORT:
        // A client's preference of NTP server or port: allowed, and we keep our own.
        if (r.type === KE_PORT && r.body.length !== 2) return bad(`a Port Negotiation body of ${r.body.length} bytes`);
        break;
      default:
        if (r.critical) return { ok: false, error: KE_ERR_UNRECOGNIZED_CRITICAL, reason: 'unrecognized-critical', detail: `critical record of unknown type ${r.type}` };
    }
  }
  if (!protocols) return bad('no Next Protocol Negotiation record');
  return { ok: true, protocols, aeads: aeads ?? [] };
}

export function encodeRecord(type: number, critical: boolean, body: Uint8Array = Buffer.alloc(0)): Buffer {
  if (type < 0 || type > 0x7fff) throw new RangeError(`record type ${type}`);
  if (body.length > 0xffff) throw new RangeError(`record body of ${body.length} bytes`);
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt16BE((critical ? 0x8000 : 0) | type, 0);
  b.writeUInt16BE(body.length, 2);
  b.set(body, 4);
  return b;
}

const u16s = (xs: readonly number[]) => {
  const b = Buffer.alloc(xs.length * 2);
  xs.forEach((x, i) => b.writeUInt16BE(x, i * 2));
  return b;
};

export interface KeResponse {
  /** The protocols agreed: [0] or [] (none of the client's). */
  protocols: number[];
  /** The AEAD agreed: [15] or [] (none of the client's). */
  aeads: number[];
  cookies: Buffer[];
  /** The NTP server's name or address clients should use, if not this one. */
  server?: string;
  /** The NTP port, if not 123. */
  port?: number;
}

export function encodeKeResponse(r: KeResponse): Buffer {
  const parts = [encodeRecord(KE_NEXT_PROTOCOL, true, u16s(r.protocols))];
  if (r.protocols.length > 0) {
    parts.push(encodeRecord(KE_AEAD, true, u16s(r.aeads)));
    if (r.aeads.length > 0) {
      if (r.server) parts.push(encodeRecord(KE_SERVER, true, Buffer.from(r.server, 'ascii')));
      if (r.port !== undefined) parts.push(encodeRecord(KE_PORT, true, u16s([r.port])));
      for (const c of r.cookies) parts.push(encodeRecord(KE_NEW_COOKIE, false, c));
    }
  }
  parts.push(encodeRecord(KE_END, true));
  return Buffer.concat(parts);
}

export function encodeKeError(code: number): Buffer {
  return Buffer.concat([encodeRecord(KE_ERROR, true, u16s([code])), encodeRecord(KE_END, true)]);
}

/** A client's request (tests and the load generator): NTPv4, AES-SIV-CMAC-256. */
export function encodeKeRequest(protocols = [PROTOCOL_NTPV4], aeads = [AEAD_AES_SIV_CMAC_256]): Buffer {
  return Buffer.concat([
    encodeRecord(KE_NEXT_PROTOCOL, true, u16s(protocols)),
    encodeRecord(KE_AEAD, true, u16s(aeads)),
    encodeRecord(KE_END, true),
  ]);
}

export type KeClientResult =
  | { ok: true; protocols: number[]; aeads: number[]; cookies: Buffer[]; server?: string; port?: number; warnings: number[] }
  | { ok: false; detail: string };

/** A client's reading of a complete response (tests and the load generator). */
export function readKeResponse(records: readonly KeRecord[]): KeClientResult {
  const out = { protocols: [] as number[], aeads: [] as number[], cookies: [] as Buffer[], warnings: [] as number[] } as Extract<KeClientResult, { ok: true }>;
  for (const r of records) {
    if (r.type === KE_ERROR) return { ok: false, detail: `error ${r.body.length === 2 ? r.body.readUInt16BE(0) : '?'}` };
    if (r.type === KE_WARNING && r.body.length === 2) out.warnings.push(r.body.readUInt16BE(0));
    else if (r.type === KE_NEXT_PROTOCOL) out.protocols = u16list(r.body) ?? [];
    else if (r.type === KE_AEAD) out.aeads = u16list(r.body) ?? [];
    else if (r.type === KE_NEW_COOKIE) out.cookies.push(r.body);
    else if (r.type === KE_SERVER) out.server = r.body.toString('ascii');
    else if (r.type === KE_PORT && r.body.length === 2) out.port = r.body.readUInt16BE(0);
    else if (r.type !== KE_END && r.critical) return { ok: false, detail: `critical record of unknown type ${r.type}` };
  }
  return { ...out, ok: true };
}

export type KeAnswer =
  | { response: Buffer; outcome: 'cookies'; cookies: number }
  | { response: Buffer; outcome: 'no-protocol' | 'no-aead' | 'unrecognized-critical' | 'bad-request'; detail?: string };

/**
 * The server's answer to a complete request: NTPv4 and AES-SIV-CMAC-256 agreed and `count` cookies
 * (made by `cookies`, which exports the session's keys), or what the client needs to hear instead.
 */
export function answerKeRequest(
  records: readonly KeRecord[], cookies: () => Buffer[], o: { port?: number; server?: string } = {},
): KeAnswer {
  const r = readKeRequest(records);
  if (!r.ok) return { response: encodeKeError(r.error), outcome: r.reason, detail: r.detail };
  if (!r.protocols.includes(PROTOCOL_NTPV4)) return { response: encodeKeResponse({ protocols: [], aeads: [], cookies: [] }), outcome: 'no-protocol' };
  if (!r.aeads.includes(AEAD_AES_SIV_CMAC_256)) return { response: encodeKeResponse({ protocols: [PROTOCOL_NTPV4], aeads: [], cookies: [] }), outcome: 'no-aead' };
  const c = cookies();
  return {
    response: encodeKeResponse({ protocols: [PROTOCOL_NTPV4], aeads: [AEAD_AES_SIV_CMAC_256], cookies: c, ...o }),
    outcome: 'cookies', cookies: c.length,
  };
}
