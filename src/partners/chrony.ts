/**
 * chronyd as a partner: one round of read-only questions (tracking, the sources with their stats,
 * server stats) and the Status section made from the answers, with the derived facts (the system's
 * reference, whether the stack is synchronised) computed here once. The questions go through `ask`,
 * so the round and the section are pure and tested without a daemon; the UDP transport is below.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { removeStaleSockets } from './stale-sockets.ts';
import { dirname, join } from 'node:path';
import { isIP } from 'node:net';
import {
  encodeRequest, decodeReply, commandCode, addressText, refIdText, refIdHex, STT_UNAUTH,
  type ChronyRequest, type ChronyReply, type Decoded, type Tracking, type SourceData, type SourceStats, type ServerStats,
} from './chrony-codec.ts';
import type { PartnerChronyStatus, PartnerChronySource } from '../status/status.ts';
import { addon, addonProblem, type UnixDgramHandle } from '../native/addon.ts';

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

export type ChronyTransition =
  | { type: 'chronySyncLost'; reference: string | null; reason: string }
  | { type: 'chronySyncRegained'; reference: string; stratum: number }
  | { type: 'chronySourceFalseticker'; name: string; index: number }
  | { type: 'chronySourceFalsetickerEnded'; name: string; index: number; state: string };

/**
 * What changed between two rounds, as events: synchronisation lost or regained, a source becoming a
 * falseticker or ceasing to be one. `prev` is the last round's facts (null before the first answer:
 * nothing is a change then); `next` is this round's, or NO_CHRONY_FACTS with `unreachableWhy` when
 * chronyd did not answer (losing it is losing its synchronisation). Sources are matched by name.
 */
export function chronyTransitions(prev: ChronyFacts | null, next: ChronyFacts, unreachableWhy: string | null = null): ChronyTransition[] {
  if (!prev) return [];
  const out: ChronyTransition[] = [];
  if (prev.synchronised && !next.synchronised) {
    const reason = unreachableWhy !== null ? `chronyd does not answer: ${unreachableWhy}`
      : next.reference === null ? 'chronyd has no reference' : `leap status ${next.leapStatus}`;
    out.push({ type: 'chronySyncLost', reference: prev.reference, reason });
  } else if (!prev.synchronised && next.synchronised) {
    out.push({ type: 'chronySyncRegained', reference: next.reference ?? next.referenceId ?? '', stratum: next.stratum ?? 0 });
  }
  if (unreachableWhy !== null) return out; // sources unknown: not a change of theirs
  const before = new Map(prev.sources.map((s) => [s.name, s.state]));
  const after = new Map(next.sources.map((s, i) => [s.name, { state: s.state, index: i + 1 }]));
  for (const [name, now] of after) {
    if (now.state === 'x' && before.get(name) !== 'x') out.push({ type: 'chronySourceFalseticker', name, index: now.index });
  }
  prev.sources.forEach((s, i) => {
    if (s.state !== 'x') return;
    const now = after.get(s.name);
    if (!now) out.push({ type: 'chronySourceFalsetickerEnded', name: s.name, index: i + 1, state: 'gone' });
    else if (now.state !== 'x') out.push({ type: 'chronySourceFalsetickerEnded', name: s.name, index: now.index, state: now.state });
  });
  return out;
}

/**
 * One question at a time, each answered or given up after `timeoutMs` and retried (with a new
 * sequence number: a late answer to the first try is not taken for the second's) `attempts` times.
 * The transports below differ only in how a packet leaves and who may answer.
 */
abstract class ChronyClientBase {
  private sequence = randomInt(0, 2 ** 32 - 1);
  protected pending: { sequence: number; command: number; done: (r: Decoded<ChronyReply>) => void } | null = null;
  protected lastSocketError: string | null = null;
  /** Datagrams that were not an answer to the question asked (late, foreign). */
  ignored = 0;

  constructor(readonly timeoutMs: number, readonly attempts: number) {}

  abstract readonly where: string;
  /** Sends one packet; an error value when it cannot leave (nobody there, no permission). */
  protected abstract send(packet: Buffer, fail: (error: string) => void): void;
  /** Why nobody answered, after every try. */
  protected abstract silence(): string;
  abstract close(): void;

  protected onDatagram(msg: Buffer): void {
    const p = this.pending;
    if (!p) {
      this.ignored++;
      return;
    }
    const r = decodeReply(msg, { command: p.command, sequence: p.sequence });
    // Not ours (another try's sequence, another command): wait on for ours.
    if (!r.ok && /^sequence |^reply to command /.test(r.error)) {
      this.ignored++;
      return;
    }
    p.done(r);
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
        this.send(packet, (error) => done({ ok: false, error }));
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
      error: `no reply from chronyd at ${this.where} (${req.command}, ${this.attempts} tries of ${this.timeoutMs} ms): ${this.silence()}` +
        `${this.lastSocketError ? ` (last socket error: ${this.lastSocketError})` : ''}`,
    };
  };
}

