/**
 * Fuzz targets of NTP input: the packet codec, the server core's request handling, and the upstream
 * client's reply handling. Seeds are valid packets built with the project's own encoder
 * (encodeHeader), in every version and mode, with extension fields and MACs.
 */
import { decodePacket, encodeHeader, refIdFromAscii, NTP_HEADER, type NtpHeader } from '../../../src/ntp/packet.ts';
import { NtpServerCore, type NtpServerState } from '../../../src/ntp/server.ts';
import { AccessList } from '../../../src/ntp/acl.ts';
import { UpstreamPeer } from '../../../src/integrity/ntp-client.ts';
import { toNtp64 } from '../../../src/time/index.ts';
import { mutateBytes, type LengthFields } from '../mutate.ts';
import { check, type Target } from '../engine.ts';

/** A fixed instant (unix ns): every run sees the same times, on any date. */
const T0 = 1_795_000_000_000_000_000n;

function header(over: Partial<NtpHeader>): NtpHeader {
  return {
    li: 0, version: 4, mode: 3, stratum: 0, poll: 6, precision: -20, rootDelay: 0, rootDispersion: 0, refId: 0, refTime: 0n,
    origin: 0n, receive: 0n, transmit: toNtp64(T0 - 5_000_000n), ...over,
  };
}

function packet(h: NtpHeader, tail: number[] = []): Uint8Array {
  const out = new Uint8Array(NTP_HEADER + tail.length);
  encodeHeader(h, out);
  out.set(tail, NTP_HEADER);
  return out;
}

/** An RFC 7822 extension field of `len` octets (type 0x0104, NTS unique identifier). */
const ext = (len: number, type = 0x0104) => [type >> 8, type & 0xff, len >> 8, len & 0xff, ...new Array<number>(len - 4).fill(0x5a)];
const keyMac = (digest: number) => [0, 0, 0, 7, ...new Array<number>(digest).fill(0xa5)];

/** Requests: every version and mode, MACs, extension fields. */
export function requestSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let version = 1; version <= 4; version++) for (const mode of [0, 1, 2, 3, 4, 5, 6, 7]) out.push(packet(header({ version, mode })));
  out.push(packet(header({}), keyMac(16)), packet(header({}), keyMac(20)), packet(header({}), [0, 0, 0, 0]));
  out.push(packet(header({}), ext(16)), packet(header({}), [...ext(16), ...ext(28)]), packet(header({}), [...ext(36), ...keyMac(20)]));
  out.push(packet(header({}), [...ext(16), ...ext(16), ...ext(16), ...keyMac(16)]), packet(header({ version: 3 }), keyMac(16)));
  out.push(packet(header({ li: 3, stratum: 16, poll: 17, precision: -6, transmit: 0n })), packet(header({ poll: -128, precision: 127 })));
  return out;
}

/** The 16-bit length fields of the extension fields, walked as the decoder walks them. */
const ntpLengths: LengthFields = (b) => {
  const out: number[] = [];
  let off = NTP_HEADER;
  while (off + 4 <= b.length && out.length < 40) {
    out.push(off + 2);
    const len = (b[off + 2]! << 8) | b[off + 3]!;
    if (len < 4) break;
    off += len;
  }
  return out;
};

const mutateNtp = (rng: Parameters<typeof mutateBytes>[0], input: Uint8Array, seeds: readonly Uint8Array[]) =>
  mutateBytes(rng, input, seeds, { maxLen: 1500, lengthFields: ntpLengths });

/**
 * ntp-packet. Contract (src/ntp/packet.ts): decodePacket never throws; every malformed packet is a
 * classified { ok: false }. An accepted packet has at least 48 octets, version 1-4, LI 0-3, mode 0-7,
 * at most 32 extension fields, a MAC kind that matches what follows the header, and its header
 * re-encodes (encodeHeader) to the very same 48 octets.
 */
