/**
 * chronyd as a partner: one round of read-only questions (tracking, the sources with their stats,
 * server stats) and the Status section made from the answers, with the derived facts (the system's
 * reference, whether the stack is synchronised) computed here once. The questions go through `ask`,
 * so the round and the section are pure and tested without a daemon; the UDP transport is below.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import {
  encodeRequest, decodeReply, commandCode, addressText, refIdText, refIdHex, STT_UNAUTH,
  type ChronyRequest, type ChronyReply, type Decoded, type Tracking, type SourceData, type SourceStats, type ServerStats,
} from './chrony-codec.ts';
import type { PartnerChronyStatus, PartnerChronySource } from '../status/status.ts';

export type Ask = (req: ChronyRequest) => Promise<Decoded<ChronyReply>>;

/** What one round learned. */
export interface ChronyRound {
  tracking: Tracking;
  sources: { data: SourceData; stats: SourceStats | null }[];
  serverStats: ServerStats | null;
  /** Why there are no server stats (chronyd gives them only on its Unix socket). */
  serverStatsProblem: string | null;
}

/** chronyd keeps at most a few hundred sources; a reply claiming more is not believed. */
const MAX_SOURCES = 256;

/** One round: tracking, the number of sources, each source and its stats, server stats. An error
 * from tracking or the sources fails the round; missing stats do not. */
export async function pollChrony(ask: Ask): Promise<Decoded<ChronyRound>> {
  const t = await ask({ command: 'tracking' });
  if (!t.ok) return t;
  if (t.value.kind !== 'tracking') return { ok: false, error: 'tracking answered with another reply' };
  const n = await ask({ command: 'n_sources' });
  if (!n.ok) return n;
  if (n.value.kind !== 'n_sources') return { ok: false, error: 'n_sources answered with another reply' };
  if (n.value.n > MAX_SOURCES) return { ok: false, error: `chronyd reports ${n.value.n} sources (more than ${MAX_SOURCES})` };
  const sources: ChronyRound['sources'] = [];
  for (let i = 0; i < n.value.n; i++) {
    const d = await ask({ command: 'source_data', index: i });
    // A source removed between the count and the question: the rest are still worth showing.
    if (!d.ok && d.status === 4) continue;
    if (!d.ok) return d;
    if (d.value.kind !== 'source_data') return { ok: false, error: 'source_data answered with another reply' };
    const s = await ask({ command: 'sourcestats', index: i });
    sources.push({ data: d.value.value, stats: s.ok && s.value.kind === 'sourcestats' ? s.value.value : null });
  }
  const ss = await ask({ command: 'server_stats' });
  let serverStats: ServerStats | null = null;
  let serverStatsProblem: string | null = null;
  if (ss.ok && ss.value.kind === 'server_stats') serverStats = ss.value.value;
  else if (!ss.ok && ss.status === STT_UNAUTH) serverStatsProblem = 'chronyd gives server stats only on its Unix socket';
  else serverStatsProblem = ss.ok ? 'server_stats answered with another reply' : ss.error;
  return { ok: true, value: { tracking: t.value.value, sources, serverStats, serverStatsProblem } };
}

/** The part of the section that comes from chronyd's answers (nulls when there are none). */
export type ChronyFacts = Pick<PartnerChronyStatus, 'referenceId' | 'reference' | 'stratum' | 'refTimeUnixS' | 'systemOffsetNs' | 'lastOffsetNs' |
  'rmsOffsetNs' | 'frequencyPpm' | 'residualFreqPpm' | 'skewPpm' | 'rootDelayS' | 'rootDispersionS' | 'updateIntervalS' | 'leapStatus' |
  'synchronised' | 'sources' | 'serverStats' | 'serverStatsProblem'>;

export const NO_CHRONY_FACTS: ChronyFacts = {
  referenceId: null, reference: null, stratum: null, refTimeUnixS: null, systemOffsetNs: null, lastOffsetNs: null, rmsOffsetNs: null,
  frequencyPpm: null, residualFreqPpm: null, skewPpm: null, rootDelayS: null, rootDispersionS: null, updateIntervalS: null,
  leapStatus: null, synchronised: false, sources: [], serverStats: null, serverStatsProblem: null,
};

const ns = (s: number) => Math.round(s * 1e9 * 1000) / 1000;

/** The reference as chronyc tracking names it: the server's address, else the reference ID as text
 * (a refclock's "GPS", "PPS"), else the ID in hex (the local clock's 7F7F0101 has no text). */
export function referenceName(t: Pick<Tracking, 'refId' | 'address'>): string {
  if (t.address.family === 'ipv4' || t.address.family === 'ipv6') return t.address.text;
  return refIdText(t.refId) || refIdHex(t.refId);
}

