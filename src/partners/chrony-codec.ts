/**
 * chronyd's command protocol (cmdmon), version 6 as chrony 4.x speaks it: a pure encoder of the
 * read-only requests we send (tracking, sources, source stats, server stats) and a decoder of their
 * replies. Nothing here writes to chronyd: there is no encoder for any other command.
 *
 * The layout, from chrony's candm.h (all fields big-endian):
 * - request header, 20 bytes: version, pkt_type (1 = request), res1, res2 (both 0), command (16),
 *   attempt (16), sequence (32), two 32-bit pads; then the command's data, then zero padding so that
 *   the request is at least as long as the reply it asks for (chronyd answers a shorter one with
 *   STT_BADPKTLENGTH, and never sends a reply longer than the request: no amplification).
 * - reply header, 28 bytes: version, pkt_type (2 = reply), res1, res2, command (echoed), reply (the
 *   format of the data), status, three 16-bit pads, sequence (echoed), two 32-bit pads; then the data.
 * - Float: 32 bits, a 7-bit signed exponent over a 25-bit signed coefficient, value coef * 2^(exp-25).
 * - Timespec: seconds high 32 bits (0x7fffffff: none), seconds low 32 bits, nanoseconds.
 * - IPAddr, 20 bytes: the address (16 bytes: IPv4 in the first 4, IPv6 all 16, or a 32-bit ID for a
 *   source not yet resolved), then the family (16 bits: 0 none, 1 IPv4, 2 IPv6, 3 ID), then 16 pad bits.
 *
 * Decoders return a value or an error value; they never throw, whatever the bytes.
 */

export const PROTO_VERSION = 6;
export const PKT_TYPE_REQUEST = 1;
export const PKT_TYPE_REPLY = 2;
export const REQUEST_HEADER_LEN = 20;
export const REPLY_HEADER_LEN = 28;

/** The request codes we send (and no others). */
export const REQ = { N_SOURCES: 14, SOURCE_DATA: 15, TRACKING: 33, SOURCESTATS: 34, SERVER_STATS: 54 } as const;
/** The reply formats we read. SERVER_STATS3 is chrony 4.1-4.3's (32-bit counters), SERVER_STATS4 4.4's and later (64-bit). */
export const RPY = { NULL: 1, N_SOURCES: 2, SOURCE_DATA: 3, TRACKING: 5, SOURCESTATS: 6, SERVER_STATS3: 24, SERVER_STATS4: 25 } as const;

/** Reply status codes (candm.h STT_*), with the words chronyc prints for them. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  0: 'success', 1: 'failure', 2: 'not authorised', 3: 'invalid command', 4: 'no such source', 5: 'stale or duplicate logon',
  6: 'facility not enabled in daemon', 7: 'bad subnet', 8: 'access allowed', 9: 'access denied', 10: 'no command access from this host',
  11: 'source already present', 12: 'too many sources present', 13: 'RTC driver not running', 14: "can't write RTC parameters",
  15: 'client logging is not active in the daemon', 16: 'sample index out of range', 17: 'invalid address family',
  18: 'protocol version mismatch', 19: 'packet length mismatch', 21: 'invalid name',
};
export const STT_SUCCESS = 0;
export const STT_UNAUTH = 2;
export const STT_NOSUCHSOURCE = 4;

/** The data lengths of the replies (bytes after the header). */
const REPLY_DATA_LEN: Readonly<Record<number, number>> = {
  [RPY.NULL]: 0, [RPY.N_SOURCES]: 4, [RPY.SOURCE_DATA]: 48, [RPY.TRACKING]: 76, [RPY.SOURCESTATS]: 56,
  [RPY.SERVER_STATS3]: 11 * 4, [RPY.SERVER_STATS4]: 21 * 8,
};

export type ChronyRequest =
  | { command: 'tracking' }
  | { command: 'n_sources' }
  | { command: 'source_data'; index: number }
  | { command: 'sourcestats'; index: number }
  | { command: 'server_stats' };

interface RequestShape { code: number; dataLen: number; replyDataLen: number }

/** Each request: its code, its data length, and the longest reply any chrony 4.x gives it (the
 * request is padded to that: chrony 4.4 answers server stats with 168 bytes of data, 4.3 with 44, and
 * a request padded for the longer reply is accepted by both). */
const SHAPES: Readonly<Record<ChronyRequest['command'], RequestShape>> = {
  tracking: { code: REQ.TRACKING, dataLen: 0, replyDataLen: REPLY_DATA_LEN[RPY.TRACKING]! },
  n_sources: { code: REQ.N_SOURCES, dataLen: 0, replyDataLen: REPLY_DATA_LEN[RPY.N_SOURCES]! },
  source_data: { code: REQ.SOURCE_DATA, dataLen: 4, replyDataLen: REPLY_DATA_LEN[RPY.SOURCE_DATA]! },
  sourcestats: { code: REQ.SOURCESTATS, dataLen: 4, replyDataLen: REPLY_DATA_LEN[RPY.SOURCESTATS]! },
  server_stats: { code: REQ.SERVER_STATS, dataLen: 0, replyDataLen: REPLY_DATA_LEN[RPY.SERVER_STATS4]! },
};

