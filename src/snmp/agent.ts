/**
 * The SNMP agent (standalone, UDP), built on net-snmp: our MIB's providers generated from mib.ts, the
 * SNMPv2-MIB system group, values refreshed from Status once a second. Security: SNMPv3 users
 * (authPriv by default), v1/v2c only for configured communities and only from configured networks,
 * read-only, oversize requests dropped, GetBulk repetitions capped (no amplification).
 */
import dgram from 'node:dgram';
import snmp from 'net-snmp';
import type { Status, Endpoint } from '../status/status.ts';
import { AccessList } from '../ntp/acl.ts';
import { PerSecondCap, RateLimiter, clientKey } from '../net/ratelimit.ts';
import { EngineClock, timeliness } from './usm.ts';
import { timingSafeEqual } from 'node:crypto';
import { allScalars, allTables, type Syntax, type Value } from './mib.ts';
import { V4_SCALARS, V4_TABLES, type V4Type, type V4Context } from './ntpv4-mib.ts';

export function v4Type(t: V4Type): number {
  switch (t) {
    case 'string': case 'octets': return snmp.ObjectType.OctetString;
    case 'gauge': return snmp.ObjectType.Gauge;
    case 'counter': return snmp.ObjectType.Counter;
    case 'ticks': return snmp.ObjectType.TimeTicks;
    default: return snmp.ObjectType.Integer;
  }
}

export interface SnmpUser {
  name: string;
  auth: 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512' | 'md5';
  authKey: string;
  priv: 'aes' | 'des' | 'none';
  privKey: string;
}

export interface SnmpAgentOptions {
  address: string;
  port: number;
  root: string;
  engineId: string;
  communities: string[];
  v2cAllow: string[];
  users: SnmpUser[];
  system: { descr: string; contact: string; name: string; location: string };
  maxRequestBytes: number;
  maxRepetitions: number;
  /** Requests a source may send each second (its burst is twice that); 0: no limit. */
  requestsPerSecond: number;
  /** v1/v2c replies are at most this many times their request's size; 0: no cap. */
  maxReplyRatio: number;
  /** Report PDUs (SNMPv3 discovery and USM errors) sent each second, whoever asks. */
  reportsPerSecond: number;
  /** snmpEngineBoots of this start (RFC 3414): counted in the state directory. */
  engineBoots: number;
}

export interface SnmpStats {
  requests: number;
  droppedSource: number;
  droppedSize: number;
  /** Datagrams that are no SNMP message (not BER, or no version). */
  droppedMalformed: number;
  /** v1/v2c requests with a wrong community, and requests refused because their source kept guessing. */
  badCommunity: number;
  guessingRefused: number;
  /** Requests refused because their source went over snmp.requests_per_second. */
  rateLimited: number;
  /** SNMPv3 requests authenticated for another engine ID (answered with an unknownEngineID Report). */
  unknownEngineId: number;
  /** SNMPv3 requests outside the time window: replays, or a manager that must resynchronise. */
  notInTimeWindow: number;
  /** v1/v2c replies cut to the reply-size cap (GetBulk rows left out, or tooBig). */
  repliesCapped: number;
  /** Reports not sent because snmp.reports_per_second was reached. */
  reportsCapped: number;
  errors: number;
}

const SYS = '1.3.6.1.2.1.1';

export function objectType(s: Syntax): number {
  switch (s.base) {
    case 'DisplayString': case 'DateAndTime': return snmp.ObjectType.OctetString;
    case 'Gauge32': case 'Unsigned32': return snmp.ObjectType.Gauge;
    case 'Counter32': return snmp.ObjectType.Counter;
    case 'TimeTicks': return snmp.ObjectType.TimeTicks;
    default: return snmp.ObjectType.Integer;
  }
}

/** A DateAndTime (SNMPv2-TC) from an ISO 8601 UTC time: the 11-octet form with direction '+' and
 * offset 0, to the tenth of a second; null is '0000000000000000'H (not set). */
