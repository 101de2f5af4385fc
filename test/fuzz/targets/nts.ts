/**
 * Fuzz targets of NTS input (RFC 8915): the NTS-KE records a client sends over TLS, and the NTS
 * extension fields of NTP requests as the server core handles them. Keys and seeds come from a seeded
 * PRNG, so a kept regression input means the same thing in every run.
 */
import {
  parseKeMessage, answerKeRequest, readKeResponse, encodeRecord, encodeKeRequest, REQUEST_LIMITS, RESPONSE_LIMITS,
  KE_END, KE_NEXT_PROTOCOL, KE_AEAD, KE_PORT, KE_SERVER, KE_WARNING,
} from '../../../src/ntp/nts/ke-codec.ts';
import { NtpServerCore, type NtpServerState } from '../../../src/ntp/server.ts';
import { CookieKeys } from '../../../src/ntp/nts/cookies.ts';
import { parseNtsRequest } from '../../../src/ntp/nts/ntp-ext.ts';
import type { NtsCounters } from '../../../src/status/status.ts';
import { decodePacket, refIdFromAscii } from '../../../src/ntp/packet.ts';
import { ntsRequest, readNtsReply, extField } from '../../helpers/nts.ts';
import { Rng } from '../prng.ts';
import { mutateBytes, type LengthFields } from '../mutate.ts';
import { check, type Target } from '../engine.ts';

const T0 = 1_795_000_000_000_000_000n;
const seeded = (seed: number) => {
  const rng = new Rng(seed);
  return (n: number) => Buffer.from(Array.from({ length: n }, () => rng.below(256)));
};

/** Record length fields (offset 2 of each record), walked as the parser walks them. */
const keLengths: LengthFields = (b) => {
  const out: number[] = [];
  let off = 0;
  while (off + 4 <= b.length && out.length < 40) {
    out.push(off + 2);
    off += 4 + ((b[off + 2]! << 8) | b[off + 3]!);
  }
  return out;
};

function keSeeds(): Uint8Array[] {
  const np = encodeRecord(KE_NEXT_PROTOCOL, true, Buffer.from([0, 0]));
  const end = encodeRecord(KE_END, true);
  return [
    encodeKeRequest(), encodeKeRequest([0, 1, 2], [15, 16, 17]), encodeKeRequest([1], [15]), encodeKeRequest([0], [1]),
    Buffer.concat([np, end]),
    Buffer.concat([np, encodeRecord(KE_AEAD, false, Buffer.from([0, 15])), encodeRecord(KE_PORT, true, Buffer.from([0x11, 0x94])), encodeRecord(KE_SERVER, true, Buffer.from('ntp.example')), end]),
    Buffer.concat([np, encodeRecord(0x4321, false, Buffer.alloc(8, 1)), encodeRecord(0x4321, true, Buffer.alloc(2)), end]),
    Buffer.concat([np, encodeRecord(KE_WARNING, true, Buffer.from([0, 1])), end]),
    encodeKeRequest().subarray(0, 10),
  ];
}

/**
 * nts-ke-records. Contract (src/ntp/nts/ke-codec.ts): parseKeMessage never throws and stays within
 * REQUEST_LIMITS (a complete message ends at or before the input's end and its records account for
 * every byte); answerKeRequest never throws; its response is itself a complete, well-formed message
 * a client reads; cookies are sent only with NTPv4 and AEAD 15 agreed, an error record only without.
 */
export const ntsKeRecords: Target = {
  name: 'nts-ke-records',
  contract: 'parseKeMessage never throws and keeps REQUEST_LIMITS; answerKeRequest never throws; the response is a complete message a client reads; cookies only with NTPv4 + AEAD 15 agreed.',
  setup() {
    const cookie = Buffer.alloc(100, 0xc0);
    return {
      seeds: keSeeds(),
      mutate: (rng, input, seeds) => mutateBytes(rng, input, seeds, { maxLen: 1500, lengthFields: keLengths }),
      run(input) {
        const p = parseKeMessage(input, REQUEST_LIMITS);
        if (!p.ok || !p.complete) {
          if (!p.ok) check(typeof p.detail === 'string', 'error without detail');
          else check(input.length < REQUEST_LIMITS.maxBytes, `incomplete at ${input.length} bytes, past the limit`);
          return;
        }
        check(p.length <= input.length && p.length <= REQUEST_LIMITS.maxBytes, `message length ${p.length}`);
        check(p.records.reduce((a, r) => a + 4 + r.body.length, 0) === p.length, 'records do not account for the message');
        check(p.records.length <= REQUEST_LIMITS.maxRecords, `${p.records.length} records`);
        const a = answerKeRequest(p.records, () => Array.from({ length: 8 }, () => cookie), { port: 4123 });
        const q = parseKeMessage(a.response, RESPONSE_LIMITS);
        check(q.ok && q.complete && q.length === a.response.length, 'the response is not one complete message');
        const r = readKeResponse(q.records);
        if (a.outcome === 'cookies') {
          check(r.ok && r.cookies.length === 8 && r.protocols.join() === '0' && r.aeads.join() === '15' && r.port === 4123, 'a cookie response without the agreed records');
        } else {
          check(!r.ok || r.cookies.length === 0, `cookies sent with outcome ${a.outcome}`);
        }
      },
    };
  },
};

