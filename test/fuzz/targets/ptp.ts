/**
 * Fuzz targets of PTP input: the codec and the grandmaster core's handling of received messages.
 * Seeds are valid messages built with the project's own encoders (every type we decode, Management
 * GET/SET/COMMAND for each data set, Announces better and worse than ours).
 */
import {
  decode, encodeTimed, encodeDelayResp, encodeAnnounce, encodeManagement, clockIdentityFromMac, ptpTime, MSG, MGMT_ACTION, MGMT_ID, ALL_PORTS,
  FLAG_TWO_STEP, HEADER_LEN, type PortIdentity, type HeaderFields, type AnnounceBody,
} from '../../../src/ptp/codec.ts';
import { GrandmasterCore, scaledLogVariance, type TimeProperties, type PtpEvent } from '../../../src/ptp/grandmaster.ts';
import { mutateBytes, type LengthFields } from '../mutate.ts';
import { check, type Target } from '../engine.ts';

const OURS = clockIdentityFromMac('b8:27:eb:12:34:56');
const SLAVE: PortIdentity = { clockIdentity: Buffer.from('0011223344556677', 'hex'), portNumber: 1 };
/** A fixed TAI instant (ns): the same on any date. */
const T0 = 1_795_000_037_000_000_000n;

const hf = (messageType: number, over: Partial<HeaderFields> = {}): HeaderFields => ({
  messageType, domainNumber: 0, flags: 0, sourcePortIdentity: SLAVE, sequenceId: 7, logMessageInterval: 0, ...over,
});

const announceBody = (priority1: number, clockClass: number, identity: Buffer): AnnounceBody => ({
  originTimestamp: ptpTime(T0), currentUtcOffset: 37, grandmasterPriority1: priority1,
  grandmasterClockQuality: { clockClass, clockAccuracy: 0x21, offsetScaledLogVariance: 0x4e5d }, grandmasterPriority2: 128,
  grandmasterIdentity: identity, stepsRemoved: 0, timeSource: 0x20,
});

/** A message of a type we only classify, `len` octets. */
function bare(type: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  encodeTimed(hf(type), ptpTime(T0)).copy(b);
  b.writeUInt16BE(len, 2);
  return b;
}

export function ptpSeeds(): Uint8Array[] {
  const other = { ...SLAVE, clockIdentity: Buffer.from('a0b1c2fffec3d4e5', 'hex') };
  const out: Buffer[] = [
    encodeTimed(hf(MSG.DELAY_REQ), ptpTime(0n)), encodeTimed(hf(MSG.DELAY_REQ, { correction: -1n, sequenceId: 65535 }), ptpTime(T0)),
    encodeTimed(hf(MSG.SYNC, { flags: FLAG_TWO_STEP }), ptpTime(0n)), encodeTimed(hf(MSG.FOLLOW_UP), ptpTime(T0)),
    encodeDelayResp(hf(MSG.DELAY_RESP), ptpTime(T0), other),
    encodeAnnounce(hf(MSG.ANNOUNCE, { sourcePortIdentity: other }), announceBody(1, 6, other.clockIdentity)),
    encodeAnnounce(hf(MSG.ANNOUNCE, { sourcePortIdentity: other }), announceBody(255, 248, Buffer.from('0102030405060708', 'hex'))),
    encodeAnnounce(hf(MSG.ANNOUNCE, { sourcePortIdentity: other, domainNumber: 4 }), announceBody(1, 6, other.clockIdentity)),
    encodeAnnounce(hf(MSG.ANNOUNCE, { sourcePortIdentity: other }), { ...announceBody(128, 6, OURS), stepsRemoved: 1 }),
    bare(MSG.PDELAY_REQ, 54), bare(MSG.PDELAY_RESP, 54), bare(MSG.SIGNALING, 44),
  ];
  for (const id of [...Object.values(MGMT_ID), 0x1234]) {
    for (const action of [MGMT_ACTION.GET, MGMT_ACTION.SET, MGMT_ACTION.COMMAND]) {
      out.push(encodeManagement(hf(MSG.MANAGEMENT, { logMessageInterval: 0x7f }), ALL_PORTS, 1, 1, action, id, action === MGMT_ACTION.SET ? Buffer.alloc(4, 1) : Buffer.alloc(0)));
    }
  }
  out.push(encodeManagement(hf(MSG.MANAGEMENT), { clockIdentity: OURS, portNumber: 1 }, 3, 1, MGMT_ACTION.GET, MGMT_ID.DEFAULT_DATA_SET, Buffer.alloc(0)));
  out.push(encodeManagement(hf(MSG.MANAGEMENT), ALL_PORTS, 0, 0, MGMT_ACTION.GET, MGMT_ID.PORT_DATA_SET, Buffer.alloc(0), 6));
  out.push(encodeManagement(hf(MSG.MANAGEMENT), ALL_PORTS, 0, 0, MGMT_ACTION.GET, MGMT_ID.PARENT_DATA_SET, Buffer.alloc(0)).subarray(0, 48));
  return out.map((b) => new Uint8Array(b));
}

/** messageLength, and a Management message's TLV length. */
const ptpLengths: LengthFields = (b) => ((b[0]! & 0x0f) === MSG.MANAGEMENT ? [2, 50] : [2]);

