/**
 * ptp4l-response. Contract (src/partners/ptp4l-codec.ts, src/partners/ptp4l.ts): decodeResponse never
 * throws, whatever the datagram; an accepted response answers the question it is decoded against
 * (the data set named by its managementId, its sequenceId), carries exactly that data set's length,
 * a port state pmc knows (or NONE with the number kept), finite numbers; and the Status facts and the
 * `stratum1 status` text built from a round holding it do not throw either.
 * Seeds: responses recorded from ptp4l 3.1.1 (test/partners/ptp4l-recorded.ts), error statuses included.
 */
import { decodeResponse, PTP4L_IDS, PORT_STATES, DATA_SET_LEN, type Ptp4lDataSet, type Ptp4lResponse } from '../../../src/partners/ptp4l-codec.ts';
import { ptp4lFacts, type Ptp4lRound } from '../../../src/partners/ptp4l.ts';
import { formatPtp4lPartner } from '../../../src/partners/ptp4l-format.ts';
import { PARTNER_PTP4L_DISABLED } from '../../../src/status/status.ts';
import { REC } from '../../partners/ptp4l-recorded.ts';
import { mutateBytes, type LengthFields } from '../mutate.ts';
import { check, type Target } from '../engine.ts';

const BY_CODE = new Map<number, Ptp4lDataSet>(Object.entries(PTP4L_IDS).map(([k, v]) => [v, k as Ptp4lDataSet]));
/** messageLength, the TLV's length. */
const lengths: LengthFields = () => [2, 50];

function finiteAll(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (v && typeof v === 'object') return Object.values(v).every(finiteAll);
  return true;
}

/** The recorded slave's round, for the facts and the text. */
function baseRound(): Ptp4lRound {
  const get = <K extends Ptp4lDataSet>(id: K) => {
    const b = Buffer.from(REC[`slave_${id}`], 'hex');
    const r = decodeResponse(b, { id, sequenceId: b.readUInt16BE(30) });
    if (!r.ok) throw new Error(`the recorded ${id} does not decode: ${r.error}`);
    return r.value.data.value as Extract<Ptp4lResponse['data'], { id: K }>['value'];
  };
  return {
    defaultDs: get('DEFAULT_DATA_SET'), ports: [get('PORT_DATA_SET')], current: get('CURRENT_DATA_SET'), parent: get('PARENT_DATA_SET'),
    timeProperties: get('TIME_PROPERTIES_DATA_SET'), timeStatus: get('TIME_STATUS_NP'), timeStatusProblem: null,
  };
}

export const ptp4lResponse: Target = {
  name: 'ptp4l-response',
  contract: 'decodeResponse never throws; an accepted response answers the id and sequenceId asked, has that data set\'s exact length, a known port state (or NONE), finite numbers; the Status facts and status text built from it do not throw.',
  setup() {
    const base = baseRound();
    return {
      seeds: Object.values(REC).map((h) => new Uint8Array(Buffer.from(h, 'hex'))),
      mutate: (rng, input, s) => mutateBytes(rng, input, s, { maxLen: 600, lengthFields: lengths }),
      run(input) {
        const b = Buffer.from(input);
        // Decoded against the question the datagram claims to answer, so mutations reach the data.
        const id = (b.length >= 54 ? BY_CODE.get(b.readUInt16BE(52)) : undefined) ?? 'PORT_DATA_SET';
        const sequenceId = b.length >= 32 ? b.readUInt16BE(30) : 0;
        const r = decodeResponse(input, { id, sequenceId });
        if (!r.ok) {
          check(typeof r.error === 'string' && r.error.length > 0, 'an error value with a message');
          return;
        }
        const v = r.value;
        check(v.data.id === id, `answered ${v.data.id}, asked ${id}`);
        check(v.sequenceId === sequenceId, 'sequenceId');
        check(b.length >= 54 + DATA_SET_LEN[id], `accepted ${b.length} octets for ${id}`);
        check(finiteAll(v.data.value), `non-finite number in ${id}`);
        const round = structuredClone(base);
        switch (v.data.id) {
          case 'DEFAULT_DATA_SET': round.defaultDs = v.data.value; break;
          case 'PORT_DATA_SET':
            check((PORT_STATES as readonly string[]).includes(v.data.value.portState), `port state ${v.data.value.portState}`);
            round.ports = [v.data.value];
            break;
          case 'CURRENT_DATA_SET': round.current = v.data.value; break;
          case 'PARENT_DATA_SET': round.parent = v.data.value; break;
          case 'TIME_PROPERTIES_DATA_SET': round.timeProperties = v.data.value; break;
          case 'TIME_STATUS_NP': round.timeStatus = v.data.value; break;
        }
        const f = ptp4lFacts(round, 'SLAVE');
        check(typeof f.inExpectedState === 'boolean', 'inExpectedState is derived');
        check(f.masterOffsetNs === null || Number.isFinite(f.masterOffsetNs), 'master offset finite');
        formatPtp4lPartner({ ...PARTNER_PTP4L_DISABLED, enabled: true, socket: '/var/run/ptp4l', reachable: true, ...f });
        JSON.stringify(f);
      },
    };
  },
};
