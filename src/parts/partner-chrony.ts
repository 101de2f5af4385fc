/**
 * Partner: chronyd (partners.chrony). Every poll_s, one round of read-only questions over chronyd's
 * command protocol (src/partners/chrony.ts): tracking, the sources and their stats, server stats;
 * published as Status partners.chrony with the derived facts (reference, synchronised). Nothing is
 * ever written to chronyd. A daemon that stops answering is reported (reachable false, the error) and
 * asked again at the next poll; its answering again counts as a reconnect.
 *
 * The transport is UDP to chronyd's cmdport (127.0.0.1:323 by default), which answers read-only
 * requests from this machine. chronyd's Unix command socket (partners.chrony.socket) needs a bound
 * AF_UNIX datagram socket that can receive, which Node cannot open and our native addon cannot yet:
 * Status says so in `notice`.
 */
import type { Timer, Nanos } from '../time/index.ts';
import { ChronyUdpClient, pollChrony, chronyFacts, NO_CHRONY_FACTS, type ChronyFacts } from '../partners/chrony.ts';
import type { PartnerChronyStatus } from '../status/status.ts';
import type { PartFactory } from './part.ts';

export const partnerChrony: PartFactory = {
  name: 'partner-chrony',
  wanted: (cfg) => cfg.partners.chrony.enabled,
  create(ctx) {
    const o = ctx.cfg.partners.chrony;
    const hostPort = o.address.includes(':') ? `[${o.address}]:${o.port}` : `${o.address}:${o.port}`;
    const notice = o.socket
      ? `the Unix command socket (${o.socket}) is not supported yet: using UDP ${hostPort}`
      : null;
    const client = new ChronyUdpClient(o.address, o.port);
    let facts: ChronyFacts = NO_CHRONY_FACTS;
    let reachable = false;
    let everReached = false;
    let lastError: string | null = null;
    let lastReplyAt: Nanos | undefined;
    let polls = 0;
    let failures = 0;
    let reconnects = 0;
    let busy = false;
    let stopped = false;
    let timer: Timer | undefined;

    const poll = async () => {
      if (busy || stopped) return;
      busy = true;
      try {
        const r = await pollChrony(client.ask);
        if (stopped) return;
        polls++;
        if (r.ok) {
          if (!reachable) {
            if (everReached) reconnects++;
            ctx.log.info(everReached ? 'chronyd answers again' : 'chronyd answers', { address: hostPort });
          }
          reachable = everReached = true;
          lastError = null;
          lastReplyAt = ctx.trueClock.now();
          facts = chronyFacts(r.value);
        } else {
          failures++;
          if (reachable || lastError === null) ctx.log.warn('chronyd does not answer', { address: hostPort, error: r.error });
          reachable = false;
          lastError = r.error;
          // Stale answers are not current: without a reply, nothing of chronyd's state is shown.
          facts = NO_CHRONY_FACTS;
        }
      } finally {
        busy = false;
      }
    };

    return {
      name: 'partner-chrony',
      start() {
        if (notice) ctx.log.info('chronyd partner', { notice });
        void poll();
        timer = ctx.trueClock.setInterval(() => void poll(), o.poll_s * 1000);
      },
      stop() {
        stopped = true;
        timer?.cancel();
        client.close();
      },
      publish(): { partners: { chrony: PartnerChronyStatus } } {
        return {
          partners: {
            chrony: {
              enabled: true, transport: `udp ${hostPort}`, notice, reachable, lastError,
              lastReplyAgeS: lastReplyAt === undefined ? null : Math.max(0, Number(ctx.trueClock.now() - lastReplyAt) / 1e9),
              polls, failures, reconnects, ...facts,
            },
          },
        };
      },
    };
  },
};
