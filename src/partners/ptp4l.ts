/**
 * ptp4l as a partner: one round of read-only GETs over linuxptp's management protocol (what `pmc -u`
 * asks: DEFAULT_DATA_SET for the number of ports, then PORT_DATA_SET from each port,
 * CURRENT_DATA_SET, PARENT_DATA_SET, TIME_PROPERTIES_DATA_SET, TIME_STATUS_NP) and the Status section
 * made from the answers, the derived facts (port state, whether it is the expected one, the
 * grandmaster and its quality) computed here once. The questions go through `ask`, so the round and
 * the section are pure and tested without a daemon; the Unix-socket transport is below.
 */
import { mkdirSync, chmodSync, rmSync, lstatSync } from 'node:fs';
import { removeStaleSockets } from './stale-sockets.ts';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { addon, addonProblem, type UnixDgramHandle } from '../native/addon.ts';
import {
  encodeGet, decodeResponse, pmcPortIdentity, PORT_STATES,
  type Decoded, type Ptp4lDataSet, type Ptp4lResponse, type DefaultDataSet, type PortDataSet, type CurrentDataSet,
  type ParentDataSet, type TimePropertiesDataSet, type TimeStatusNp, type PortStateName,
} from './ptp4l-codec.ts';
import type { PartnerPtp4lStatus } from '../status/status.ts';

/** Asks for one data set; resolves with the responses (up to `count`, one per port) or an error. */
export type Ask = (id: Ptp4lDataSet, count?: number) => Promise<Decoded<Ptp4lResponse[]>>;

export interface Ptp4lRound {
  defaultDs: DefaultDataSet;
  ports: PortDataSet[];
  current: CurrentDataSet;
  parent: ParentDataSet;
  timeProperties: TimePropertiesDataSet;
  timeStatus: TimeStatusNp | null;
  /** Why there is no TIME_STATUS_NP (an older or another PTP daemon may refuse it). */
  timeStatusProblem: string | null;
}

/** ptp4l has one port an interface; a clock claiming more than this is not believed. */
export const MAX_PORTS = 64;

type ValueOf<K extends Ptp4lDataSet> = Extract<Ptp4lResponse['data'], { id: K }>['value'];

function one<K extends Ptp4lDataSet>(r: Decoded<Ptp4lResponse[]>, id: K): Decoded<ValueOf<K>> {
  if (!r.ok) return r;
  const d = r.value[0]?.data;
  if (!d || d.id !== id) return { ok: false, error: `GET ${id}: no response` };
  return { ok: true, value: d.value as ValueOf<K> } as Decoded<ValueOf<K>>;
}

/** One round. Every data set but TIME_STATUS_NP is needed; a port that does not answer fails the round. */
export async function pollPtp4l(ask: Ask): Promise<Decoded<Ptp4lRound>> {
  const dds = one(await ask('DEFAULT_DATA_SET'), 'DEFAULT_DATA_SET');
  if (!dds.ok) return dds;
  const n = dds.value.numberPorts;
  if (n > MAX_PORTS) return { ok: false, error: `ptp4l reports ${n} ports (more than ${MAX_PORTS})` };
  const ports: PortDataSet[] = [];
  if (n > 0) {
    const p = await ask('PORT_DATA_SET', n);
    if (!p.ok) return p;
    for (const r of p.value) if (r.data.id === 'PORT_DATA_SET' && !ports.some((x) => x.portNumber === (r.data.value as PortDataSet).portNumber)) ports.push(r.data.value);
    ports.sort((a, b) => a.portNumber - b.portNumber);
  }
  const cur = one(await ask('CURRENT_DATA_SET'), 'CURRENT_DATA_SET');
  if (!cur.ok) return cur;
  const par = one(await ask('PARENT_DATA_SET'), 'PARENT_DATA_SET');
  if (!par.ok) return par;
  const tp = one(await ask('TIME_PROPERTIES_DATA_SET'), 'TIME_PROPERTIES_DATA_SET');
  if (!tp.ok) return tp;
  const ts = one(await ask('TIME_STATUS_NP'), 'TIME_STATUS_NP');
  return {
    ok: true,
    value: {
      defaultDs: dds.value, ports, current: cur.value, parent: par.value, timeProperties: tp.value,
      timeStatus: ts.ok ? ts.value : null, timeStatusProblem: ts.ok ? null : ts.error,
    },
  };
}

