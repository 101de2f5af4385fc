/**
 * Notifications: each agent event that has a notification is sent to every configured sink, as a v2c
 * trap, a v2c inform (acknowledged, retried) or a v3 trap (authPriv, from our fixed engine ID, which
 * the receiver's user is bound to). Varbinds are the notification's objects, read from Status at the
 * moment of sending. Also: a heartbeat, a test on demand, and a resend of the faults still active.
 */
import snmp from 'net-snmp';
import type { Status } from '../status/status.ts';
import { INTEGRITY_CHECKS, type AgentEvent } from '../status/events.ts';
import { NOTIFICATIONS, notificationOid, allScalars, allTables, type Notification } from './mib.ts';
import { objectType, encode, v4Type, type SnmpUser } from './agent.ts';
import { NTPV4, V4_SCALARS, type V4Context } from './ntpv4-mib.ts';

/** RFC 5907's notifications we send, with their objects (ntpEntNotifMessage is added to each but
 * ModeChange, as the MIB lists). */
const V4_NOTIFS: Record<string, { sub: number; objects: string[]; message: boolean }> = {
  ntpEntNotifModeChange: { sub: 1, objects: ['ntpEntStatusCurrentMode'], message: false },
  ntpEntNotifStratumChange: { sub: 2, objects: ['ntpEntStatusDateTime', 'ntpEntStatusStratum'], message: true },
  ntpEntNotifSyspeerChanged: { sub: 3, objects: ['ntpEntStatusDateTime', 'ntpEntStatusActiveRefSourceId'], message: true },
  ntpEntNotifLeapSecondAnnounced: { sub: 7, objects: ['ntpEntStatusDateTime'], message: true },
  ntpEntNotifHeartbeat: { sub: 8, objects: ['ntpEntStatusDateTime', 'ntpEntStatusCurrentMode', 'ntpEntHeartbeatInterval'], message: true },
};

export interface TrapSink {
  host: string;
  port: number;
  version: 'v2c' | 'v3';
  community: string;
  user: SnmpUser | undefined;
  inform: boolean;
  retries: number;
  timeoutMs: number;
}

export interface TrapStats {
  sent: number;
  acknowledged: number;
  failed: number;
  byName: Record<string, number>;
}

export class TrapSender {
  readonly stats: TrapStats = { sent: 0, acknowledged: 0, failed: 0, byName: {} };
  private sessions: { sink: TrapSink; session: ReturnType<typeof snmp.createSession> }[] = [];
  private byEvent = new Map<string, Notification>();
  private lastMode: number | undefined;
  private lastStratum: number | undefined;
  private lastPeer: string | undefined;
  /** When set, RFC 5907 (NTPv4-MIB) notifications are sent too. */
  v4Context: ((s: Status) => V4Context) | undefined;

  constructor(
    private readonly root: string,
    engineId: string,
    sinks: TrapSink[],
    private readonly status: () => Status,
    private readonly onError: (msg: string) => void,
  ) {
    for (const n of NOTIFICATIONS) if (n.event) this.byEvent.set(n.event, n);
    for (const sink of sinks) {
      // net-snmp sends traps and informs to trapPort, not port.
      const common = { port: sink.port, trapPort: sink.port, retries: sink.retries, timeout: sink.timeoutMs, transport: (sink.host.includes(':') ? 'udp6' : 'udp4') as 'udp4' | 'udp6' };
      const session = sink.version === 'v3' && sink.user
        ? snmp.createV3Session(sink.host, {
          name: sink.user.name,
          level: sink.user.priv === 'none' ? snmp.SecurityLevel.authNoPriv : snmp.SecurityLevel.authPriv,
          authProtocol: snmp.AuthProtocols[sink.user.auth], authKey: sink.user.authKey,
          privProtocol: snmp.PrivProtocols[sink.user.priv], privKey: sink.user.privKey,
        }, { ...common, version: snmp.Version3, engineID: engineId })
        : snmp.createSession(sink.host, sink.community, { ...common, version: snmp.Version2c });
      session.on('error', (e: Error) => this.onError(`trap session to ${sink.host}:${sink.port}: ${e.message}`));
      this.sessions.push({ sink, session });
    }
  }

  onEvent(e: AgentEvent): void {
    const n = this.byEvent.get(e.type);
    if (n) {
      const row = e.type === 'alarmRaised' || e.type === 'alarmCleared' ? e.index
        : e.type === 'integrityCheckFailed' || e.type === 'integrityCheckPassed' ? INTEGRITY_CHECKS.indexOf(e.check) + 1
          : e.type === 'chronySourceFalseticker' || e.type === 'chronySourceFalsetickerEnded' ? e.index : undefined;
      this.send(n, row);
    }
    if (!this.v4Context) return;
    if (e.type === 'lockStateChanged' || e.type === 'agentStarted') {
      this.checkEntity(e.type === 'lockStateChanged' ? e.to : '');
    } else if (e.type === 'leapSecondAnnounced') {
      this.sendV4('ntpEntNotifLeapSecondAnnounced', `leap second ${e.delta > 0 ? 'insertion' : 'deletion'} announced`);
    }
  }