export function dateAndTime(iso: string | null): Buffer {
  const t = iso === null ? NaN : Date.parse(iso);
  if (!Number.isFinite(t)) return Buffer.alloc(8);
  const d = new Date(t);
  const b = Buffer.alloc(11);
  b.writeUInt16BE(d.getUTCFullYear(), 0);
  b.writeUInt8(d.getUTCMonth() + 1, 2);
  b.writeUInt8(d.getUTCDate(), 3);
  b.writeUInt8(d.getUTCHours(), 4);
  b.writeUInt8(d.getUTCMinutes(), 5);
  b.writeUInt8(d.getUTCSeconds(), 6);
  b.writeUInt8(Math.floor(d.getUTCMilliseconds() / 100), 7);
  b.write('+', 8, 'latin1');
  return b;
}

export function encode(s: Syntax, v: Value): number | string | Buffer {
  if (s.base === 'TruthValue') return v ? 1 : 2;
  if (s.base === 'DateAndTime') return dateAndTime(typeof v === 'string' ? v : null);
  if (s.base === 'DisplayString') return v === null ? '' : String(v);
  return typeof v === 'number' ? v : v === null ? 0 : Number(v);
}

/** A BER length at b[i]: its value and where the content starts, or undefined. */
function berLength(b: Buffer, i: number): { len: number; at: number } | undefined {
  const l = b[i];
  if (l === undefined) return undefined;
  if (l < 0x80) return { len: l, at: i + 1 };
  const n = l & 0x7f;
  if (n === 0 || n > 4 || i + 1 + n > b.length) return undefined;
  let len = 0;
  for (let k = 0; k < n; k++) len = len * 256 + b[i + 1 + k]!;
  return { len, at: i + 1 + n };
}

/**
 * The start of an SNMP message, read as BER allows it to be written: the version (0 v1, 1 v2c, 3 v3),
 * in any length encoding (a non-minimal one slipped past a gate that knew only the one-octet form:
 * found by issue 15), and for v1/v2c the community. Undefined if it is not an SNMP message at all.
 */
export function messageHead(b: Buffer): { version: number; community: Buffer | undefined } | undefined {
  if (b[0] !== 0x30) return undefined;
  const seq = berLength(b, 1);
  if (!seq || b[seq.at] !== 0x02) return undefined;
  const vl = berLength(b, seq.at + 1);
  if (!vl || vl.len < 1 || vl.len > 4 || vl.at + vl.len > b.length) return undefined;
  let version = 0;
  for (let k = 0; k < vl.len; k++) version = version * 256 + b[vl.at + k]!;
  if (b[vl.at]! & 0x80) return undefined; // negative
  const next = vl.at + vl.len;
  if (version !== 0 && version !== 1) return { version, community: undefined };
  if (b[next] !== 0x04) return undefined;
  const cl = berLength(b, next + 1);
  if (!cl || cl.at + cl.len > b.length) return undefined;
  return { version, community: b.subarray(cl.at, cl.at + cl.len) };
}

/** SNMP version of a raw message (0 v1, 1 v2c, 3 v3), or undefined if it is not BER we understand. */
export function messageVersion(b: Buffer): number | undefined {
  return messageHead(b)?.version;
}

/**
 * Community guessing, bounded: each wrong community costs its source a token (10 a minute, burst 10,
 * in the NTP server's bounded limiter); a source out of tokens is not heard at all, right community or
 * not, for a minute. At 25 000 guesses a second that is 10 a minute instead.
 */
export class CommunityGuard {
  private readonly failures = new RateLimiter({ intervalS: 6, burst: 10, slots: 4096 });
  /** Sources not heard until the time given (monotonic s); bounded, the oldest forgotten first. */
  private readonly blocked = new Map<string, number>();
  wrong = 0;
  refused = 0;

  constructor(private readonly communities: readonly Buffer[]) {}

  /** Whether a v1/v2c request from `source` with `community` may reach the agent. */
  allow(source: string, community: Buffer, nowS: number): boolean {
    const until = this.blocked.get(source);
    if (until !== undefined) {
      if (nowS < until) {
        this.refused++;
        return false;
      }
      this.blocked.delete(source);
    }
    if (this.communities.some((c) => c.length === community.length && timingSafeEqual(c, community))) return true;
    this.wrong++;
    if (!this.failures.allow(source, nowS)) {
      if (this.blocked.size >= 1024) this.blocked.delete(this.blocked.keys().next().value!);
      this.blocked.set(source, nowS + 60);
    }
    return false;
  }
}

