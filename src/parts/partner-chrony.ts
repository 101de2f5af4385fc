/**
 * Partner: chronyd (partners.chrony). Every poll_s, one round of read-only questions over chronyd's
 * command protocol (src/partners/chrony.ts): tracking, the sources and their stats, server stats;
 * published as Status partners.chrony with the derived facts (reference, synchronised). Nothing is
 * ever written to chronyd. A daemon that stops answering is reported (reachable false, the error) and
 * asked again at the next poll; its answering again counts as a reconnect.
 *
 * The transport is chronyd's Unix command socket (partners.chrony.socket), as chronyc uses it: every
 * request is answered there, server stats included. When that socket cannot be used (no socket
 * configured, our reply socket cannot be bound in its directory, the socket is missing), the round goes
 * to chronyd's UDP cmdport (127.0.0.1:323 by default), which answers the read-only requests but server
 * stats; Status `transport` says which answered and `notice` why the socket was not used.
 */
import { partnerPoller, type RoundResult } from './partner-poller.ts';
import { ChronyUdpClient, ChronyUnixClient, pollChrony, chronyFacts, chronyTransitions, NO_CHRONY_FACTS, type ChronyFacts, type ChronyTransition } from '../partners/chrony.ts';
import type { PartnerChronyStatus } from '../status/status.ts';
import type { PartFactory } from './part.ts';

export const partnerChrony: PartFactory = {
  name: 'partner-chrony',
  wanted: (cfg) => cfg.partners.chrony.enabled,
  create(ctx) {
    const o = ctx.cfg.partners.chrony;
    const udp = new ChronyUdpClient(o.address, o.port);
    const unix = o.socket ? new ChronyUnixClient(o.socket) : null;
    const udpName = `udp ${udp.where}`;
    let transport = unix ? `unix ${o.socket}` : udpName;
    let notice: string | null = unix ? null : 'no Unix socket configured (partners.chrony.socket): server stats are not available over UDP';
    /** The last round's facts (null before chronyd first answered; NO_CHRONY_FACTS after it went
     * silent), for the transitions. */
    let lastRound: ChronyFacts | null = null;
    const emit = (events: ChronyTransition[]) => {
      const at = ctx.clock.now();
      for (const e of events) {
        if (e.type === 'chronySyncLost') ctx.log.warn('chronyd lost its synchronisation', { reference: e.reference, reason: e.reason });
        else if (e.type === 'chronySourceFalseticker') ctx.log.warn('a source of chronyd is a falseticker', { source: e.name });
        else ctx.log.info(e.type === 'chronySyncRegained' ? 'chronyd is synchronised again' : 'a source of chronyd is no longer a falseticker', { ...e });
        ctx.bus.emit({ ...e, at });
      }
    };

    /** One round on the socket, else over UDP (saying why the socket was not used when UDP answers). */
    const round = async (): Promise<RoundResult<ChronyFacts>> => {
      let r = unix ? await pollChrony(unix.ask) : undefined;
      if (unix && r && !r.ok) {
        // The socket failed: chronyd may still answer on its cmdport (a socket elsewhere, no
        // permission in its directory).
        const viaUdp = await pollChrony(udp.ask);
        if (viaUdp.ok) {
          if (notice !== `Unix socket not used: ${r.error}`) ctx.log.info('chronyd partner: Unix socket not used, UDP answers', { socket: o.socket, why: r.error });
          notice = `Unix socket not used: ${r.error}`;
          transport = udpName;
        }
        r = viaUdp.ok ? viaUdp : r;
      } else if (unix && r?.ok) {
        transport = `unix ${o.socket}`;
        notice = null;
      }
      r ??= await pollChrony(udp.ask);
      return r.ok ? { ok: true, facts: chronyFacts(r.value) } : { ok: false, error: r.error };
    };

    const poller = partnerPoller(ctx, {
      daemon: 'chronyd', pollS: o.poll_s, none: NO_CHRONY_FACTS, round, where: () => ({ transport }),
      onRound(_previous, r) {
        if (r.ok) {
          emit(chronyTransitions(lastRound, r.facts));
          lastRound = r.facts;
        } else {
          if (lastRound) emit(chronyTransitions(lastRound, NO_CHRONY_FACTS, r.error));
          lastRound = lastRound && NO_CHRONY_FACTS;
        }
      },
    });

    return {
      name: 'partner-chrony',
      start: () => poller.start(),
      stop() {
        poller.stop();
        udp.close();
        unix?.close();
      },
      publish(): { partners: { chrony: PartnerChronyStatus } } {
        return { partners: { chrony: { enabled: true, transport, notice, ...poller.bookkeeping(), ...poller.facts } } };
      },
    };
  },
};
