/**
 * Server: SNMP, standalone (UDP, v2c and v3) or as an AgentX subagent of snmpd, serving our MIB,
 * NTPv4-MIB and the system group from Status; and the notifications (traps, informs) raised by events.
 */
import { SnmpAgent } from '../snmp/agent.ts';
import { TrapSender } from '../snmp/traps.ts';
import { AgentxSubagent } from '../snmp/agentx.ts';
import { engineId, nextEngineBoots } from '../snmp/engine-id.ts';
import { v4Context as v4ContextOf, chronydIsEntity, type V4Context } from '../snmp/ntpv4-mib.ts';
import type { Status } from '../status/status.ts';
import type { Timer } from '../time/index.ts';
import { VERSION } from '../version.ts';
import type { PartFactory } from './part.ts';

export const snmpAgent: PartFactory = {
  name: 'snmp',
  // Always present: with SNMP disabled it only answers the operator's trap actions, saying so.
  wanted: () => true,
  create(ctx) {
    const c = ctx.cfg.snmp;
    if (!c.enabled) {
      const off = () => ({ error: 'SNMP is not enabled' });
      return { name: 'snmp', actions: () => ({ 'traps/test': off, 'traps/resend': off }) };
    }
    const { served } = ctx.timing;
    const system = { descr: c.description || `stratum1-agent ${VERSION}: GPS-disciplined time server (${ctx.cfg.agent.name})`, contact: c.contact, name: ctx.cfg.agent.name, location: c.location };
    const v4Context = (st: Status): V4Context => v4ContextOf(st, () => served.now(), c.heartbeat_s, () => ctx.clock.now());
    const users = c.users.map((u) => ({ name: u.name, auth: u.auth, authKey: u.auth_key, priv: u.priv, privKey: u.priv_key }));
    let agent: SnmpAgent | undefined;
    let agentx: AgentxSubagent | undefined;
    let traps: TrapSender | undefined;
    const timers: Timer[] = [];
    return {
      name: 'snmp',
      async start() {
        if (!ctx.listen) return;
        const id = engineId(c.engine_id, ctx.cfg.agent.state_dir, (msg, fields) => ctx.log.warn(msg, fields));
        if (c.mode === 'agentx') {
          agentx = new AgentxSubagent({ master: c.agentx_master, port: c.agentx_port, root: c.enterprise_oid, system }, ctx.clock,
            () => ctx.status(), v4Context, (level, msg) => ctx.log.log(level, msg));
          agentx.start();
          ctx.listening(agentx.endpoint);
        } else {
          agent = new SnmpAgent({
            address: c.address, port: c.port, root: c.enterprise_oid, engineId: id, communities: c.communities, v2cAllow: c.v2c_allow,
            users, system, maxRequestBytes: c.max_request_bytes, maxRepetitions: c.max_repetitions,
            requestsPerSecond: c.requests_per_second, maxReplyRatio: c.max_reply_ratio, reportsPerSecond: c.reports_per_second,
            engineBoots: nextEngineBoots(id, ctx.cfg.agent.state_dir, (msg, fields) => ctx.log.warn(msg, fields)),
          }, () => ctx.status(), (msg) => ctx.log.warn(msg), v4Context, () => Number(ctx.clock.monotonic()) / 1e9);
          try {
            ctx.listening(await agent.start());
          } catch (e) {
            await agent.stop();
            throw new Error(`SNMP: cannot listen on ${c.address} port ${c.port}: ${(e as Error).message}`, { cause: e });
          }
        }
        const byName = new Map(users.map((u) => [u.name, u]));
        traps = new TrapSender(c.enterprise_oid, id, c.trap_sinks.map((t) => ({
          host: t.host, port: t.port, version: t.version, community: t.community, user: byName.get(t.user), inform: t.inform,
          retries: t.retries, timeoutMs: t.timeout_ms,
        })), () => ctx.status(), (msg) => ctx.log.warn(msg));
        traps.v4Context = v4Context;
        // Once a second, one Status for both: the MIB's values, and (chronyd as the NTP entity changes mode
        // and stratum without events of ours) RFC 5907's mode, stratum and system peer notifications.
        timers.push(ctx.clock.setInterval(() => {
          const st = ctx.status();
          agent?.refresh(st);
          agentx?.refresh(st);
          if (chronydIsEntity(st)) traps?.checkEntity('', st);
        }, 1000));
        if (c.heartbeat_s > 0) timers.push(ctx.clock.setInterval(() => traps?.heartbeat(), c.heartbeat_s * 1000));
      },
      async stop() {
        for (const t of timers) t.cancel();
        traps?.close();
        agentx?.stop();
        await agent?.stop();
      },
      onEvent: (e) => traps?.onEvent(e),
      actions: () => ({
        'traps/test': () => (!traps ? { error: 'SNMP is not enabled' } : traps.sinkCount === 0 ? { error: 'no trap receivers configured (snmp.trap_sinks): nothing sent' }
          : { sent: traps.sendByName('s1Test') ? ['s1Test'] : [] }),
        'traps/resend': () => (traps ? { sent: traps.resendActive() } : { error: 'SNMP is not enabled' }),
      }),
      publish: () => (agent || agentx ? {
        snmp: {
          requests: 0, droppedSource: 0, droppedSize: 0, droppedMalformed: 0, badCommunity: 0, guessingRefused: 0, rateLimited: 0,
          unknownEngineId: 0, notInTimeWindow: 0, repliesCapped: 0, reportsCapped: 0, errors: 0, ...agent?.stats,
          agentxConnected: agentx?.connected ?? false, agentxSessions: agentx?.sessions ?? 0, trapsSent: traps?.stats.sent ?? 0, trapsAcknowledged: traps?.stats.acknowledged ?? 0,
          trapsFailed: traps?.stats.failed ?? 0, trapsByName: traps?.stats.byName ?? {},
        },
      } : {}),
    };
  },
};
