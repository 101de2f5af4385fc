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
import type { Timer, Nanos } from '../time/index.ts';
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
    let facts: Ptp4lFacts = NO_PTP4L_FACTS;
    /** The last answered facts, kept while ptp4l is away: a restart into another state is a transition. */
    let lastAnswered: Ptp4lFacts | null = null;
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
    let procTimer: Timer | undefined;
    const procRoot = ctx.procRoot ?? '/proc';
    let phc2sys: Phc2sysStatus = { running: false, processes: [], followsWatchedPtp4l: false };
    const lookForPhc2sys = () => {
      const was = phc2sys.running;
      phc2sys = findPhc2sys(procRoot, o.socket);
      if (phc2sys.running !== was) ctx.log.info(phc2sys.running ? 'phc2sys runs' : 'phc2sys does not run', { pids: phc2sys.processes.map((p) => p.pid) });
    };

    const poll = async () => {
      if (busy || stopped || !client) return;
      busy = true;
      try {
        const r = await pollPtp4l(client.ask);
        if (stopped) return;
        polls++;
        if (r.ok) {
          if (!reachable) {
            if (everReached) reconnects++;
            ctx.log.info(everReached ? 'ptp4l answers again' : 'ptp4l answers', { socket: o.socket });
          }
          reachable = everReached = true;
          lastError = null;
          lastReplyAt = ctx.trueClock.now();
          facts = ptp4lFacts(r.value, o.expected_port_state);
          const at = ctx.clock.now();
          for (const e of ptp4lTransitions(lastAnswered, facts, o.expected_port_state)) {
            if (e.type === 'ptp4lPortStateChanged') ctx.log.warn('ptp4l port state changed', { from: e.from, to: e.to, expected: e.expected });
            ctx.bus.emit({ ...e, at });
          }
          lastAnswered = facts;
        } else {
          failures++;
          if (reachable || lastError === null) ctx.log.warn('ptp4l does not answer', { socket: o.socket, error: r.error });
          reachable = false;
          lastError = r.error;
          // Stale answers are not current: without a reply, nothing of ptp4l's state is shown.
          facts = NO_PTP4L_FACTS;
        }
      } finally {
        busy = false;
      }
    };

    return {
      name: 'partner-ptp4l',
      start() {
        if (problem) {
          ctx.log.warn('ptp4l partner cannot run', { problem });
          return;
        }
        void poll();
        timer = ctx.trueClock.setInterval(() => void poll(), o.poll_s * 1000);
        lookForPhc2sys();
        procTimer = ctx.trueClock.setInterval(lookForPhc2sys, Math.max(10, o.poll_s) * 1000);
      },
      stop() {
        stopped = true;
        timer?.cancel();
        procTimer?.cancel();
        client?.close();
      },
      publish(): { partners: { ptp4l: PartnerPtp4lStatus } } {
        return {
          partners: {
            ptp4l: {
              enabled: true, socket: o.socket, localSocket: client?.localPath ?? null, problem, reachable, lastError,
              lastReplyAgeS: lastReplyAt === undefined ? null : Math.max(0, Number(ctx.trueClock.now() - lastReplyAt) / 1e9),
              polls, failures, reconnects, expectedPortState: o.expected_port_state, ...facts, phc2sys,
            },
          },
        };
      },
    };
  },
};
