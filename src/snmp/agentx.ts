/**
 * The AgentX subagent (RFC 2741) of the system's snmpd: the same providers as the standalone agent
 * (less the system group, which the master owns), registered with the master one at a time over TCP
 * (net-snmp parses each TCP read as one PDU), values refreshed from Status. When snmpd goes away (a
 * restart, an upgrade), the session is reopened with backoff and everything registered again.
 */
import snmp from 'net-snmp';
import type { Status, Endpoint } from '../status/status.ts';
import type { Clock, Timer } from '../time/index.ts';
import { Backoff } from '../gnss/backoff.ts';
import { providerDefinitions, refreshMib, type SnmpAgentOptions, type RowKeys } from './agent.ts';
import type { V4Context } from './ntpv4-mib.ts';

export interface AgentxOptions {
  master: string;
  port: number;
  root: string;
  system: SnmpAgentOptions['system'];
}

type Sub = ReturnType<typeof snmp.createSubagent>;

/**
 * net-snmp 3.29.2's AgentX encoder writes an OCTET STRING's length as the JavaScript string length
 * and the value with writeString: a Buffer value (NtpDateTime, BITS, an InetAddress) throws and drops
 * the session, and a non-ASCII string is sent with a wrong length. Encode octets as octets.
 */
interface SmartBufferLike { writeUInt32BE(v: number): unknown; writeBuffer(b: Buffer): unknown; writeUInt8(v: number): unknown }
(snmp as unknown as { AgentXPdu: { writeOctetString: (buffer: SmartBufferLike, v: Buffer | string) => void } }).AgentXPdu.writeOctetString =
  (buffer, v) => {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
    buffer.writeUInt32BE(b.length);
    buffer.writeBuffer(b);
    for (let i = 0; i < (4 - (b.length % 4)) % 4; i++) buffer.writeUInt8(0);
  };

export class AgentxSubagent {
  private sub: Sub | undefined;
  private ready = false;
  private stopped = false;
  private retry: Timer | undefined;
  private backoff = new Backoff(500, 10_000);
  private rowKeys: RowKeys = new Map();
  sessions = 0;

  constructor(
    private readonly o: AgentxOptions,
    private readonly clock: Clock,
    private readonly status: () => Status,
    private readonly v4: (s: Status) => V4Context,
    private readonly log: (level: 'info' | 'warn', msg: string) => void,
  ) {}

  get connected(): boolean {
    return this.ready;
  }

  get endpoint(): Endpoint {
    return { service: 'snmp-agentx', protocol: 'tcp', address: this.o.master, port: this.o.port };
  }

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const sub = snmp.createSubagent({ master: this.o.master, masterPort: this.o.port, description: 'stratum1-agent' });
    this.sub = sub;
    this.ready = false;
    this.rowKeys = new Map();
    let failed = false;
    const fail = (why: string) => {
      if (failed || this.sub !== sub) return;
      failed = true;
      this.ready = false;
      this.log('warn', `AgentX session to ${this.o.master}:${this.o.port} lost: ${why}; reconnecting`);
      try { sub.close(); } catch { /* already closed */ }
      if (!this.stopped) this.retry = this.clock.setTimeout(() => void this.connect(), this.backoff.delay());
    };
    sub.on('close', () => fail('closed'));
    sub.on('error', (e: Error) => fail(e.message));
    try {
      await new Promise<void>((res, rej) => sub.open((err: Error | null) => (err ? rej(err) : res())));
      for (const p of providerDefinitions(this.o.root, false)) {
        if (failed) return;
        await new Promise<void>((res, rej) => sub.registerProvider(p, (err: Error | null) => (err ? rej(err) : res())));
      }
    } catch (e) {
      fail((e as Error).message);
      return;
    }
    this.ready = true;
    this.sessions++;
    this.backoff.reset();
    this.refresh();
    this.log('info', `AgentX subagent registered with ${this.o.master}:${this.o.port}`);
  }

  refresh(st?: Status): void {
    if (!this.ready || !this.sub) return;
    refreshMib(this.sub.getMib(), st ?? this.status(), this.v4, this.o.root, this.o.system, this.rowKeys, false);
  }

  stop(): void {
    this.stopped = true;
    this.retry?.cancel();
    this.ready = false;
    try { this.sub?.close(); } catch { /* closed */ }
  }
}
