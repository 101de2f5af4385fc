/**
 * Fuzz target of the SNMP agent (src/snmp/agent.ts), driven in-process: the agent is started on a
 * loopback port, and each input is handed to the listener its UDP socket calls with a datagram (the
 * agent's gate, then net-snmp), with a made-up source address. Replies are captured instead of sent.
 * Seeds are v1, v2c and v3 (authPriv SHA-256/AES, authNoPriv SHA) GET, GETNEXT, GETBULK and SET
 * requests built by net-snmp's own client against this agent (v3 after a real discovery exchange).
 */
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import snmp from 'net-snmp';
import { SnmpAgent, messageHead, type SnmpAgentOptions } from '../../../src/snmp/agent.ts';
import { DEFAULT_ROOT } from '../../../src/snmp/smi.ts';
import { simConfig, virtualService } from '../../helpers/virtual.ts';
import { freeUdpPort } from '../../helpers/ports.ts';
import { mutateBytes } from '../mutate.ts';
import { check, type Target } from '../engine.ts';
import { v4Context } from '../../../src/snmp/ntpv4-mib.ts';

type Send = (buf: Buffer, off: number, len: number, port: number, addr: string, cb?: (e: Error | null, n?: number) => void) => void;

/** A dgram socket that goes nowhere: sends are recorded, 'message' is emitted by hand. */
class FakeSocket extends EventEmitter {
  readonly sent: Buffer[] = [];
  send: Send = (buf, off, len, _port, _addr, cb) => {
    this.sent.push(Buffer.from(buf.subarray(off, off + len)));
    cb?.(null, len);
  };
  bind(): this { return this; }
  unref(): this { return this; }
  close(): void { this.emit('close'); }
  address() { return { address: '127.0.0.1', family: 'IPv4', port: 40161 }; }
}

const USERS: SnmpAgentOptions['users'] = [
  { name: 'nms', auth: 'sha256', authKey: 'auth-pass-123', priv: 'aes', privKey: 'priv-pass-123' },
  { name: 'mon', auth: 'sha', authKey: 'auth-pass-456', priv: 'none', privKey: '' },
];
const COMMUNITY = 'ro-community-x';
const ALLOWED = '127.0.0.1';
const NOT_ALLOWED = '198.51.100.7';
const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
const SYS_CONTACT = '1.3.6.1.2.1.1.4.0';

type Op = (s: ReturnType<typeof snmp.createSession>, done: () => void) => void;

const OPS: Op[] = [
  (s, d) => s.get([SYS_DESCR, SYS_CONTACT, `${DEFAULT_ROOT}.1.1.1.0`], d),
  (s, d) => s.getNext(['1.3.6.1.2.1.1', DEFAULT_ROOT], d),
  (s, d) => s.getBulk(['1.3.6.1.2.1.1', DEFAULT_ROOT, '1.3.6.1.2.1.197'], 1, 20, d),
  (s, d) => s.set([{ oid: SYS_CONTACT, type: snmp.ObjectType.OctetString, value: 'intruder' }], d),
  (s, d) => s.get(['1.3.6.1.2.1.197.1.1.1.0', '1.3.6.1.2.1.1.3.0', '1.3.6.1.6.3.10.2.1.1.0'], d),
];