/** Every provider the agent serves: the system group (standalone only: under AgentX the master owns
 * it), our MIB, NTPv4-MIB. Generated from the definitions, never listed by hand. */
export function providerDefinitions(root: string, includeSystem: boolean): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const ro = snmp.MaxAccess['read-only'];
  if (includeSystem) {
    const sys = [
      ['sysDescr', 1, snmp.ObjectType.OctetString], ['sysObjectID', 2, snmp.ObjectType.OID], ['sysUpTime', 3, snmp.ObjectType.TimeTicks],
      ['sysContact', 4, snmp.ObjectType.OctetString], ['sysName', 5, snmp.ObjectType.OctetString],
      ['sysLocation', 6, snmp.ObjectType.OctetString], ['sysServices', 7, snmp.ObjectType.Integer],
    ] as const;
    for (const [name, n, type] of sys) out.push({ name, type: snmp.MibProviderType.Scalar, oid: `${SYS}.${n}`, scalarType: type, maxAccess: ro });
  }
  for (const { oid, def } of allScalars()) {
    out.push({ name: def.name, type: snmp.MibProviderType.Scalar, oid: `${root}.${oid.join('.')}`, scalarType: objectType(def.syntax), maxAccess: ro });
  }
  for (const { oid, def } of allTables()) {
    out.push({
      name: def.name, type: snmp.MibProviderType.Table, oid: `${root}.${oid.join('.')}.1`, maxAccess: snmp.MaxAccess['not-accessible'],
      tableColumns: def.columns.map((c) => ({ number: c.sub, name: c.name, type: objectType(c.syntax), maxAccess: c.index ? snmp.MaxAccess['not-accessible'] : ro })),
      tableIndex: def.columns.filter((c) => c.index).map((c) => ({ columnName: c.name })),
    });
  }
  for (const v of V4_SCALARS) out.push({ name: v.name, type: snmp.MibProviderType.Scalar, oid: v.oid, scalarType: v4Type(v.type), maxAccess: ro });
  for (const t of V4_TABLES) {
    const augments = t.name === 'ntpAssociationStatisticsTable' ? 'ntpAssociationTable' : undefined;
    const cols = t.columns.filter((c) => !(augments && c.index));
    out.push({
      name: t.name, type: snmp.MibProviderType.Table, oid: t.entryOid, maxAccess: snmp.MaxAccess['not-accessible'],
      tableColumns: cols.map((c) => ({ number: c.sub, name: c.name, type: v4Type(c.type), maxAccess: c.index ? snmp.MaxAccess['not-accessible'] : ro })),
      ...(augments ? { tableAugments: augments } : { tableIndex: [{ columnName: t.columns.find((c) => c.index)!.name }] }),
    });
  }
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type NetSnmpMib = any;

/** The index of each row each table holds in the library's MIB, by its JSON text. */
export type RowKeys = Map<string, Map<string, (number | string)[]>>;

/** Makes a table's rows in the MIB those given: rows whose index is gone are deleted, new ones
 * added, the rest updated in place. Values are already encoded; the index is made of the columns
 * marked `index`, in their order (s1SatTable's is two: constellation and PRN). */
function syncTable(mib: NetSnmpMib, name: string, columns: { sub: number; index?: boolean }[], rows: (number | string | Buffer)[][], keys: RowKeys): void {
  const ix = columns.flatMap((c, k) => (c.index ? [k] : []));
  const had = keys.get(name) ?? new Map<string, (number | string)[]>();
  const now = new Map(rows.map((r) => {
    const key = ix.map((k) => r[k] as number | string);
    return [JSON.stringify(key), key] as const;
  }));
  for (const [text, key] of had) if (!now.has(text)) mib.deleteTableRow(name, key);
  for (const r of rows) {
    const key = ix.map((k) => r[k] as number | string);
    if (had.has(JSON.stringify(key))) columns.forEach((c, k) => { if (!c.index) mib.setTableSingleCell(name, c.sub, key, r[k]); });
    else mib.addTableRow(name, r);
  }
  keys.set(name, now);
}

