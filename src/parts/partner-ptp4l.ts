/**
 * Partner: linuxptp's ptp4l (partners.ptp4l). Every poll_s, one round of GETs over ptp4l's management
 * socket, as `pmc -u` asks (src/partners/ptp4l.ts): the default, port, current, parent and time
 * properties data sets and TIME_STATUS_NP; published as Status partners.ptp4l with the derived facts
 * (port state, whether it is the expected one, the grandmaster). Only GETs are ever sent: nothing is
 * written to ptp4l. A ptp4l that stops answering is reported (reachable false, the error) and asked
 * again at the next poll; its answering again (restarted) counts as a reconnect.
 *
 * The replies come to a socket of ours, bound in a private directory (agent.state_dir/partners,
 * mode 0700), through the native addon; without the addon, Status says so in `problem`.
 */
import type { Timer } from '../time/index.ts';
import { partnerPoller } from './partner-poller.ts';
import { addon, addonProblem } from '../native/addon.ts';
import { Ptp4lUdsClient, pollPtp4l, ptp4lFacts, ptp4lTransitions, privateSocketDir, NO_PTP4L_FACTS, type Ptp4lFacts } from '../partners/ptp4l.ts';
import type { PartnerPtp4lStatus } from '../status/status.ts';
import { findPhc2sys, type Phc2sysStatus } from '../partners/phc2sys.ts';
import type { PartFactory } from './part.ts';

export const partnerPtp4l: PartFactory = {
  name: 'partner-ptp4l',
  wanted: (cfg) => cfg.partners.ptp4l.enabled,
  create(ctx) {
    const o = ctx.cfg.partners.ptp4l;
    let problem: string | null = addon ? null : `ptp4l's socket needs the native addon: ${addonProblem ?? 'not loaded'}`;
    let client: Ptp4lUdsClient | undefined;
    if (!problem) {
      try {
        client = new Ptp4lUdsClient(o.socket, privateSocketDir(ctx.cfg.agent.state_dir), 1000, o.domain);
      } catch (e) {
        problem = (e as Error).message;
      }
    }
    let procTimer: Timer | undefined;
    const procRoot = ctx.procRoot ?? '/proc';
    let phc2sys: Phc2sysStatus = { running: false, processes: [], followsWatchedPtp4l: false };
    const lookForPhc2sys = () => {
      const was = phc2sys.running;
      phc2sys = findPhc2sys(procRoot, o.socket);
      if (phc2sys.running !== was) ctx.log.info(phc2sys.running ? 'phc2sys runs' : 'phc2sys does not run', { pids: phc2sys.processes.map((p) => p.pid) });
    };

    const poller = partnerPoller<Ptp4lFacts>(ctx, {
      daemon: 'ptp4l', pollS: o.poll_s, none: NO_PTP4L_FACTS, where: () => ({ socket: o.socket }),
      round: async () => {
        const r = await pollPtp4l(client!.ask);
        return r.ok ? { ok: true, facts: ptp4lFacts(r.value, o.expected_port_state) } : { ok: false, error: r.error };
      },
      // The last answered facts are kept while ptp4l is away: a restart into another state is a transition.
      onRound(previous, r) {
        if (!r.ok) return;
        const at = ctx.clock.now();
        for (const e of ptp4lTransitions(previous, r.facts, o.expected_port_state)) {
          if (e.type === 'ptp4lPortStateChanged') ctx.log.warn('ptp4l port state changed', { from: e.from, to: e.to, expected: e.expected });
          ctx.bus.emit({ ...e, at });
        }
      },
    });

    return {
      name: 'partner-ptp4l',
      start() {
        if (problem) {
          ctx.log.warn('ptp4l partner cannot run', { problem });
          return;
        }
        poller.start();
        lookForPhc2sys();
        procTimer = ctx.trueClock.setInterval(lookForPhc2sys, Math.max(10, o.poll_s) * 1000);
      },
      stop() {
        poller.stop();
        procTimer?.cancel();
        client?.close();
      },
      publish(): { partners: { ptp4l: PartnerPtp4lStatus } } {
        return {
          partners: {
            ptp4l: {
              enabled: true, socket: o.socket, localSocket: client?.localPath ?? null, problem, ...poller.bookkeeping(),
              expectedPortState: o.expected_port_state, ...poller.facts, phc2sys,
            },
          },
        };
      },
    };
  },
};