export const snmpAgent: Target = {
  name: 'snmp-agent',
  contract: 'The datagram handler never throws, and no request reaches the agent\'s error path (an exception net-snmp did not handle); at most one reply per datagram; no reply to oversize, non-SNMP, disallowed-source or wrong-community v1/v2c datagrams; SET never changes a value (read-only).',
  async setup() {
    const cfg = simConfig();
    const { svc, clock } = virtualService(cfg);
    const status = svc.status();
    const errors: string[] = [];
    let mono = 0;
    const maxRequestBytes = 1472;
    // Options as the agent takes them now (with its rate limits off, so the fuzzer reaches the code
    // behind them, and reports not capped); written as a plain object, the agent's options grow.
    const options = {
      address: '127.0.0.1', port: await freeUdpPort(), root: DEFAULT_ROOT, engineId: '8000b98380aabbccddeeff00112233', communities: [COMMUNITY],
      v2cAllow: ['127.0.0.0/8', '::1/128'], users: USERS, system: { descr: 'fuzz', contact: 'noc@example.org', name: 'fuzz', location: 'lab' },
      maxRequestBytes, maxRepetitions: 10, requestsPerSecond: 0, maxReplyRatio: 8, reportsPerSecond: 1_000_000, engineBoots: 1,
    };
    const agent = new SnmpAgent(options as unknown as SnmpAgentOptions, () => status, (msg) => errors.push(msg),
      (st) => v4Context(st, () => clock.now(), 0), () => mono);
    // Every exception the agent's safety net catches (its `failed`, where there is one, logs only once
    // a minute): each is a crash, with its own stack.
    const caught: unknown[] = [];
    const inner = agent as unknown as { failed?: (what: string, e: unknown) => void };
    const failed = inner.failed?.bind(agent);
    if (failed) inner.failed = (what, e) => { caught.push(e); failed(what, e); };
    await agent.start();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const lib = (agent as any).agent as { listener: { sockets: Record<string, EventEmitter & { send: Send }> }; getMib(): { getScalarValue(n: string): unknown } };
    const socket = Object.values(lib.listener.sockets)[0]!;
    const handler = socket.listeners('message')[0] as (msg: Buffer, rinfo: object) => void;
    let replies: Buffer[] = [];
    socket.send = (buf, off, len, _port, _addr, cb) => {
      replies.push(Buffer.from(buf.subarray(off, off + len)));
      cb?.(null, len);
    };
    const deliver = (msg: Buffer, address: string): Buffer[] => {
      replies = [];
      handler(msg, { address, family: 'IPv4', port: 40161, size: msg.length });
      return replies;
    };

    // Seeds: what net-snmp's client sends, v3 after discovery against this very agent.
    const seeds: Uint8Array[] = [];
    const capture = (version: 'v1' | 'v2c' | 'v3', op: Op, user?: SnmpAgentOptions['users'][number]) => {
      const fake = new FakeSocket();
      const opts = { port: 161, retries: 0, timeout: 60_000, dgramModule: { createSocket: () => fake } };
      const session = version === 'v3'
        ? snmp.createV3Session('127.0.0.1', {
          name: user!.name, level: user!.priv === 'none' ? snmp.SecurityLevel.authNoPriv : snmp.SecurityLevel.authPriv,
          authProtocol: snmp.AuthProtocols[user!.auth], authKey: user!.authKey,
          ...(user!.priv === 'none' ? {} : { privProtocol: snmp.PrivProtocols[user!.priv], privKey: user!.privKey }),
        }, opts)
        : snmp.createSession('127.0.0.1', COMMUNITY, { ...opts, version: version === 'v1' ? snmp.Version1 : snmp.Version2c });
      op(session, () => {});
      // v3: the discovery request goes to the agent; its report back to the client, which then sends
      // the real request (authenticated, encrypted).
      for (let round = 0; round < 3 && fake.sent.length; round++) {
        const req = fake.sent.shift()!;
        seeds.push(new Uint8Array(req));
        for (const r of deliver(req, ALLOWED)) fake.emit('message', r, { address: '127.0.0.1', family: 'IPv4', port: 161, size: r.length });
      }
      session.close();
    };
    for (const op of OPS) {
      capture('v1', op);
      capture('v2c', op);
    }
    const v3Start = seeds.length;
    const refreshV3 = () => {
      const fresh = seeds.splice(v3Start);
      for (const op of OPS) for (const u of USERS) capture('v3', op, u);
      if (fresh.length && seeds.length === v3Start) seeds.push(...fresh);
    };
    refreshV3();
    check(errors.length === 0, `seeds made the agent fail: ${errors.join('; ')}`);
    const contact = () => lib.getMib().getScalarValue('sysContact');
    const contact0 = contact();
    let n = 0;
    let seenErrors = 0;
    return {
      seeds,
      mutate: (rng, input, all) => mutateBytes(rng, input, all, { maxLen: 2048, ber: true }),
      run(input) {
        n++;
        mono += 0.01;
        // SNMPv3 requests are only heard within 150 s of the engine time they carry: the v3 seeds are
        // made again as the agent's clock moves on, so mutations of current requests keep reaching it.
        if (n % 10_000 === 0) refreshV3();
        const msg = Buffer.from(input);
        // Mostly from an allowed source; one in eight from a source outside v2c_allow.
        const h = input.length + (input[input.length - 1] ?? 0);
        const source = h % 8 === 0 ? NOT_ALLOWED : `127.0.0.${1 + (h % 200)}`;
        const errBefore = errors.length;
        caught.length = 0;
        const out = deliver(msg, source);
        if (caught.length) throw caught[0];
        seenErrors = errors.length;
        if (errors.length > errBefore) throw new Error(errors.slice(errBefore).join('; '));
        check(out.length <= 1, `${out.length} replies to one datagram`);
        if (out.length) {
          const head = messageHead(msg);
          check(msg.length <= maxRequestBytes, 'reply to an oversize request');
          check(head !== undefined, 'reply to a datagram that is no SNMP message');
          if (head.version === 0 || head.version === 1) {
            check(source !== NOT_ALLOWED, 'v1/v2c reply to a source outside v2c_allow');
            check(head.community?.toString('latin1') === COMMUNITY, 'v1/v2c reply to a wrong community');
          }
          check(out[0]![0] === 0x30, 'reply is no BER sequence');
        }
        if (n % 16 === 0) check(contact() === contact0, `a SET changed sysContact to ${String(contact())}`);
      },
      async settle() {
        await new Promise((r) => setImmediate(r));
        // Failures reported after the input's run returned (from a callback or timer).
        if (errors.length > seenErrors) throw new Error(`asynchronous agent failure: ${errors.slice(seenErrors).join('; ')}`);
      },
      async close() {
        await agent.stop();
        rmSync(cfg.agent.state_dir, { recursive: true, force: true });
      },
    };
  },
};