/** Sets every value of `mib` from one Status. */
export function refreshMib(mib: NetSnmpMib, st: Status, v4: (s: Status) => V4Context, root: string,
  sy: SnmpAgentOptions['system'], keys: RowKeys, includeSystem: boolean): void {
  if (includeSystem) {
    mib.setScalarValue('sysDescr', sy.descr);
    mib.setScalarValue('sysObjectID', root);
    mib.setScalarValue('sysUpTime', Math.round(st.agent.uptimeS * 100) % 4294967296);
    mib.setScalarValue('sysContact', sy.contact);
    mib.setScalarValue('sysName', sy.name);
    mib.setScalarValue('sysLocation', sy.location);
    mib.setScalarValue('sysServices', 72);
  }
  for (const { def } of allScalars()) mib.setScalarValue(def.name, encode(def.syntax, def.get(st)));
  for (const { def } of allTables()) {
    syncTable(mib, def.name, def.columns, def.rows(st).map((r) => r.map((v, k) => encode(def.columns[k]!.syntax, v))), keys);
  }
  const ctx = v4(st);
  for (const v of V4_SCALARS) mib.setScalarValue(v.name, v.get(ctx));
  for (const t of V4_TABLES) syncTable(mib, t.name, t.columns, t.rows(ctx), keys);
}

/** What we use of net-snmp's message and agent internals (the typings do not describe them). */
interface NsVarbind { oid: string; type: number; value: unknown }
interface NsPdu { id: number; type: number; varbinds: NsVarbind[]; errorStatus?: number; errorIndex?: number; getResponsePduForRequest(): NsPdu }
interface NsUser { name: string; level: number; authProtocol?: unknown; authKey?: string }
interface NsMessage {
  version: number;
  pdu: NsPdu;
  buffer?: Buffer | null;
  user?: NsUser;
  msgGlobalData?: { msgID: number; msgFlags: number };
  msgSecurityParameters?: { msgAuthoritativeEngineID: Buffer | string; msgAuthoritativeEngineBoots: number; msgAuthoritativeEngineTime: number; msgUserName: string };
  createReportResponseMessage(engine: unknown, context: string, errorType: string): NsMessage;
  createResponseForRequest(pdu: NsPdu): NsMessage;
  toBuffer(): Buffer;
}
type Handler = (socket: unknown, message: NsMessage, rinfo: dgram.RemoteInfo) => void;
interface NsAgent {
  engine: { engineID: Buffer; engineBoots: number; engineTime: number };
  listener: { send(message: NsMessage, rinfo: dgram.RemoteInfo, socket: unknown): void };
  getRequest: Handler; getNextRequest: Handler; getBulkRequest: Handler; setRequest: Handler; onProxyRequest: Handler;
  sendResponse(socket: unknown, rinfo: dgram.RemoteInfo, request: NsMessage, response: NsPdu): void;
}

const PDU_GETBULK = 0xa5;
const PDU_REPORT = 0xa8;
const ERR_TOO_BIG = 1;
const ERR_NO_CREATION = 11;
const ERR_NOT_WRITABLE = 17;
const USM_NOT_IN_TIME_WINDOW = '2';
const USM_UNKNOWN_ENGINE_ID = '4';
const int32 = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) <= 2 ** 31 - 1;
/** An OID net-snmp can look up and write back (its Mib.convertOidToAddress throws on the others):
 * two arcs or more, the first 0, 1 or 2, the second at most 39, each at most 2^31-1. */
export function validOid(oid: unknown): boolean {
  if (typeof oid !== 'string' || !/^[0-2](\.(0|[1-9]\d{0,9}))+$/.test(oid)) return false;
  const arcs = oid.split('.').map(Number);
  return arcs[1]! <= 39 && arcs.every((a) => a <= 2 ** 31 - 1);
}

export class SnmpAgent {
  private agent: ReturnType<typeof snmp.createAgent> | undefined;
  private rowKeys: RowKeys = new Map();
  readonly stats: SnmpStats = {
    requests: 0, droppedSource: 0, droppedSize: 0, droppedMalformed: 0, badCommunity: 0, guessingRefused: 0, rateLimited: 0,
    unknownEngineId: 0, notInTimeWindow: 0, repliesCapped: 0, reportsCapped: 0, errors: 0,
  };
  private acl: AccessList;
  private readonly guard: CommunityGuard;
  private readonly perSource: RateLimiter | undefined;
  private readonly reports: PerSecondCap;
  private lastErrorLogS = -Infinity;