  /**
   * RFC 5907's mode, system peer and stratum notifications: the NTP entity as NTPv4-MIB serves it,
   * compared with what was last seen. Called on the discipline's events (the agent as the entity) and
   * every second (chronyd as the entity changes without events of ours; for the agent it finds nothing new).
   */
  checkEntity(cause = '', st?: Status): void {
    if (!this.v4Context) return;
    const e = this.v4Context(st ?? this.status()).entity;
    const seen = this.lastMode !== undefined;
    if (seen && e.mode !== this.lastMode) {
      this.sendV4('ntpEntNotifModeChange', `mode ${this.lastMode} to ${e.mode}${cause ? ` (${cause})` : ''}`);
    }
    if (seen && e.activeRefName !== this.lastPeer) {
      this.sendV4('ntpEntNotifSyspeerChanged', e.activeRefName ? `system peer ${e.activeRefName}` : 'no system peer');
    }
    if (seen && e.stratum !== this.lastStratum) {
      this.sendV4('ntpEntNotifStratumChange', `stratum ${this.lastStratum} to ${e.stratum}`);
    }
    this.lastMode = e.mode;
    this.lastStratum = e.stratum;
    this.lastPeer = e.activeRefName;
  }

  heartbeat(): void {
    this.sendByName('s1Heartbeat');
    if (this.v4Context) this.sendV4('ntpEntNotifHeartbeat', 'heartbeat');
  }

  sendV4(name: keyof typeof V4_NOTIFS, message: string): void {
    if (this.sessions.length === 0 || !this.v4Context) return;
    const def = V4_NOTIFS[name]!;
    const ctx = this.v4Context(this.status());
    const vbs = def.objects.map((o) => {
      const sc = V4_SCALARS.find((x) => x.name === o)!;
      return { oid: `${sc.oid}.0`, type: v4Type(sc.type), value: sc.get(ctx) as number | string };
    });
    if (def.message) vbs.push({ oid: `${NTPV4}.1.5.1.0`, type: snmp.ObjectType.OctetString, value: message });
    this.dispatch(name, `${NTPV4}.0.${def.sub}`, vbs);
  }

  /** How many trap receivers are configured. */
  get sinkCount(): number {
    return this.sessions.length;
  }

  sendByName(name: string): boolean {
    const n = NOTIFICATIONS.find((x) => x.name === name);
    if (!n) return false;
    this.send(n);
    return true;
  }

  /** The fault notifications whose fault is still active, again (for a receiver that was away). */
  resendActive(): string[] {
    const st = this.status();
    const active: string[] = [];
    if (!st.gnss.fix) active.push('s1GpsFixLost');
    if (!st.pps.present && st.pps.pulses > 0) active.push('s1PpsLost');
    if (st.gnss.antennaFault) active.push('s1AntennaFault');
    if (st.discipline.state === 'HOLDOVER') active.push('s1HoldoverEntered');
    for (const name of active) this.sendByName(name);
    return active;
  }

  private varbinds(n: Notification, row?: number): { oid: string; type: number; value: number | string | Buffer }[] {
    const st = this.status();
    const scalars = allScalars();
    const out = n.objects.map((name) => {
      const s = scalars.find((x) => x.def.name === name)!;
      return { oid: `${this.root}.${s.oid.join('.')}.0`, type: objectType(s.def.syntax), value: encode(s.def.syntax, s.def.get(st)) };
    });
    if (n.columns && row !== undefined) {
      for (const name of n.columns) {
        for (const { oid, def } of allTables()) {
          const k = def.columns.findIndex((c) => c.name === name);
          if (k < 0) continue;
          const ix = def.columns.findIndex((c) => c.index);
          const r = def.rows(st).find((x) => x[ix] === row);
          if (r) out.push({ oid: `${this.root}.${oid.join('.')}.1.${def.columns[k]!.sub}.${row}`, type: objectType(def.columns[k]!.syntax), value: encode(def.columns[k]!.syntax, r[k]!) });
        }
      }
    }
    return out;
  }

  send(n: Notification, row?: number): void {
    if (this.sessions.length === 0) return;
    let vbs: ReturnType<TrapSender['varbinds']>;
    try {
      vbs = this.varbinds(n, row);
    } catch (e) {
      this.onError(`building ${n.name}: ${(e as Error).message}`);
      return;
    }
    this.dispatch(n.name, notificationOid(this.root, n), vbs);
  }

  private dispatch(name: string, oid: string, vbs: { oid: string; type: number; value: number | string | Buffer }[]): void {
    this.stats.byName[name] = (this.stats.byName[name] ?? 0) + 1;
    for (const { sink, session } of this.sessions) {
      this.stats.sent++;
      const done = (err: Error | null) => {
        if (err) {
          this.stats.failed++;
          this.onError(`${name} to ${sink.host}:${sink.port}: ${failureReason(err)}`);
        } else if (sink.inform) this.stats.acknowledged++;
      };
      try {
        if (sink.inform && sink.version === 'v2c') session.inform(oid, vbs, done);
        else session.trap(oid, vbs, done);
      } catch (e) {
        done(e as Error);
      }
    }
  }

  close(): void {
    for (const { session } of this.sessions) session.close();
    this.sessions = [];
  }
}

/**
 * Why a notification failed, in words that carry nothing the network sent back: net-snmp's texts
 * quote the community of a mismatched inform response (ours and the sender's), so anyone on the LAN
 * who answers an inform could write our community into the log. System errors (ECONNREFUSED, ...)
 * name only addresses and are kept.
 */
export function failureReason(err: Error): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return err.message;
  if (err.name === 'RequestTimedOutError') return 'no acknowledgement before the timeout';
  const names = (snmp as unknown as { ResponseInvalidCode: Record<number, string> }).ResponseInvalidCode;
  if (err.name === 'ResponseInvalidError') return `invalid response${typeof code === 'number' && names[code] ? ` (${names[code]})` : ''}`;
  return `${err.name || 'error'} (details withheld: they may quote what the network sent)`;
}
