/**
 * chrony-reply. Contract (src/partners/chrony-codec.ts, src/partners/chrony.ts): decodeReply never
 * throws, whatever the datagram; an accepted reply answers the command it echoes (its format is one
 * that command gets), its numbers are finite, its state and mode are chronyc's, its nanoseconds below
 * 1e9; and a round built from it (the Status facts, the `stratum1 status` text) does not throw either.
 * Each input is decoded against the command and sequence it carries, so mutations reach the data.
 * Seeds: replies recorded from chronyd 4.3 (test/partners/chrony-recorded.ts) and a 4.4 server stats.
 */
import { decodeReply, REQ, RPY, SOURCE_STATE_CHARS, SOURCE_MODES, type ChronyReply } from '../../../src/partners/chrony-codec.ts';
import { chronyFacts, type ChronyRound } from '../../../src/partners/chrony.ts';
import { formatChronyPartner } from '../../../src/partners/chrony-format.ts';
import { PARTNER_CHRONY_DISABLED } from '../../../src/status/status.ts';
import { REC } from '../../partners/chrony-recorded.ts';
import { mutateBytes } from '../mutate.ts';
import { check, type Target } from '../engine.ts';

const ANSWERS: Readonly<Record<number, readonly number[]>> = {
  [REQ.TRACKING]: [RPY.TRACKING], [REQ.N_SOURCES]: [RPY.N_SOURCES], [REQ.SOURCE_DATA]: [RPY.SOURCE_DATA],
  [REQ.SOURCESTATS]: [RPY.SOURCESTATS], [REQ.SERVER_STATS]: [RPY.SERVER_STATS3, RPY.SERVER_STATS4],
};

function seeds(): Uint8Array[] {
  const out = Object.values(REC).map((h) => new Uint8Array(Buffer.from(h, 'hex')));
  const wide = Buffer.alloc(28 + 168, 0x11);
  Buffer.from(REC.serverStats, 'hex').copy(wide, 0, 0, 28);
  wide.writeUInt16BE(RPY.SERVER_STATS4, 6);
  out.push(new Uint8Array(wide));
  return out;
}

/** The recorded round: the tracking, source and stats replies as decoded. */
function baseRound(): ChronyRound {
  const rec = <K extends ChronyReply['kind']>(h: string, cmd: number, kind: K): Extract<ChronyReply, { kind: K }> => {
    const r = Buffer.from(h, 'hex');
    const d = decodeReply(r, { command: cmd, sequence: r.readUInt32BE(16) });
    if (!d.ok || d.value.kind !== kind) throw new Error(`the recorded ${kind} reply does not decode`);
    return d.value as Extract<ChronyReply, { kind: K }>;
  };
  return {
    tracking: rec(REC.tracking, REQ.TRACKING, 'tracking').value,
    sources: [{ data: rec(REC.sourceData, REQ.SOURCE_DATA, 'source_data').value, stats: rec(REC.sourcestats, REQ.SOURCESTATS, 'sourcestats').value }],
    serverStats: null, serverStatsProblem: null,
  };
}

function finiteAll(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (v && typeof v === 'object') return Object.values(v).every(finiteAll);
  return true;
}

export const chronyReply: Target = {
  name: 'chrony-reply',
  contract: 'decodeReply never throws; an accepted reply has a format its echoed command gets, finite numbers, chronyc\'s state and mode, nanoseconds below 1e9; the Status facts and status text built from it do not throw.',
  setup() {
    return {
      seeds: seeds(),
      mutate: (rng, input, s) => mutateBytes(rng, input, s, { maxLen: 600 }),
      run(input) {
        const b = Buffer.from(input);
        const command = b.length >= 6 ? b.readUInt16BE(4) : 0;
        const sequence = b.length >= 20 ? b.readUInt32BE(16) : 0;
        const d = decodeReply(input, { command, sequence });
        if (!d.ok) {
          check(typeof d.error === 'string' && d.error.length > 0, 'an error value with a message');
          return;
        }
        const v = d.value;
        check(b.length >= 28, `accepted ${b.length} bytes`);
        if (ANSWERS[command]) check(v.kind !== 'null', `command ${command} answered with a null reply`);
        check(finiteAll(v), `non-finite number in ${JSON.stringify(v)}`);
        if (v.kind === 'source_data') {
          check((SOURCE_STATE_CHARS as readonly string[]).includes(v.value.state) || v.value.state === ' ', `state ${v.value.state}`);
          check((SOURCE_MODES as readonly string[]).includes(v.value.mode) || v.value.mode === 'unknown', `mode ${v.value.mode}`);
        }
        if (v.kind === 'tracking') check(v.value.refTime.nanoseconds <= 999_999_999, 'nanoseconds');
        // The Status facts and the text from this reply, with the recorded answers for the rest of the round.
        const round = baseRound();
        if (v.kind === 'tracking') round.tracking = v.value;
        if (v.kind === 'source_data') round.sources = [{ data: v.value, stats: round.sources[0]!.stats }];
        if (v.kind === 'sourcestats') round.sources = [{ data: round.sources[0]!.data, stats: v.value }];
        if (v.kind === 'server_stats') round.serverStats = v.value;
        const f = chronyFacts(round);
        check(typeof f.synchronised === 'boolean', 'synchronised is derived');
        check(f.sources.every((x) => /^[0-7]+$/.test(x.reach)), 'reach in octal');
        formatChronyPartner({ ...PARTNER_CHRONY_DISABLED, enabled: true, transport: 'udp 127.0.0.1:323', reachable: true, ...f });
      },
    };
  },
};