/** The UDP transport: only datagrams from chronyd's address and port are read. chronyd answers
 * read-only requests here, but not server stats (those only on its Unix socket). */
export class ChronyUdpClient extends ChronyClientBase {
  private sock: Socket | null = null;
  readonly where: string;

  constructor(readonly address: string, readonly port: number, timeoutMs = 1000, attempts = 2) {
    super(timeoutMs, attempts);
    this.where = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  }

  private socket(): Socket {
    if (this.sock) return this.sock;
    const s = createSocket(isIP(this.address) === 6 ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      if (rinfo.port !== this.port || rinfo.address !== this.address) {
        this.ignored++;
        return;
      }
      this.onDatagram(msg);
    });
    s.on('error', (e) => {
      this.lastSocketError = e.message;
      this.pending?.done({ ok: false, error: `socket error: ${e.message}` });
    });
    this.sock = s;
    return s;
  }

  protected send(packet: Buffer, fail: (error: string) => void): void {
    this.socket().send(packet, this.port, this.address, (e) => { if (e) fail(`send failed: ${e.message}`); });
  }

  protected silence(): string {
    return 'not running, or its cmdport/bindcmdaddress is elsewhere';
  }

  close(): void {
    this.pending?.done({ ok: false, error: 'closed' });
    this.sock?.close();
    this.sock = null;
  }
}

/** Our reply sockets in chronyd's socket directory: stratum1.PID.HEX.sock. */
const OUR_SOCKET = /^stratum1\.(\d+)\.[0-9a-f]{8}\.sock$/;

/**
 * The Unix-socket transport, as chronyc uses it: our own datagram socket bound in the directory of
 * chronyd's socket (chronyd answers to the sender's path, and that directory, 0770 for chronyd's
 * user and group, is what keeps other users out), made writable for chronyd's user the way chronyc
 * makes its own. Everything chronyc can ask is answered here, server stats included. Binding needs
 * write access to that directory: the agent's user in chronyd's group (Debian: _chrony), or root.
 */
export class ChronyUnixClient extends ChronyClientBase {
  private handle: UnixDgramHandle | null = null;
  readonly localPath: string;
  readonly where: string;

  constructor(readonly socketPath: string, timeoutMs = 1000, attempts = 2) {
    super(timeoutMs, attempts);
    this.where = socketPath;
    this.localPath = join(dirname(socketPath), `stratum1.${process.pid}.${randomBytes(4).toString('hex')}.sock`);
  }

  /** Opens our socket: null when it is open, else why it cannot be (the caller falls back to UDP). */
  open(): string | null {
    if (this.handle) return null;
    if (!addon) return `chronyd's Unix socket needs the native addon: ${addonProblem ?? 'not loaded'}`;
    if (Buffer.byteLength(this.localPath) > 107) return `our reply socket's path would be over 107 bytes (${this.localPath})`;
    removeStaleSockets(dirname(this.socketPath), OUR_SOCKET);
    try {
      this.handle = addon.unixDgramBind(this.localPath, (msg) => {
        // An exception here would reach the addon's caller as a fatal one: never let a datagram do that.
        try {
          this.onDatagram(msg);
        } catch (e) {
          this.pending?.done({ ok: false, error: `reply not handled: ${(e as Error).message}` });
        }
      });
    } catch (e) {
      const m = (e as Error).message;
      return `cannot bind a reply socket in ${dirname(this.socketPath)} (${m}): the agent's user needs write access there ` +
        '(chronyd\'s group, Debian\'s _chrony), as chronyc does';
    }
    try {
      // chronyd may run as another user (_chrony): it must be able to send its answers here.
      chmodSync(this.localPath, 0o666);
    } catch (e) {
      this.close();
      return `cannot open our reply socket to chronyd (${(e as Error).message})`;
    }
    return null;
  }

  protected send(packet: Buffer, fail: (error: string) => void): void {
    const why = this.open();
    if (why) {
      fail(why);
      return;
    }
    const n = addon!.unixDgramSendTo(this.handle!, packet, this.socketPath);
    if (n < 0) {
      const what = n === -2 ? 'no such socket (chronyd not running, or its bindcmdaddress is elsewhere)'
        : n === -111 ? 'connection refused (chronyd not running)' : n === -13 ? 'permission denied' : n === -11 ? 'its queue is full' : `errno ${-n}`;
      fail(`cannot reach chronyd at ${this.socketPath}: ${what}`);
    }
  }

  protected silence(): string {
    return 'chronyd is not answering on its socket';
  }

  close(): void {
    this.pending?.done({ ok: false, error: 'closed' });
    if (this.handle) addon?.unixDgramUnbind(this.handle);
    this.handle = null;
  }
}
