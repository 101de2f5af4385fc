/**
 * Exporter: the chronyd feed (export.chrony_sock). Every PPS edge paired with its trusted label that
 * the integrity gate lets through is sent to chronyd's SOCK refclock as a full-timestamp sample: the
 * system clock's time of the edge and GPS minus that time (src/export/chrony-sock.ts). chronyd then
 * disciplines the kernel clock from our GPS and PPS, as it would from gpsd.
 *
 * The system clock's time of the edge: with kernel or gpsd PPS the edge is already a CLOCK_REALTIME
 * timestamp (the agent's local clock is the system clock). Under the simulator the edge is stamped on
 * the simulated oscillator, whose true time is the host's clock; the edge is mapped back to the host's
 * clock through the oscillator (now, minus the local time elapsed since the edge divided by the
 * oscillator's rate), so chronyd sees the simulated GPS against the host's real clock.
 */
import { addon, addonProblem } from '../native/addon.ts';
import { ChronySockSender, encodeSockSample, sampleForEdge, timevalBits, type UnixDgramIo } from '../export/chrony-sock.ts';
import { leapIndicator } from '../discipline/leap.ts';
import type { PairedSample } from '../discipline/discipline.ts';
import { SimClock, toIso, type Nanos } from '../time/index.ts';
import { CHRONY_SOCK_DISABLED, type ChronySockStatus } from '../status/status.ts';
import type { PartContext, PartFactory } from './part.ts';

/** The host's CLOCK_REALTIME at a PPS edge stamped on the agent's local clock. */
export function systemTimeOfEdge(ctx: Pick<PartContext, 'oscillator' | 'trueClock' | 'sources'>, edge: Nanos): Nanos {
  const osc = ctx.oscillator;
  if (!osc || ctx.sources.pps !== 'simulator') return edge;
  const trueNow = ctx.trueClock.now();
  const elapsedLocal = Number(osc.localAt(trueNow) - edge);
  return trueNow - BigInt(Math.round(elapsedLocal / (1 + osc.frequencyPpm * 1e-6)));
}

export const chronySock: PartFactory = {
  name: 'chrony-sock',
  wanted: (cfg) => cfg.export.chrony_sock !== '',
  create(ctx) {
    const path = ctx.cfg.export.chrony_sock;
    const bits = timevalBits(addon?.timevalBytes);
    const problem = !addon ? `the native addon is needed for Unix datagram sockets: ${addonProblem ?? 'not loaded'}`
      : ctx.trueClock instanceof SimClock ? 'the agent runs in virtual time; chronyd reads the real clock' : null;
    const io: UnixDgramIo | undefined = addon && {
      open: (p) => addon!.unixDgramOpen(p), send: (fd, b) => addon!.unixDgramSend(fd, b), close: (fd) => addon!.unixDgramClose(fd),
    };
    const nowMs = () => Number(ctx.trueClock.now() / 1_000_000n);
    const sender = io && !problem ? new ChronySockSender(path, io, nowMs, (what, detail) => {
      if (what === 'connected') ctx.log.info('chronyd feed connected', { path });
      else if (what === 'lost') ctx.log.warn('chronyd feed lost its connection; reconnecting', { path, error: detail });
      else ctx.log.warn('chronyd feed cannot connect (is chronyd running with refclock SOCK at this path?)', { path, error: detail });
    }) : undefined;
    let lastOffsetNs: number | null = null;
    let lastSentAt: Nanos | undefined;
    let lastEdge: Nanos | undefined;
    let unobserve: (() => void) | undefined;

    const onSample = (s: PairedSample) => {
      // 23:59:60 has no POSIX time of its own, and kernels differ in how they show it (a repeated
      // 23:59:59, or a smear): chronyd is told of the leap by the flag and handles it itself.
      if (!sender || s.leapSecond) return;
      const system = systemTimeOfEdge(ctx, s.edge);
      const buf = encodeSockSample(sampleForEdge(system, s.utc, leapIndicator(ctx.timing.leapTable, s.utc)), bits);
      if (sender.send(buf)) {
        lastOffsetNs = Number(system - s.utc);
        lastSentAt = ctx.trueClock.now();
        lastEdge = system;
      }
    };

    return {
      name: 'chrony-sock',
      start() {
        if (problem) {
          ctx.log.error('chronyd feed cannot run', { path, problem });
          return;
        }
        ctx.log.info('chronyd feed', { path, sampleBytes: bits === 64 ? 40 : 32 });
        unobserve = ctx.timing.observe({ sample: onSample });
      },
      stop() {
        unobserve?.();
        sender?.close();
      },
      publish(): { chronySock: ChronySockStatus } {
        const st = sender?.stats();
        return {
          chronySock: {
            ...CHRONY_SOCK_DISABLED, enabled: true, path, problem, timevalBits: bits,
            ...(st && {
              connected: st.connected, samplesSent: st.samplesSent, sendErrors: st.sendErrors, samplesSkipped: st.samplesSkipped,
              reconnects: st.reconnects, lastError: st.lastError,
            }),
            lastOffsetNs, lastEdgeSystemTime: lastEdge === undefined ? null : toIso(lastEdge, 9),
            lastSentAgeS: lastSentAt === undefined ? null : Number(ctx.trueClock.now() - lastSentAt) / 1e9,
          },
        };
      },
    };
  },
};