  constructor(
    private readonly o: SnmpAgentOptions,
    private readonly status: () => Status,
    private readonly onError: (msg: string) => void,
    private readonly v4: (s: Status) => V4Context,
    /** A monotonic reading in seconds (the community guard's, the rate limits' and snmpEngineTime's clock). */
    private readonly monotonicS: () => number = () => 0,
  ) {
    this.acl = new AccessList(o.v2cAllow, []);
    this.guard = new CommunityGuard(o.communities.map((c) => Buffer.from(c, 'utf8')));
    this.perSource = o.requestsPerSecond > 0 ? new RateLimiter({ intervalS: 1 / o.requestsPerSecond, burst: 2 * o.requestsPerSecond, slots: 4096 }) : undefined;
    this.reports = new PerSecondCap(o.reportsPerSecond);
  }

  /** A failure inside the library, counted; said in the log at most once a minute (a flood must not fill it). */
  private failed(what: string, e: unknown): void {
    this.stats.errors++;
    const now = this.monotonicS();
    if (now - this.lastErrorLogS < 60) return;
    this.lastErrorLogS = now;
    this.onError(`SNMP ${what} failed: ${(e as Error).message} (${this.stats.errors} failures so far; said at most once a minute)`);
  }

  start(): Promise<Endpoint> {
    const o = this.o;
    const gate = (msg: Buffer, rinfo: dgram.RemoteInfo): boolean => {
      this.stats.requests++;
      if (msg.length > o.maxRequestBytes) {
        this.stats.droppedSize++;
        return false;
      }
      const head = messageHead(msg);
      if (!head) {
        this.stats.droppedMalformed++;
        return false;
      }
      if ((head.version === 0 || head.version === 1) && (o.communities.length === 0 || !this.acl.permits(rinfo.address))) {
        this.stats.droppedSource++;
        return false;
      }
      const source = clientKey(rinfo.address);
      if (head.community && !this.guard.allow(source, head.community, this.monotonicS())) {
        this.stats.badCommunity = this.guard.wrong;
        this.stats.guessingRefused = this.guard.refused;
        return false;
      }
      if (this.perSource && !this.perSource.allow(source, this.monotonicS())) {
        this.stats.rateLimited++;
        return false;
      }
      return true;
    };
    let bound: dgram.Socket | undefined;
    // net-snmp lets us supply the dgram module: our sockets filter what reaches it.
    const dgramModule = {
      createSocket: (type: dgram.SocketType) => {
        const s = dgram.createSocket(type);
        bound = s;
        const on = s.on.bind(s) as (ev: string, fn: (...a: unknown[]) => void) => dgram.Socket;
        (s as unknown as { on: typeof on }).on = (ev, fn) => {
          if (ev !== 'message') return on(ev, fn);
          return on('message', (msg: unknown, rinfo: unknown) => {
            if (!gate(msg as Buffer, rinfo as dgram.RemoteInfo)) return;
            try {
              fn(msg, rinfo);
            } catch (e) {
              this.failed('request', e);
            }
          });
        };
        return s;
      },
    };
    const agent = snmp.createAgent({
      port: o.port, address: o.address, transport: o.address.includes(':') ? 'udp6' : 'udp4',
      engineID: o.engineId, disableAuthorization: false,
      accessControlModelType: snmp.AccessControlModelType.Simple, dgramModule,
    }, (error: Error | null) => {
      if (error) this.stats.errors++;
    });
    this.agent = agent;
    this.harden(agent as unknown as NsAgent);
    const auth = agent.getAuthorizer();
    const acm = auth.getAccessControlModel();
    for (const c of o.communities) {
      auth.addCommunity(c);
      acm.setCommunityAccess(c, snmp.AccessLevel.ReadOnly);
    }
    for (const u of o.users) {
      auth.addUser({
        name: u.name,
        level: u.priv === 'none' ? snmp.SecurityLevel.authNoPriv : snmp.SecurityLevel.authPriv,
        authProtocol: snmp.AuthProtocols[u.auth], authKey: u.authKey,
        privProtocol: snmp.PrivProtocols[u.priv === 'none' ? 'none' : u.priv], privKey: u.privKey,
      });
      acm.setUserAccess(u.name, snmp.AccessLevel.ReadOnly);
    }
    this.register();
    this.refresh();
    return new Promise((resolve, reject) => {
      const s = bound;
      if (!s) return reject(new Error('SNMP socket not created'));
      const done = () => {
        const a = s.address();
        resolve({ service: 'snmp', protocol: 'udp', address: a.address, port: a.port });
      };
      s.once('listening', done);
      s.once('error', (e: Error) => reject(e));
    });
  }