export function sourceFromReply(d: SourceData, st: SourceStats | null): PartnerChronySource {
  const address = d.address.family === 'ipv4' || d.address.family === 'ipv6' ? d.address.text : null;
  // A refclock's "address" is its reference ID (chronyc shows it as text).
  const name = d.mode === 'refclock' && d.address.family === 'ipv4'
    ? refIdText(Number(d.address.text.split('.').reduce((a, o) => a * 256 + Number(o), 0))) : addressText(d.address);
  return {
    name, address: d.mode === 'refclock' ? null : address, mode: d.mode, state: d.state, stratum: d.stratum, pollLog2: d.pollLog2,
    reach: d.reachability.toString(8), lastRxAgeS: d.sinceSampleS,
    offsetNs: ns(d.latestMeasS), measuredOffsetNs: ns(d.origLatestMeasS), errorNs: ns(d.latestMeasErrS),
    stats: st && {
      samples: st.samples, runs: st.runs, spanS: st.spanS, frequencyPpm: st.residFreqPpm, skewPpm: st.skewPpm,
      offsetNs: ns(st.estOffsetS), stdDevNs: ns(st.sdS),
    },
  };
}

/** The section's facts from one round, the derived ones computed once: synchronised means chronyd
 * has a reference (a nonzero reference ID) and its leap status is not "unsynchronised". */
export function chronyFacts(r: ChronyRound): ChronyFacts {
  const t = r.tracking;
  const hasReference = t.refId !== 0 && t.stratum > 0 && t.stratum < 16;
  return {
    referenceId: refIdHex(t.refId), reference: hasReference ? referenceName(t) : null, stratum: t.stratum,
    refTimeUnixS: t.refTime.seconds + t.refTime.nanoseconds / 1e9,
    // chronyd's current correction is what it still has to add to the system clock: the system clock
    // minus NTP time is its negative (chronyc: "seconds fast of NTP time" when positive here).
    systemOffsetNs: ns(-t.currentCorrectionS) + 0, lastOffsetNs: ns(t.lastOffsetS), rmsOffsetNs: ns(t.rmsOffsetS),
    frequencyPpm: t.freqPpm, residualFreqPpm: t.residFreqPpm, skewPpm: t.skewPpm, rootDelayS: t.rootDelayS, rootDispersionS: t.rootDispersionS,
    updateIntervalS: t.lastUpdateIntervalS, leapStatus: t.leapStatus,
    synchronised: hasReference && t.leapStatus !== 'unsynchronised' && t.leapStatus !== 'invalid',
    sources: r.sources.map((s) => sourceFromReply(s.data, s.stats)),
    serverStats: r.serverStats && { ...r.serverStats }, serverStatsProblem: r.serverStatsProblem,
  };
}

/**
 * The UDP transport: one socket, one question at a time, each answered or given up after `timeoutMs`
 * and retried (with a new sequence number: a late answer to the first try is not taken for the
 * second's) `attempts` times. Only datagrams from chronyd's address and port are read.
 */
export class ChronyUdpClient {
  private sock: Socket | null = null;
  private sequence = randomInt(0, 2 ** 32 - 1);
  private pending: { sequence: number; command: number; done: (r: Decoded<ChronyReply>) => void } | null = null;
  private lastSocketError: string | null = null;

  constructor(readonly address: string, readonly port: number, readonly timeoutMs = 1000, readonly attempts = 2) {}

  private socket(): Socket {
    if (this.sock) return this.sock;
    const s = createSocket(isIP(this.address) === 6 ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      if (rinfo.port !== this.port || rinfo.address !== this.address || !this.pending) return;
      const r = decodeReply(msg, { command: this.pending.command, sequence: this.pending.sequence });
      // Not ours (another try's sequence, another command): wait on for ours.
      if (!r.ok && /^sequence |^reply to command /.test(r.error)) return;
      this.pending.done(r);
    });
    s.on('error', (e) => {
      this.lastSocketError = e.message;
      this.pending?.done({ ok: false, error: `socket error: ${e.message}` });
    });
    this.sock = s;
    return s;
  }

  private once(req: ChronyRequest, attempt: number): Promise<Decoded<ChronyReply> | null> {
    const sequence = this.sequence = (this.sequence + 1) >>> 0;
    const packet = encodeRequest(req, sequence, attempt);
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: Decoded<ChronyReply> | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.pending?.sequence === sequence) this.pending = null;
        resolve(r);
      };
      const timer = setTimeout(() => done(null), this.timeoutMs);
      this.pending = { sequence, command: commandCode(req.command), done };
      try {
        this.socket().send(packet, this.port, this.address, (e) => { if (e) done({ ok: false, error: `send failed: ${e.message}` }); });
      } catch (e) {
        done({ ok: false, error: `send failed: ${(e as Error).message}` });
      }
    });
  }

  readonly ask: Ask = async (req) => {
    for (let a = 0; a < this.attempts; a++) {
      const r = await this.once(req, a);
      if (r) return r;
    }
    return {
      ok: false,
      error: `no reply from chronyd at ${this.address}:${this.port} (${req.command}, ${this.attempts} tries of ${this.timeoutMs} ms): ` +
        `not running, or its cmdport/bindcmdaddress is elsewhere${this.lastSocketError ? ` (last socket error: ${this.lastSocketError})` : ''}`,
    };
  };

  close(): void {
    this.pending?.done({ ok: false, error: 'closed' });
    this.sock?.close();
    this.sock = null;
  }
}