export const ntpPacket: Target = {
  name: 'ntp-packet',
  contract: 'decodePacket never throws; malformed packets are classified; accepted ones have >= 48 octets, version 1-4, fields in range, <= 32 extension fields, and re-encode to the same 48 header octets.',
  setup() {
    const reasons = new Set(['short', 'version', 'extension', 'length']);
    return {
      seeds: requestSeeds(),
      mutate: mutateNtp,
      run(input) {
        const d = decodePacket(input);
        if (!d.ok) {
          check(reasons.has(d.reason), `reason ${d.reason}`);
          return;
        }
        const h = d.header;
        check(input.length >= NTP_HEADER, `accepted ${input.length} octets`);
        check(h.version >= 1 && h.version <= 4 && h.li >= 0 && h.li <= 3 && h.mode >= 0 && h.mode <= 7, `li ${h.li} version ${h.version} mode ${h.mode}`);
        check(h.poll >= -128 && h.poll <= 127 && h.precision >= -128 && h.precision <= 127 && h.stratum >= 0 && h.stratum <= 255, 'poll/precision/stratum range');
        check(d.extensionFields >= 0 && d.extensionFields <= 32, `${d.extensionFields} extension fields`);
        const again = new Uint8Array(NTP_HEADER);
        encodeHeader(h, again);
        check(Buffer.compare(again, input.subarray(0, NTP_HEADER)) === 0, 'header does not re-encode to the same octets');
      },
    };
  },
};

/**
 * ntp-server. Contract (src/ntp/server.ts, NtpServerCore.handle): never throws for any datagram; a
 * reply is never larger than its request, decodes as an NTP packet, has the request's version, mode
 * 4 (2 for an NTPv1 mode-0 client), and carries the request's transmit timestamp as its origin; a
 * kiss-o'-death has stratum 0 and LI 3; every request is counted once, as replied, kissed or dropped
 * with a reason. Driven with an ACL, rate limiting with KoD, and several client addresses.
 */
export const ntpServer: Target = {
  name: 'ntp-server',
  contract: 'NtpServerCore.handle never throws; a reply is <= its request, decodes, keeps the version, is mode 4 (2 for v1 mode 0), echoes the transmit timestamp as origin; KoD is stratum 0 LI 3; received = replied + kod + dropped.',
  setup() {
    const acl = new AccessList(['192.0.2.0/24', '2001:db8::/32', '::ffff:198.51.100.0/120'], ['192.0.2.13']);
    const core = new NtpServerCore({ rateLimit: { enabled: true, intervalS: 2, burst: 8, slots: 64, kod: true }, denyAction: 'kod', kodPerSecond: 50 }, acl);
    const st: NtpServerState = { leapIndicator: 0, stratum: 1, refId: 'GPS', rootDispersionS: 0.0001, rootDelayS: 0, refTime: T0 - 1_000_000_000n, precisionLog2: -20 };
    const clients = ['192.0.2.1', '192.0.2.13', '203.0.113.9', '2001:db8::1', '::ffff:192.0.2.7', 'fe80::1%eth0', '198.51.100.4'];
    let n = 0;
    return {
      seeds: requestSeeds(),
      mutate: mutateNtp,
      run(input) {
        const req = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
        const client = clients[(input.length + (input[1] ?? 0)) % clients.length]!;
        n++;
        const before = core.counters.received;
        const r = core.handle(req, T0 + BigInt(n) * 1_000_000n, st, client, n / 1000);
        const c = core.counters;
        check(c.received === before + 1, 'request not counted');
        const dropped = Object.values(c.dropped).reduce((a, x) => a + x, 0);
        check(c.received === c.replied + c.kod + dropped, `received ${c.received} != replied ${c.replied} + kod ${c.kod} + dropped ${dropped}`);
        if (!r.reply) return;
        check(r.reply.length <= req.length, `reply of ${r.reply.length} octets to a request of ${req.length}`);
        const q = decodePacket(req);
        const d = decodePacket(r.reply);
        check(q.ok && d.ok, 'reply to a malformed request, or a reply that does not decode');
        check(d.header.version === q.header.version, `reply version ${d.header.version}, request ${q.header.version}`);
        if (r.kind === 'kod') {
          check(d.header.stratum === 0 && d.header.li === 3 && d.header.mode === 4, 'KoD header');
          return;
        }
        const want = q.header.version === 1 && q.header.mode === 0 ? 2 : 4;
        check(d.header.mode === want, `reply mode ${d.header.mode}`);
        check(d.header.origin === q.header.transmit, 'reply origin is not the request transmit timestamp');
        check(d.header.stratum === st.stratum && d.header.refId === refIdFromAscii(st.refId), 'stratum/refid not the server state');
      },
    };
  },
};

/** Placeholder for the cookie in a reply seed: the harness writes the outstanding request's cookie
 * there, so a mutated reply gets past the check that it answers our request (mutating the
 * placeholder exercises the rejection). */
