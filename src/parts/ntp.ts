/** Server: NTP (RFC 5905 server mode) on the disciplined clock, with its rate limiter and access list. */
import { NtpServerCore, RateMeter, type NtpServerState } from '../ntp/server.ts';
import { NtpUdpServer } from '../ntp/udp.ts';
import { AccessList } from '../ntp/acl.ts';
import { measurePrecisionLog2 } from '../time/index.ts';
import type { Part, PartFactory } from './part.ts';

export interface NtpPart extends Part {
  readonly core: NtpServerCore;
}

export const ntpServer: PartFactory = {
  name: 'ntp',
  wanted: (cfg) => cfg.ntp.enabled,
  create(ctx): NtpPart {
    const n = ctx.cfg.ntp;
    const { discipline, served } = ctx.timing;
    const core = new NtpServerCore({
      rateLimit: { enabled: n.rate_limit.enabled, intervalS: n.rate_limit.interval_s, burst: n.rate_limit.burst, slots: n.rate_limit.slots, kod: n.rate_limit.kod },
      denyAction: n.deny_action,
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
    };
    return {
      name: 'ntp',
      core,
      async start() {
        if (!ctx.listen) return;
        state.precisionLog2 = measurePrecisionLog2(() => served.now());
        udp = new NtpUdpServer(core, served, () => state, { addresses: n.addresses, port: n.port, recvBufferBytes: n.recv_buffer_bytes });
        try {
          for (const e of await udp.listen()) ctx.listening(e);
        } catch (e) {
          udp.close();
          throw new Error(`NTP: cannot listen on ${n.addresses.join(', ')} port ${n.port}: ${(e as Error).message}`, { cause: e });
        }
      },
      stop() {
        udp?.close();
      },
      publish(now) {
        refresh(now);
        return {
          ntp: {
            counters: core.counters, requestsPerSecond: rate.rate, distinctClients: core.distinct.estimate(),
            precisionLog2: state.precisionLog2, sendErrors: udp?.sendErrors ?? 0, rxTimestamps: udp?.rxTimestamps ?? 'event loop',
          },
        };
      },
    };
  },
};
