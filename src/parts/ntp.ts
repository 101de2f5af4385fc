/** Server: NTP (RFC 5905 server mode) on the disciplined clock, with its rate limiter and access list. */
import { NtpServerCore, RateMeter, type NtpServerState } from '../ntp/server.ts';
import { NtpUdpServer } from '../ntp/udp.ts';
import { AccessList } from '../ntp/acl.ts';
import { measurePrecisionLog2 } from '../time/index.ts';
import type { Part, PartFactory } from './part.ts';
import { CookieKeys } from '../ntp/nts/cookies.ts';
import { loadServerKeys, saveServerKeys } from '../ntp/nts/key-store.ts';
import { NtsKeServer } from '../ntp/nts/ke-server.ts';
import { ensureSelfSigned, type CertFiles } from '../ntp/nts/cert.ts';
import type { NtsCounters, NtsSnapshot } from '../status/status.ts';

export interface NtpPart extends Part {
  readonly core: NtpServerCore;
}

export const ntpServer: PartFactory = {
  name: 'ntp',
  wanted: (cfg) => cfg.ntp.enabled,
  create(ctx): NtpPart {
    const n = ctx.cfg.ntp;
    const { discipline, served } = ctx.timing;
    const stateDir = ctx.cfg.agent.state_dir;
    const wallS = () => Number(ctx.clock.now() / 1_000_000_000n);
    // NTS: the cookie keys (from the state directory, so cookies outlive a restart) shared by the key
    // exchange and the NTP core.
    let nts: { keys: CookieKeys; counters: NtsCounters } | undefined;
    if (n.nts.enabled) {
      const loaded = loadServerKeys(stateDir);
      if (loaded.problem) ctx.log.warn('NTS: the saved cookie keys were not read; new keys are made (clients redo NTS-KE)', { problem: loaded.problem });
      nts = {
        keys: new CookieKeys({ rotationS: n.nts.key_rotation_s, graceS: n.nts.key_grace_s }, loaded.keys),
        counters: { keConnections: 0, keSessions: 0, keFailures: {}, requests: 0, replied: 0, naks: 0, failures: {}, cookiesIssued: 0 },
      };
    }
    const rotateKeys = () => {
      if (!nts || !nts.keys.rotate(wallS())) return;
      try {
        saveServerKeys(stateDir, nts.keys.keys());
      } catch (e) {
        ctx.log.warn('NTS: cannot save the cookie keys; cookies will not survive a restart', { dir: stateDir, error: (e as Error).message });
      }
    };
    rotateKeys();
    let ke: NtsKeServer | undefined;
    let selfSigned = false;
    const core = new NtpServerCore({
      rateLimit: { enabled: n.rate_limit.enabled, intervalS: n.rate_limit.interval_s, burst: n.rate_limit.burst, slots: n.rate_limit.slots, kod: n.rate_limit.kod },
      denyAction: n.deny_action, clientTableSize: n.client_table_size,
      ...(nts ? { nts } : {}),
    }, n.allow.length || n.deny.length ? new AccessList(n.allow, n.deny) : undefined);
    const rate = new RateMeter();
    const state: NtpServerState = { leapIndicator: 3, stratum: 16, refId: 'INIT', rootDispersionS: 16, rootDelayS: 0, refTime: 0n, precisionLog2: -20 };
    let udp: NtpUdpServer | undefined;
    // What the server says about itself, from the discipline, each time Status is built (every tick and
    // every event): a client never hears a stratum or leap indicator other than the one Status shows.
    const refresh = (now: bigint) => {
      const d = discipline.snapshot(now); // the instant the Service builds Status at: the same snapshot
      state.leapIndicator = d.leapIndicator;
      state.stratum = d.stratum;
      state.refId = d.refId;
      state.rootDispersionS = d.rootDispersionS;
      state.refTime = d.lastUpdate !== undefined ? d.lastUpdate - BigInt(Math.round(discipline.correctionAt(d.lastUpdate))) : 0n;
      rate.update(core.counters.received, Number(ctx.clock.monotonic()) / 1e9);
      rotateKeys();
    };
    const ntsSnapshot = (): NtsSnapshot | undefined => {
      if (!nts) return undefined;
      const c = ke?.certificate;
      return {
        counters: nts.counters, cookieKeyAgeS: nts.keys.currentAgeS(wallS()), cookieKeys: nts.keys.keys().length,
        certificate: c ? { path: c.cert, selfSigned, subject: c.subject, validTo: c.validTo, fingerprintSha256: c.fingerprintSha256 } : null,
      };
    };
    return {
      name: 'ntp',
      core,
      async start() {
        if (!ctx.listen) return;
        state.precisionLog2 = measurePrecisionLog2(() => served.now());
        udp = new NtpUdpServer(core, served, () => state, { addresses: n.addresses, port: n.port, recvBufferBytes: n.recv_buffer_bytes });
        let ntpPort = n.port;
        try {
          for (const e of await udp.listen()) {
            ctx.listening(e);
            ntpPort = e.port;
          }
        } catch (e) {
          udp.close();
          throw new Error(`NTP: cannot listen on ${n.addresses.join(', ')} port ${n.port}: ${(e as Error).message}`, { cause: e });
        }
        if (nts) {
          let cert: CertFiles;
          if (n.nts.cert) {
            cert = { cert: n.nts.cert, key: n.nts.key };
          } else {
            const made = ensureSelfSigned(stateDir, Number(ctx.clock.now() / 1_000_000n));
            cert = made;
            selfSigned = true;
            ctx.log.info(`NTS: no certificate configured (ntp.nts.cert); ${made.made ? 'made' : 'using'} a self-signed one for "localhost": clients must trust it explicitly (chronyd: ntstrustedcerts)`, { cert: made.cert, key: made.key });
          }
          ke = new NtsKeServer({
            addresses: n.nts.ke_addresses, port: n.nts.ke_port, cert, ntpPort, ntpServer: n.nts.ntp_server, cookiesPerSession: 8,
            maxConnections: n.nts.max_connections, timeoutMs: n.nts.timeout_s * 1000,
          }, nts.keys, nts.counters, (level, msg) => ctx.log.log(level, msg));
          ctx.log.info('NTS: certificate', { path: ke.certificate.cert, subject: ke.certificate.subject, validTo: ke.certificate.validTo, sha256: ke.certificate.fingerprintSha256 });
          try {
            for (const e of await ke.listen()) ctx.listening(e);
          } catch (e) {
            ke.close();
            udp.close();
            throw new Error(`NTS-KE: cannot listen on ${n.nts.ke_addresses.join(', ')} port ${n.nts.ke_port}: ${(e as Error).message}`, { cause: e });
          }
        }
      },
      stop() {
        ke?.close();
        udp?.close();
      },
      views: () => ({
        // GET /clients?top=N&by=minute|hour|day|total: who uses the server (stratum1 clients).
        clients: (q: URLSearchParams) => {
          const nowS = Number(ctx.clock.monotonic()) / 1e9;
          const top = Math.max(1, Math.min(core.clients.max || 1, Number.parseInt(q.get('top') ?? '20', 10) || 20));
          const byParam = q.get('by');
          const by = byParam === 'minute' || byParam === 'hour' || byParam === 'total' ? byParam : 'day';
          return {
            tableSize: core.clients.max, clientsKept: core.clients.size, evicted: core.clients.evicted, by,
            all: core.clients.totals(nowS), clients: core.clients.top(top, nowS, by),
          };
        },
      }),
      publish(now) {
        refresh(now);
        return {
          ntp: {
            counters: core.counters, requestsPerSecond: rate.rate, distinctClients: core.distinct.estimate(),
            precisionLog2: state.precisionLog2, sendErrors: udp?.sendErrors ?? 0, rxTimestamps: udp?.rxTimestamps ?? 'event loop',
            ...(nts ? { nts: ntsSnapshot()! } : {}),
          },
        };
      },
    };
  },
};
