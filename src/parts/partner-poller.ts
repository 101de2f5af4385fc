/**
 * What every partner part does the same way: a round of questions every poll_s (never two at once),
 * and the bookkeeping of the answers (reachable, the last error, the reply's age, polls, failures,
 * reconnects: a daemon answering again after it did not), with one log line when it starts or stops
 * answering. Without an answer nothing of the daemon's last state is current: `facts` go back to `none`.
 * The partner's own work (its transport, its facts, its transitions) is in `round` and `onRound`.
 */
import type { Nanos, Timer } from '../time/index.ts';
import type { PartContext } from './part.ts';

export type RoundResult<F> = { ok: true; facts: F } | { ok: false; error: string };

export interface PartnerPollerOptions<F> {
  /** The daemon's name in log lines ("chronyd"). */
  daemon: string;
  pollS: number;
  none: F;
  /** One round of questions. */
  round: () => Promise<RoundResult<F>>;
  /** Where it is asked, for the log lines (read at each line: it may change). */
  where: () => Record<string, unknown>;
  /** After each round: the last answered facts before it (null before the first answer) and the
   * result; `facts` is already updated. */
  onRound?: (previous: F | null, r: RoundResult<F>, wasReachable: boolean) => void;
}

export interface PartnerPoller<F> {
  start(): void;
  stop(): void;
  readonly facts: F;
  /** Status' common fields of a partner section. */
  bookkeeping(): { reachable: boolean; lastError: string | null; lastReplyAgeS: number | null; polls: number; failures: number; reconnects: number };
}

export function partnerPoller<F>(ctx: PartContext, o: PartnerPollerOptions<F>): PartnerPoller<F> {
  let facts = o.none;
  let lastAnswered: F | null = null;
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
      const r = await o.round();
      if (stopped) return;
      polls++;
      const wasReachable = reachable;
      const previous = lastAnswered;
      if (r.ok) {
        if (!reachable) {
          if (everReached) reconnects++;
          ctx.log.info(everReached ? `${o.daemon} answers again` : `${o.daemon} answers`, o.where());
        }
        reachable = everReached = true;
        lastError = null;
        lastReplyAt = ctx.trueClock.now();
        facts = r.facts;
        lastAnswered = r.facts;
      } else {
        failures++;
        if (reachable || lastError === null) ctx.log.warn(`${o.daemon} does not answer`, { ...o.where(), error: r.error });
        reachable = false;
        lastError = r.error;
        facts = o.none;
      }
      o.onRound?.(previous, r, wasReachable);
    } finally {
      busy = false;
    }
  };

  return {
    start() {
      void poll();
      timer = ctx.trueClock.setInterval(() => void poll(), o.pollS * 1000);
    },
    stop() {
      stopped = true;
      timer?.cancel();
    },
    get facts() {
      return facts;
    },
    bookkeeping: () => ({
      reachable, lastError, polls, failures, reconnects,
      lastReplyAgeS: lastReplyAt === undefined ? null : Math.max(0, Number(ctx.trueClock.now() - lastReplyAt) / 1e9),
    }),
  };
}