export const commandCode = (r: ChronyRequest['command']): number => SHAPES[r].code;

/** The request packet: header, data, and zero padding to the length of the reply. */
export function encodeRequest(req: ChronyRequest, sequence: number, attempt = 0): Buffer {
  const shape = SHAPES[req.command];
  const len = Math.max(REQUEST_HEADER_LEN + shape.dataLen, REPLY_HEADER_LEN + shape.replyDataLen);
  const b = Buffer.alloc(len);
  b[0] = PROTO_VERSION;
  b[1] = PKT_TYPE_REQUEST;
  b.writeUInt16BE(shape.code, 4);
  b.writeUInt16BE(attempt & 0xffff, 6);
  b.writeUInt32BE(sequence >>> 0, 8);
  if (req.command === 'source_data' || req.command === 'sourcestats') b.writeUInt32BE(req.index >>> 0, REQUEST_HEADER_LEN);
  return b;
}

/** chrony's 32-bit float (UTI_FloatNetworkToHost): coef * 2^(exp - 25), both signed. */
export function decodeFloat(x: number): number {
  const u = x >>> 0;
  let exp = u >>> 25;
  if (exp >= 64) exp -= 128;
  let coef = u & 0x1ffffff;
  if (coef >= 0x1000000) coef -= 0x2000000;
  return coef * 2 ** (exp - 25);
}

/** A number in chrony's 32-bit float, rounded as chronyd rounds it (UTI_FloatHostToNetwork): for the
 * tests' fixtures and the fuzzer's seeds. NaN is sent as 0; beyond the range, the largest value. */
export function encodeFloat(x: number): number {
  const EXP_MIN = -64;
  const EXP_MAX = 63;
  const COEF_MAX = 0xffffff;
  const neg = x < 0 ? 1 : 0;
  let a = Number.isNaN(x) ? 0 : Math.abs(x);
  let exp: number;
  let coef: number;
  if (a < 1e-100) {
    exp = 0;
    coef = 0;
  } else if (a > 1e100) {
    exp = EXP_MAX;
    coef = COEF_MAX + neg;
  } else {
    exp = Math.trunc(Math.log(a) / Math.log(2) + 1);
    coef = Math.trunc(a * 2 ** (25 - exp) + 0.5);
    while (coef > COEF_MAX + neg) {
      coef = Math.floor(coef / 2);
      exp++;
    }
    if (exp > EXP_MAX) {
      exp = EXP_MAX;
      coef = COEF_MAX + neg;
    } else if (exp < EXP_MIN) {
      if (exp + 25 >= EXP_MIN) {
        coef = Math.floor(coef / 2 ** (EXP_MIN - exp));
        exp = EXP_MIN;
      } else {
        exp = 0;
        coef = 0;
      }
    }
  }
  a = neg ? (0x2000000 - coef) & 0x1ffffff : coef;
  return (((exp & 0x7f) << 25) | a) >>> 0;
}

export type ChronyAddress =
  | { family: 'none' }
  | { family: 'ipv4' | 'ipv6'; text: string }
  | { family: 'id'; id: number };

export const ADDRESS_LEN = 20;