/**
 * nts-ntp. Contract (src/ntp/server.ts with NTS, src/ntp/nts/ntp-ext.ts): handle never throws; a
 * reply is never larger than its request; a reply to a request with NTS fields is either sealed and
 * authenticated under the session's S2C key with the unique identifier echoed and cookies that open,
 * or an NTS NAK (stratum 0, NTSN, the unique identifier, nothing else); a request without NTS fields
 * gets plain NTP; every NTS request is counted once (replied, or failed with a reason).
 */
export const ntsNtp: Target = {
  name: 'nts-ntp',
  contract: 'NtpServerCore.handle with NTS never throws; reply <= request; NTS requests get an authenticated reply (uid echoed, cookies open) or an NTS NAK (stratum 0, NTSN, uid only); requests = replied + failures.',
  setup() {
    const random = seeded(0x5eed);
    const keys = new CookieKeys({ rotationS: 86400, graceS: 86400 }, [], random);
    keys.rotate(1_800_000_000);
    const counters: NtsCounters = { keConnections: 0, keSessions: 0, keFailures: {}, requests: 0, replied: 0, naks: 0, failures: {}, cookiesIssued: 0 };
    const core = new NtpServerCore({ rateLimit: { enabled: false, intervalS: 2, burst: 8, slots: 64, kod: false }, denyAction: 'drop', kodPerSecond: 1e9, kodIntervalS: 1e-9, nts: { keys, counters } }, undefined);
    const st: NtpServerState = { leapIndicator: 0, stratum: 1, refId: 'GPS', rootDispersionS: 0.0001, rootDelayS: 0, refTime: T0 - 1_000_000_000n, precisionLog2: -20 };
    const session = { c2s: random(32), s2c: random(32) };
    const cookie = keys.make(session);
    const stranger = new CookieKeys({ rotationS: 86400, graceS: 86400 }, [], seeded(7));
    stranger.rotate(1_800_000_000);
    const seeds: Uint8Array[] = [0, 1, 3, 7].map((k) => ntsRequest(cookie, session.c2s, k, { random }).packet);
    seeds.push(ntsRequest(stranger.make(session), session.c2s, 1, { random }).packet);
    seeds.push(ntsRequest(cookie, random(32), 0, { random }).packet);
    const ok = seeds[0]!;
    seeds.push(Buffer.concat([ok.subarray(0, 48), extField(0x0104, random(32)), extField(0x0204, cookie)]));
    let n = 0;
    return {
      seeds,
      mutate: (rng, input, s) => mutateBytes(rng, input, s, { maxLen: 1500, lengthFields: (b) => {
        const out: number[] = [];
        for (let off = 48; off + 4 <= b.length && out.length < 40;) {
          out.push(off + 2);
          const len = (b[off + 2]! << 8) | b[off + 3]!;
          if (len < 4) break;
          off += len;
        }
        return out;
      } }),
      run(input) {
        const req = Buffer.from(input);
        n++;
        const before = { ...counters, failures: { ...counters.failures } };
        const h = core.handle(req, T0 + BigInt(n) * 1_000_000n, st, `192.0.2.${n % 200}`, n);
        const q = decodePacket(req);
        const nts = q.ok && q.header.version === 4 && q.header.mode === 3 && q.extensionFields > 0 ? parseNtsRequest(req) : { kind: 'none' as const };
        const failed = (c: typeof counters) => Object.entries(c.failures).reduce((a, [k, v]) => a + (k === 'nak-suppressed' ? 0 : v), 0);
        if (nts.kind !== 'none') {
          check(counters.requests === before.requests + 1, 'NTS request not counted');
          check(counters.replied - before.replied + failed(counters) - failed(before) === 1, 'an NTS request counted other than once');
        } else {
          check(counters.requests === before.requests, 'a plain request counted as NTS');
        }
        if (!h.reply) return;
        if (h.seal) h.seal(0xe000_0000_0000_0000n);
        check(h.reply.length <= req.length, `reply of ${h.reply.length} octets to ${req.length}`);
        const d = decodePacket(h.reply);
        check(d.ok, 'the reply does not decode');
        if (nts.kind === 'nts') {
          const r = readNtsReply(h.reply, session.s2c);
          check(r.uid !== undefined && nts.uidField.subarray(4).equals(r.uid), 'unique identifier not echoed');
          if (h.seal) {
            const o = keys.open(nts.cookie);
            check(o.ok, 'an authenticated reply to a cookie that does not open');
            const rr = readNtsReply(h.reply, o.c2s.equals(session.c2s) ? session.s2c : o.s2c);
            check(rr.authenticated, 'the reply does not authenticate under S2C');
            check(rr.cookies.every((c) => keys.open(c).ok), 'a cookie in the reply does not open');
          } else {
            check(d.header.stratum === 0 && d.header.refId === refIdFromAscii('NTSN') && r.types.join() === '260', 'a NAK that is not stratum 0 NTSN with the uid alone');
          }
        } else {
          check(!h.seal, 'a sealed reply to a request without NTS');
        }
      },
    };
  },
};