/** IEEE 1588 timeSource names (Table 7). */
export const TIME_SOURCES: Readonly<Record<number, string>> = {
  0x10: 'ATOMIC_CLOCK', 0x20: 'GPS', 0x30: 'TERRESTRIAL_RADIO', 0x40: 'PTP', 0x50: 'NTP', 0x60: 'HAND_SET', 0x90: 'OTHER', 0xa0: 'INTERNAL_OSCILLATOR',
};

export type Ptp4lFacts = Omit<PartnerPtp4lStatus, 'enabled' | 'socket' | 'localSocket' | 'problem' | 'reachable' | 'lastError' | 'lastReplyAgeS' |
  'polls' | 'failures' | 'reconnects' | 'expectedPortState' | 'phc2sys'>;

export const NO_PTP4L_FACTS: Ptp4lFacts = {
  portState: null, inExpectedState: false, ports: [], clockIdentity: null, numberPorts: null, domainNumber: null, slaveOnly: null,
  clockClass: null, grandmasterIdentity: null, isGrandmaster: null, parentPortIdentity: null, gmClockClass: null, gmClockAccuracy: null,
  gmOffsetScaledLogVariance: null, gmPriority1: null, gmPriority2: null, stepsRemoved: null, offsetFromMasterNs: null, meanPathDelayNs: null,
  currentUtcOffset: null, currentUtcOffsetValid: null, leap61: null, leap59: null, ptpTimescale: null, timeTraceable: null,
  frequencyTraceable: null, timeSource: null, timeSourceName: null, masterOffsetNs: null, ingressTimeNs: null, gmPresent: null,
  timeStatusGmIdentity: null, cumulativeScaledRateOffset: null, timeStatusProblem: null,
};

/**
 * The section's facts from one round, the derived ones computed once. portState is the state of the
 * clock's first port (most ptp4l run one); inExpectedState is true when every port is in `expected`
 * (a grandmaster's ports are all MASTER), or, when the expected state is SLAVE, when one port is
 * SLAVE (a boundary clock has one slave port and the others master). isGrandmaster: the clock is its
 * own grandmaster.
 */