function ipv6Text(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // The longest run of two or more zero groups becomes "::" (RFC 5952, as inet_ntop writes it).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (g: number[]) => g.map((g1) => g1.toString(16)).join(':');
  if (best < 0) return hex(groups);
  // IPv4-mapped addresses as inet_ntop shows them.
  if (best === 0 && bestLen === 5 && groups[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** An IPAddr at `off` (20 bytes; the caller has checked the length). */
export function decodeAddress(b: Buffer, off: number): ChronyAddress {
  const family = b.readUInt16BE(off + 16);
  if (family === 1) return { family: 'ipv4', text: `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}` };
  if (family === 2) return { family: 'ipv6', text: ipv6Text(b.subarray(off, off + 16)) };
  if (family === 3) return { family: 'id', id: b.readUInt32BE(off) };
  return { family: 'none' };
}

/** An address as chronyc -n shows it (UTI_IPToString). */
export function addressText(a: ChronyAddress): string {
  if (a.family === 'ipv4' || a.family === 'ipv6') return a.text;
  if (a.family === 'id') return `ID#${String(a.id).padStart(10, '0')}`;
  return '[UNSPEC]';
}

/** A reference ID as text, as chronyc shows a refclock's (UTI_RefidToString: the printable bytes of the four). */
export function refIdText(id: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = (id >>> (24 - 8 * i)) & 0xff;
    if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
  }
  return s;
}

/** A reference ID as chronyc prints it: eight hex digits, upper case. */
export const refIdHex = (id: number): string => (id >>> 0).toString(16).toUpperCase().padStart(8, '0');

/** A Timespec at `off` (12 bytes) as seconds and nanoseconds (UTI_TimespecNetworkToHost). */
export function decodeTimespec(b: Buffer, off: number): { seconds: number; nanoseconds: number } {
  const high = b.readUInt32BE(off);
  const low = b.readUInt32BE(off + 4);
  const nsec = b.readUInt32BE(off + 8);
  return { seconds: (high === 0x7fffffff ? 0 : high) * 2 ** 32 + low, nanoseconds: Math.min(nsec, 999_999_999) };
}

export const LEAP_STATUS = ['normal', 'insert second', 'delete second', 'unsynchronised'] as const;
export type LeapStatus = typeof LEAP_STATUS[number] | 'invalid';

export interface Tracking {
  refId: number;
  address: ChronyAddress;
  stratum: number;
  leapStatus: LeapStatus;
  refTime: { seconds: number; nanoseconds: number };
  /** chronyd's current correction (s): positive when the system clock is slow of NTP time. */
  currentCorrectionS: number;
  lastOffsetS: number;
  rmsOffsetS: number;
  /** Positive: the system clock runs fast without chronyd's correction (chronyc: "ppm fast"). */
  freqPpm: number;
  residFreqPpm: number;
  skewPpm: number;
  rootDelayS: number;
  rootDispersionS: number;
  lastUpdateIntervalS: number;
}

export const SOURCE_MODES = ['server', 'peer', 'refclock'] as const;
export type SourceMode = typeof SOURCE_MODES[number] | 'unknown';
/** chronyc's state characters, by RPY_SD_ST_* code: selected, nonselectable, falseticker, jittery, unselected (combined), selectable (not combined). */
export const SOURCE_STATE_CHARS = ['*', '?', 'x', '~', '+', '-'] as const;
export type SourceStateChar = typeof SOURCE_STATE_CHARS[number] | ' ';

export interface SourceData {
  address: ChronyAddress;
  pollLog2: number;
  stratum: number;
  state: SourceStateChar;
  mode: SourceMode;
  flags: number;
  reachability: number;
  /** Seconds since the last sample; null when there has been none (0xffffffff). */
  sinceSampleS: number | null;
  /** The last sample's offset, adjusted for the slews since (s) ("xxxx" in chronyc sources). */
  latestMeasS: number;
  /** The offset as measured ("[yyyy]"). */
  origLatestMeasS: number;
  /** Its estimated error ("+/- zzzz"). */
  latestMeasErrS: number;
}

export interface SourceStats {
  refId: number;
  address: ChronyAddress;
  samples: number;
  runs: number;
  spanS: number;
  sdS: number;
  residFreqPpm: number;
  skewPpm: number;
  estOffsetS: number;
  estOffsetErrS: number;
}

export interface ServerStats {
  ntpHits: number; nkeHits: number; cmdHits: number; ntpDrops: number; nkeDrops: number; cmdDrops: number; logDrops: number;
  ntpAuthHits: number; ntpInterleavedHits: number; ntpTimestamps: number; ntpSpanS: number;
}

export type ChronyReply =
  | { kind: 'null' }
  | { kind: 'n_sources'; n: number }
  | { kind: 'source_data'; value: SourceData }
  | { kind: 'tracking'; value: Tracking }
  | { kind: 'sourcestats'; value: SourceStats }
  | { kind: 'server_stats'; value: ServerStats };

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string; status?: number };

/** What a reply must echo of its request. */
export interface Expected { command: number; sequence: number }

const err = (error: string, status?: number): { ok: false; error: string; status?: number } => (status === undefined ? { ok: false, error } : { ok: false, error, status });

/** The header's checks: whether this datagram is the reply to our request at all. A reply that is
 * not (another sequence: a late answer to an earlier try) is an error value the caller skips. */
export function decodeReply(bytes: Uint8Array, expected: Expected): Decoded<ChronyReply> {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < REPLY_HEADER_LEN) return err(`reply too short: ${b.length} bytes, the header is ${REPLY_HEADER_LEN}`);
  if (b[1] !== PKT_TYPE_REPLY) return err(`not a reply (packet type ${b[1]})`);
  if (b[2] !== 0 || b[3] !== 0) return err('reserved header bytes are not zero');
  const command = b.readUInt16BE(4);
  const sequence = b.readUInt32BE(16);
  if (sequence !== expected.sequence >>> 0) return err(`sequence ${sequence} is not ours (${expected.sequence >>> 0})`);
  if (command !== expected.command) return err(`reply to command ${command}, not ${expected.command}`);
  const status = b.readUInt16BE(8);
  if (b[0] !== PROTO_VERSION) {
    return err(`chronyd speaks command protocol version ${b[0]}, not ${PROTO_VERSION}${status === 18 ? ' (it says: protocol version mismatch)' : ''}`, status);
  }
  if (status !== STT_SUCCESS) return err(`chronyd answered: ${STATUS_TEXT[status] ?? `status ${status}`}`, status);
  const reply = b.readUInt16BE(6);
  const dataLen = REPLY_DATA_LEN[reply];
  if (dataLen === undefined) return err(`unknown reply format ${reply}`);
  if (b.length < REPLY_HEADER_LEN + dataLen) return err(`reply format ${reply} needs ${REPLY_HEADER_LEN + dataLen} bytes, got ${b.length}`);
  const want: Readonly<Record<number, readonly number[]>> = {
    [REQ.TRACKING]: [RPY.TRACKING], [REQ.N_SOURCES]: [RPY.N_SOURCES], [REQ.SOURCE_DATA]: [RPY.SOURCE_DATA],
    [REQ.SOURCESTATS]: [RPY.SOURCESTATS], [REQ.SERVER_STATS]: [RPY.SERVER_STATS3, RPY.SERVER_STATS4],
  };
  if (want[command] && !want[command]!.includes(reply)) return err(`reply format ${reply} does not answer command ${command}`);
  const d = REPLY_HEADER_LEN;
  const f = (off: number) => decodeFloat(b.readUInt32BE(d + off));
  switch (reply) {
    case RPY.NULL:
      return { ok: true, value: { kind: 'null' } };
    case RPY.N_SOURCES:
      return { ok: true, value: { kind: 'n_sources', n: b.readUInt32BE(d) } };
    case RPY.SOURCE_DATA: {
      const since = b.readUInt32BE(d + 32);
      const stateCode = b.readUInt16BE(d + 24);
      const modeCode = b.readUInt16BE(d + 26);
      return {
        ok: true, value: {
          kind: 'source_data', value: {
            address: decodeAddress(b, d), pollLog2: b.readInt16BE(d + 20), stratum: b.readUInt16BE(d + 22),
            state: SOURCE_STATE_CHARS[stateCode] ?? ' ', mode: SOURCE_MODES[modeCode] ?? 'unknown',
            flags: b.readUInt16BE(d + 28), reachability: b.readUInt16BE(d + 30), sinceSampleS: since === 0xffffffff ? null : since,
            origLatestMeasS: f(36), latestMeasS: f(40), latestMeasErrS: f(44),
          },
        },
      };
    }
    case RPY.TRACKING: {
      const leap = b.readUInt16BE(d + 26);
      return {
        ok: true, value: {
          kind: 'tracking', value: {
            refId: b.readUInt32BE(d), address: decodeAddress(b, d + 4), stratum: b.readUInt16BE(d + 24),
            leapStatus: LEAP_STATUS[leap] ?? 'invalid', refTime: decodeTimespec(b, d + 28),
            currentCorrectionS: f(40), lastOffsetS: f(44), rmsOffsetS: f(48), freqPpm: f(52), residFreqPpm: f(56), skewPpm: f(60),
            rootDelayS: f(64), rootDispersionS: f(68), lastUpdateIntervalS: f(72),
          },
        },
      };
    }
    case RPY.SOURCESTATS:
      return {
        ok: true, value: {
          kind: 'sourcestats', value: {
            refId: b.readUInt32BE(d), address: decodeAddress(b, d + 4), samples: b.readUInt32BE(d + 24), runs: b.readUInt32BE(d + 28),
            spanS: b.readUInt32BE(d + 32), sdS: f(36), residFreqPpm: f(40), skewPpm: f(44), estOffsetS: f(48), estOffsetErrS: f(52),
          },
        },
      };
    case RPY.SERVER_STATS3:
    case RPY.SERVER_STATS4: {
      const wide = reply === RPY.SERVER_STATS4;
      // 64-bit counters as numbers: exact below 2^53, far beyond any count a daemon reaches.
      const u = (i: number) => (wide ? b.readUInt32BE(d + 8 * i) * 2 ** 32 + b.readUInt32BE(d + 8 * i + 4) : b.readUInt32BE(d + 4 * i));
      return {
        ok: true, value: {
          kind: 'server_stats', value: {
            ntpHits: u(0), nkeHits: u(1), cmdHits: u(2), ntpDrops: u(3), nkeDrops: u(4), cmdDrops: u(5), logDrops: u(6),
            ntpAuthHits: u(7), ntpInterleavedHits: u(8), ntpTimestamps: u(9), ntpSpanS: u(10),
          },
        },
      };
    }
    default:
      return err(`unknown reply format ${reply}`);
  }
}