const mutatePtp = (rng: Parameters<typeof mutateBytes>[0], input: Uint8Array, seeds: readonly Uint8Array[]) =>
  mutateBytes(rng, input, seeds, { maxLen: 1500, lengthFields: ptpLengths });

const asBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/**
 * ptp-codec. Contract (src/ptp/codec.ts): decode never throws; anything malformed or foreign comes
 * back classified. An accepted message is version 2, its messageLength is at least the header and at
 * most the datagram, the type's minimum length is met, and a Management TLV's data lies inside the
 * message.
 */
export const ptpCodec: Target = {
  name: 'ptp-codec',
  contract: 'decode never throws; malformed input is classified; accepted messages are version 2 with HEADER_LEN <= messageLength <= datagram, and Management TLV data inside the message.',
  setup() {
    const reasons = new Set(['short', 'version', 'length', 'type', 'tlv']);
    return {
      seeds: ptpSeeds(),
      mutate: mutatePtp,
      run(input) {
        const d = decode(asBuffer(input));
        if (!d.ok) {
          check(reasons.has(d.reason), `reason ${d.reason}`);
          return;
        }
        const h = d.header;
        check(h.version === 2, `version ${h.version}`);
        check(h.messageLength >= HEADER_LEN && h.messageLength <= input.length, `messageLength ${h.messageLength} of ${input.length}`);
        check(h.sourcePortIdentity.clockIdentity.length === 8, 'clockIdentity length');
        if (d.kind === 'management') check(54 + d.management.data.length <= h.messageLength || d.management.data.length === 0, 'TLV data past the message');
        if (d.kind === 'announce') check(d.announce.grandmasterIdentity.length === 8, 'grandmasterIdentity length');
      },
    };
  },
};

/**
 * ptp-grandmaster. Contract (src/ptp/grandmaster.ts, GrandmasterCore.receive): never throws; answers
 * at most one message per datagram, only to a Delay_Req (a Delay_Resp naming the asking port with its
 * sequenceId) or a Management message (a RESPONSE with its sequenceId); every answer decodes with
 * our codec and comes from our port; the foreign-master table stays within its bound, and the
 * better-master events alternate (set, then gone).
 */
export const ptpGrandmaster: Target = {
  name: 'ptp-grandmaster',
  contract: 'GrandmasterCore.receive never throws; at most one answer, only to Delay_Req (Delay_Resp to that port, same sequenceId) or Management (RESPONSE, same sequenceId); answers decode and come from our port; foreign table bounded; better-master events alternate.',
  setup() {
    const props: TimeProperties = {
      quality: { clockClass: 6, clockAccuracy: 0x21, offsetScaledLogVariance: scaledLogVariance(100) }, currentUtcOffset: 37, utcOffsetValid: true,
      leap59: false, leap61: false, timeTraceable: true, frequencyTraceable: true, timeSource: 0x20,
    };
    const events: PtpEvent[] = [];
    const maxForeign = 8;
    const core = new GrandmasterCore({
      clockIdentity: OURS, domain: 0, priority1: 128, priority2: 128, logAnnounceInterval: 1, logSyncInterval: 0, logMinDelayReqInterval: 0,
      announceReceiptTimeout: 3, managementPerSecond: 1000, maxForeignMasters: maxForeign, delayRespPerSecond: 100000,
    }, props, (e) => events.push(e));
    let n = 0;
    return {
      seeds: ptpSeeds(),
      mutate: mutatePtp,
      run(input) {
        n++;
        const now = T0 + BigInt(n) * 10_000_000n;
        const buf = asBuffer(input);
        const req = decode(buf);
        const out = core.receive(buf, now);
        if (n % 64 === 0) core.expire(now);
        check(out.length <= 1, `${out.length} answers to one datagram`);
        check(core.foreign.size <= maxForeign, `${core.foreign.size} foreign masters`);
        for (let k = 1; k < events.length; k++) check(events[k]!.kind !== events[k - 1]!.kind, 'better-master events do not alternate');
        if (events.length > 2) events.splice(0, events.length - 1);
        const o = out[0];
        if (!o) return;
        check(req.ok && (req.kind === 'delay_req' || req.kind === 'management'), `an answer to ${req.ok ? req.kind : 'a malformed message'}`);
        const d = decode(o.msg);
        check(d.ok, `our answer does not decode: ${d.ok ? '' : d.detail}`);
        check(d.header.sourcePortIdentity.clockIdentity.equals(OURS), 'answer not from our clock');
        check(d.header.sequenceId === req.header.sequenceId, 'answer sequenceId differs from the request');
        if (req.kind === 'delay_req') {
          check(d.kind === 'delay_resp' && d.requestingPortIdentity.clockIdentity.equals(req.header.sourcePortIdentity.clockIdentity) &&
            d.requestingPortIdentity.portNumber === req.header.sourcePortIdentity.portNumber, 'Delay_Resp names another port');
        } else {
          check(d.kind === 'management' && d.management.action === MGMT_ACTION.RESPONSE, 'Management answer is no RESPONSE');
        }
      },
    };
  },
};