  /**
   * What net-snmp's agent leaves out, put in front of and around its handlers:
   * - snmpEngineBoots and snmpEngineTime that move (it keeps 0 and 10 for ever), and RFC 3414's
   *   timeliness check of every authenticated request (it makes none): replays are refused;
   * - request and message IDs outside INTEGER's range dropped (it read them, then threw writing the reply);
   * - SET answered by us: nothing here is writable, so notWritable for an object that exists and
   *   noCreation for one that does not (RFC 3416 4.2.5; it said noError and noSuchObject);
   * - GetBulk rows capped; v1/v2c replies held to a multiple of their request's size; Reports capped.
   */
  private harden(a: NsAgent): void {
    const o = this.o;
    const clock = new EngineClock(o.engineBoots, this.monotonicS);
    Object.defineProperty(a.engine, 'engineBoots', { get: () => clock.boots, set: () => {}, configurable: true });
    Object.defineProperty(a.engine, 'engineTime', { get: () => clock.time, set: () => {}, configurable: true });

    const send = a.listener.send.bind(a.listener);
    a.listener.send = (message, rinfo, socket) => {
      // A Report answers before our handlers see the request: its IDs are checked here as well.
      if (!int32(message.pdu.id) || (message.msgGlobalData && !int32(message.msgGlobalData.msgID))) {
        this.stats.droppedMalformed++;
        return;
      }
      if (message.pdu.type === PDU_REPORT && !this.reports.allow(BigInt(Math.round(this.monotonicS() * 1e9)))) {
        this.stats.reportsCapped++;
        return;
      }
      try {
        send(message, rinfo, socket);
      } catch (e) {
        this.failed('reply', e);
      }
    };

    const admit = (socket: unknown, m: NsMessage, rinfo: dgram.RemoteInfo): boolean => {
      if (!int32(m.pdu.id) || (m.msgGlobalData && !int32(m.msgGlobalData.msgID)) || !m.pdu.varbinds.every((v) => validOid(v.oid))) {
        this.stats.droppedMalformed++;
        return false;
      }
      const p = m.msgSecurityParameters;
      if (m.version !== 3 || !p || !((m.msgGlobalData?.msgFlags ?? 0) & 1)) return true;
      const engineId = Buffer.isBuffer(p.msgAuthoritativeEngineID) ? p.msgAuthoritativeEngineID : Buffer.from(p.msgAuthoritativeEngineID, 'utf8');
      const verdict = timeliness({ engineId: a.engine.engineID, boots: clock.boots, time: clock.time },
        { engineId, boots: p.msgAuthoritativeEngineBoots, time: p.msgAuthoritativeEngineTime });
      if (verdict === 'ok') {
        // The response carries our notion of time (it echoed the request's).
        p.msgAuthoritativeEngineBoots = clock.boots;
        p.msgAuthoritativeEngineTime = clock.time;
        return true;
      }
      const reportable = ((m.msgGlobalData?.msgFlags ?? 0) & 4) !== 0;
      if (verdict === 'unknownEngineID') {
        this.stats.unknownEngineId++;
        if (reportable) a.listener.send(m.createReportResponseMessage(a.engine, '', USM_UNKNOWN_ENGINE_ID), rinfo, socket);
        return false;
      }
      this.stats.notInTimeWindow++;
      if (reportable && m.user) {
        // RFC 3414 3.2 step 7(a): the notInTimeWindow Report is authenticated (authNoPriv), so the
        // manager can trust the boots and time in it and resynchronise.
        const r = m.createReportResponseMessage(a.engine, '', USM_NOT_IN_TIME_WINDOW);
        r.user = { name: m.user.name, level: snmp.SecurityLevel.authNoPriv, authProtocol: m.user.authProtocol, authKey: m.user.authKey };
        r.msgSecurityParameters!.msgUserName = m.user.name;
        r.msgGlobalData!.msgFlags = 1;
        a.listener.send(r, rinfo, socket);
      }
      return false;
    };

    const bulk = a.getBulkRequest.bind(a);
    a.getBulkRequest = (socket, m, rinfo) => {
      const pdu = m.pdu as NsPdu & { maxRepetitions: number; nonRepeaters: number };
      pdu.nonRepeaters = Math.max(0, Math.min(pdu.varbinds.length, pdu.nonRepeaters));
      // GetBulk: at most maxRepetitions rows, whatever was asked (net-snmp would walk the MIB).
      pdu.maxRepetitions = Math.max(0, Math.min(o.maxRepetitions, pdu.maxRepetitions));
      if (admit(socket, m, rinfo)) bulk(socket, m, rinfo);
    };
    for (const name of ['getRequest', 'getNextRequest', 'onProxyRequest'] as const) {
      const handler = a[name].bind(a);
      a[name] = (socket, m, rinfo) => {
        if (admit(socket, m, rinfo)) handler(socket, m, rinfo);
      };
    }
    a.setRequest = (socket, m, rinfo) => {
      if (!admit(socket, m, rinfo)) return;
      const mib = (this.agent as unknown as { getMib(): { lookup(oid: string): { value?: unknown } | null } }).getMib();
      const exists = (oid: string): boolean => {
        try {
          const node = mib.lookup(oid);
          return !!node && node.value !== undefined;
        } catch {
          return false;
        }
      };
      const response = m.pdu.getResponsePduForRequest();
      response.varbinds = m.pdu.varbinds.map((v) => ({ oid: v.oid, type: v.type, value: v.value }));
      try {
        m.createResponseForRequest(response).toBuffer();
      } catch {
        // A value that cannot be written back (cut short, or of a type SNMP does not have) is echoed as
        // NULL: the error status is the answer, and a SET is never answered by a throw.
        response.varbinds = m.pdu.varbinds.map((v) => ({ oid: v.oid, type: snmp.ObjectType.Null, value: null }));
      }
      // Every binding fails alike, so the first one names the error (RFC 3416 4.2.5).
      const first = m.pdu.varbinds[0];
      if (first) {
        response.errorStatus = exists(first.oid) ? ERR_NOT_WRITABLE : ERR_NO_CREATION;
        response.errorIndex = 1;
      }
      a.sendResponse(socket, rinfo, m, response);
    };

    const respond = a.sendResponse.bind(a);
    a.sendResponse = (socket, rinfo, request, response) => {
      if (request.version !== 3 && o.maxReplyRatio > 0 && request.buffer) {
        const budget = request.buffer.length * o.maxReplyRatio;
        const size = () => request.createResponseForRequest(response).toBuffer().length;
        if (size() > budget) {
          this.stats.repliesCapped++;
          if (request.pdu.type === PDU_GETBULK) {
            // RFC 3416 4.2.3: a GetBulk answer may hold fewer rows; the first is always given.
            while (response.varbinds.length > 1 && size() > budget) response.varbinds.pop();
          } else if (response.varbinds.length > 1) {
            response.errorStatus = ERR_TOO_BIG;
            response.errorIndex = 0;
            response.varbinds = [];
          }
        }
      }
      respond(socket, rinfo, request, response);
    };
  }

  private register(): void {
    const mib = this.agent!.getMib();
    for (const p of providerDefinitions(this.o.root, true)) mib.registerProvider(p);
  }

  /** Pulls Status once and sets every value. */
  /** Sets the MIB's values from Status (`st`, when the caller has just read it, else read here). */
  refresh(st?: Status): void {
    if (!this.agent) return;
    refreshMib(this.agent.getMib(), st ?? this.status(), this.v4, this.o.root, this.o.system, this.rowKeys, true);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.agent) return resolve();
      this.agent.close(() => resolve());
      this.agent = undefined;
    });
  }
}