export function ptp4lFacts(r: Ptp4lRound, expected: PortStateName): Ptp4lFacts {
  const d = r.defaultDs;
  const p = r.parent;
  const t = r.timeProperties;
  const inExpectedState = r.ports.length > 0 &&
    (expected === 'SLAVE' ? r.ports.some((x) => x.portState === 'SLAVE') : r.ports.every((x) => x.portState === expected));
  return {
    portState: r.ports[0]?.portState ?? null, inExpectedState,
    ports: r.ports.map((x) => ({
      portIdentity: x.portIdentity, portNumber: x.portNumber, portState: x.portState, logSyncInterval: x.logSyncInterval,
      logAnnounceInterval: x.logAnnounceInterval, announceReceiptTimeout: x.announceReceiptTimeout, logMinDelayReqInterval: x.logMinDelayReqInterval,
      delayMechanism: x.delayMechanism, peerMeanPathDelayNs: x.peerMeanPathDelayNs, versionNumber: x.versionNumber,
    })),
    clockIdentity: d.clockIdentity, numberPorts: d.numberPorts, domainNumber: d.domainNumber, slaveOnly: d.slaveOnly, clockClass: d.clockQuality.clockClass,
    grandmasterIdentity: p.grandmasterIdentity, isGrandmaster: p.grandmasterIdentity === d.clockIdentity, parentPortIdentity: p.parentPortIdentity,
    gmClockClass: p.grandmasterClockQuality.clockClass, gmClockAccuracy: p.grandmasterClockQuality.clockAccuracy,
    gmOffsetScaledLogVariance: p.grandmasterClockQuality.offsetScaledLogVariance, gmPriority1: p.grandmasterPriority1, gmPriority2: p.grandmasterPriority2,
    stepsRemoved: r.current.stepsRemoved, offsetFromMasterNs: r.current.offsetFromMasterNs, meanPathDelayNs: r.current.meanPathDelayNs,
    currentUtcOffset: t.currentUtcOffset, currentUtcOffsetValid: t.currentUtcOffsetValid, leap61: t.leap61, leap59: t.leap59,
    ptpTimescale: t.ptpTimescale, timeTraceable: t.timeTraceable, frequencyTraceable: t.frequencyTraceable, timeSource: t.timeSource,
    timeSourceName: TIME_SOURCES[t.timeSource] ?? null,
    masterOffsetNs: r.timeStatus ? Number(r.timeStatus.masterOffsetNs) : null,
    ingressTimeNs: r.timeStatus ? r.timeStatus.ingressTimeNs.toString() : null,
    gmPresent: r.timeStatus ? r.timeStatus.gmPresent : null, timeStatusGmIdentity: r.timeStatus ? r.timeStatus.gmIdentity : null,
    cumulativeScaledRateOffset: r.timeStatus ? r.timeStatus.cumulativeScaledRateOffset / 2 ** 41 : null,
    timeStatusProblem: r.timeStatusProblem,
  };
}

/** What changed between two answered rounds, as events (pure: the part stamps and emits them). */
export type Ptp4lTransition =
  | { type: 'ptp4lPortStateChanged'; from: string; to: string; expected: string; inExpectedState: boolean }
  | { type: 'ptp4lGrandmasterChanged'; fromIdentity: string; toIdentity: string; fromClockClass: number; toClockClass: number };

/** Transitions from the last answered facts (null before the first answer: nothing to compare) to the new ones. */
export function ptp4lTransitions(prev: Ptp4lFacts | null, next: Ptp4lFacts, expected: string): Ptp4lTransition[] {
  if (!prev) return [];
  const out: Ptp4lTransition[] = [];
  if (prev.portState !== next.portState) {
    out.push({ type: 'ptp4lPortStateChanged', from: prev.portState ?? 'NONE', to: next.portState ?? 'NONE', expected, inExpectedState: next.inExpectedState });
  }
  if (prev.grandmasterIdentity !== null && next.grandmasterIdentity !== null && prev.gmClockClass !== null && next.gmClockClass !== null &&
    (prev.grandmasterIdentity !== next.grandmasterIdentity || prev.gmClockClass !== next.gmClockClass)) {
    out.push({
      type: 'ptp4lGrandmasterChanged', fromIdentity: prev.grandmasterIdentity, toIdentity: next.grandmasterIdentity,
      fromClockClass: prev.gmClockClass, toClockClass: next.gmClockClass,
    });
  }
  return out;
}

export const isPortState = (s: string): s is PortStateName => (PORT_STATES as readonly string[]).includes(s);

/** A private directory for our socket: agent.state_dir/partners (0700), or /run/stratum1-agent. */
export function privateSocketDir(stateDir: string | undefined): string {
  for (const dir of [stateDir ? join(stateDir, 'partners') : undefined, '/run/stratum1-agent'].filter((x): x is string => !!x)) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      // Our socket name must fit sockaddr_un (107 bytes with the name below).
      if (Buffer.byteLength(dir) <= 70) return dir;
    } catch {
      // try the next
    }
  }
  throw new Error('no private directory of at most 70 bytes for the ptp4l partner\'s socket (agent.state_dir/partners or /run/stratum1-agent)');
}

/**
 * The Unix-socket transport: our own datagram socket bound to a unique path in a private directory
 * (ptp4l answers to the sender's path, as pmc's /var/run/pmc.PID), one question at a time; each
 * answered within `timeoutMs` or given up. Only GETs are ever sent. A reply is taken only when it
 * answers our question (same sequenceId, a RESPONSE for that data set).
 */