const COOKIE_MARK = 0xc0_0c_1e_5e_ed_c0_0c_1en;

function replySeeds(): Uint8Array[] {
  const base = { version: 4, mode: 4, stratum: 1, refId: refIdFromAscii('GPS'), origin: COOKIE_MARK, poll: 6, precision: -23, rootDelay: 0, rootDispersion: 10,
    refTime: toNtp64(T0 - 16_000_000_000n), receive: toNtp64(T0 + 10_000_000n), transmit: toNtp64(T0 + 10_020_000n) };
  return [
    packet(header(base)), packet(header({ ...base, stratum: 2, refId: 0xc0000201, rootDelay: 0x2000, rootDispersion: 0x1000 })),
    packet(header({ ...base, version: 3 })), packet(header({ ...base, li: 1 })), packet(header({ ...base, li: 3, stratum: 16 })),
    ...['RATE', 'DENY', 'RSTR', 'INIT'].map((k) => packet(header({ ...base, stratum: 0, refId: refIdFromAscii(k) }))),
    packet(header({ ...base, receive: 0n })), packet(header({ ...base, transmit: toNtp64(T0 - 3_000_000_000n) })),
    packet(header({ ...base, precision: 127 })), packet(header({ ...base, precision: -128 })), packet(header(base), keyMac(20)),
    packet(header({ ...base, receive: toNtp64(T0 + 1_000_000_000_000_000_000n), transmit: toNtp64(T0 - 1_000_000_000_000_000_000n) })),
  ];
}

/**
 * ntp-client. Contract (src/integrity/ntp-client.ts, UpstreamPeer.onReply): never throws; a reply is
 * believed only if it decodes, answers the outstanding request's cookie and is mode 4; a believed
 * sample has a finite integer offset, a finite delay >= 0 and a finite dispersion >= 0; the same reply
 * twice is refused the second time; the snapshot after it keeps reach in 0-255 and every figure
 * finite or undefined.
 */
export const ntpClient: Target = {
  name: 'ntp-client',
  contract: 'UpstreamPeer.onReply never throws; only a decodable mode-4 reply echoing the cookie is believed; samples are finite (delay, dispersion >= 0); a second copy is refused; the snapshot stays finite with reach 0-255.',
  setup() {
    let cookie = 0x1234_5678_9abc_def0n;
    return {
      seeds: replySeeds(),
      mutate: (rng, input, seeds) => mutateBytes(rng, input, seeds, { maxLen: 1500, lengthFields: ntpLengths }),
      run(input) {
        const peer = new UpstreamPeer({ name: 'fuzz', minPollLog2: 6, maxPollLog2: 10, iburst: true }, () => ++cookie);
        check(peer.due(T0), 'a new peer is not due');
        peer.request(T0);
        const b = Buffer.from(input);
        if (b.length >= 32 && b.readBigUInt64BE(24) === COOKIE_MARK) b.writeBigUInt64BE(cookie, 24);
        const rx = T0 + 20_000_000n;
        const v = peer.onReply(b, rx);
        if (v.ok) {
          const s = v.sample;
          const d = decodePacket(b);
          check(d.ok && d.header.mode === 4 && d.header.origin === cookie, 'believed a reply that is not a mode-4 answer to our cookie');
          check(Number.isInteger(s.offsetNs) && Number.isFinite(s.delayNs) && s.delayNs >= 0, `sample offset ${s.offsetNs} delay ${s.delayNs}`);
          check(Number.isFinite(s.dispersionS) && s.dispersionS >= 0, `sample dispersion ${s.dispersionS}`);
          const again = peer.onReply(b, rx + 1_000_000n);
          check(!again.ok, 'the same reply believed twice');
        } else check(typeof v.detail === 'string', 'verdict without detail');
        const snap = peer.snapshot(T0 + 1_000_000_000n);
        check(Number.isInteger(snap.reach) && snap.reach >= 0 && snap.reach <= 255, `reach ${snap.reach}`);
        for (const k of ['offsetNs', 'delayNs', 'jitterNs', 'rootDistanceNs', 'lastSampleAgeS', 'pollS', 'stratum', 'leap'] as const) {
          const x = snap[k];
          check(x === undefined || Number.isFinite(x), `snapshot ${k} ${x}`);
        }
        check(snap.fit === (snap.unfit === ''), 'fit and unfit disagree');
      },
    };
  },
};