export class Ptp4lUdsClient {
  private handle: UnixDgramHandle | null = null;
  private sequence = randomInt(0, 0xffff);
  private readonly source = pmcPortIdentity(process.pid);
  private pending: { id: Ptp4lDataSet; sequenceId: number; want: number; got: Ptp4lResponse[]; done: (r: Decoded<Ptp4lResponse[]>) => void } | null = null;
  readonly localPath: string;
  /** Datagrams that were not an answer to the question asked (late, foreign, broken). */
  ignored = 0;

  constructor(readonly peerPath: string, dir: string, readonly timeoutMs = 1000, readonly domainNumber = 0) {
    this.localPath = join(dir, `ptp4l.${process.pid}.${randomBytes(4).toString('hex')}`);
    removeStaleSockets(dir, /^ptp4l\.(\d+)\.[0-9a-f]{8}$/);
  }

  private socket(): UnixDgramHandle {
    if (this.handle) return this.handle;
    if (!addon) throw new Error(`ptp4l's socket needs the native addon: ${addonProblem ?? 'not loaded'}`);
    try {
      if (lstatSync(this.localPath).isSocket()) rmSync(this.localPath);
    } catch {
      // not there: as expected
    }
    this.handle = addon.unixDgramBind(this.localPath, (msg) => {
      // An exception here would reach the addon's caller as a fatal one: never let a datagram do that.
      try {
        this.onMessage(msg);
      } catch (e) {
        this.pending?.done({ ok: false, error: `reply not handled: ${(e as Error).message}` });
      }
    });
    return this.handle;
  }

  /** Any sender is heard (ptp4l's path as it bound it may differ from ours through a symlink, /var/run
   * and /run): only root and our own user can write into the private directory, and a reply is taken
   * only when it answers the question asked. */
  private onMessage(msg: Buffer): void {
    const p = this.pending;
    if (!p) {
      this.ignored++;
      return;
    }
    const r = decodeResponse(msg, { id: p.id, sequenceId: p.sequenceId });
    if (!r.ok) {
      if (/^not ours/.test(r.error)) this.ignored++;
      else p.done(r);
      return;
    }
    p.got.push(r.value);
    if (p.got.length >= p.want) p.done({ ok: true, value: p.got });
  }

  readonly ask: Ask = (id, count = 1) => {
    const sequenceId = this.sequence = (this.sequence + 1) & 0xffff;
    return new Promise((resolve) => {
      let settled = false;
      const got: Ptp4lResponse[] = [];
      const done = (r: Decoded<Ptp4lResponse[]>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.pending?.sequenceId === sequenceId) this.pending = null;
        resolve(r);
      };
      const timer = setTimeout(() => done({
        ok: false,
        error: got.length ? `GET ${id}: ${got.length} of ${count} ports answered within ${this.timeoutMs} ms`
          : `no reply from ptp4l at ${this.peerPath} (GET ${id}, ${this.timeoutMs} ms)`,
      }), this.timeoutMs);
      this.pending = { id, sequenceId, want: Math.max(1, count), got, done };
      try {
        const n = addon!.unixDgramSendTo(this.socket(), encodeGet(id, sequenceId, this.source, this.domainNumber), this.peerPath);
        if (n < 0) {
          const why = n === -2 ? 'no such socket (ptp4l not running, or its uds_address is elsewhere)'
            : n === -111 ? 'connection refused (ptp4l not running)' : n === -13 ? 'permission denied' : `errno ${-n}`;
          done({ ok: false, error: `cannot reach ptp4l at ${this.peerPath}: ${why}` });
        }
      } catch (e) {
        done({ ok: false, error: (e as Error).message });
      }
    });
  };

  close(): void {
    this.pending?.done({ ok: false, error: 'closed' });
    if (this.handle) addon?.unixDgramUnbind(this.handle);
    this.handle = null;
  }
}
