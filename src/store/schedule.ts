/**
 * Cron schedules on the agent's Clock. node-cron reads the expression (the same parser validates the
 * configuration), but its timers run on the host's clock; the upkeep jobs must run on the Clock the
 * agent was given, so that virtual time (SimClock) drives them in tests and the simulator, and so that
 * nothing fires on host time there. This module finds the next moment an expression matches after a
 * given time, and arms the Clock's timers for it.
 *
 * The meaning is node-cron's: five fields (minute hour day month weekday) or six (a leading second),
 * in the host's local time; names, lists, ranges and steps; the day of the month and the weekday must
 * both match (node-cron ANDs them; Vixie cron would OR two restricted ones). The day-of-month and
 * weekday tokens L, W and # are refused: nothing here needs them. Local time has two oddities where
 * summer time starts and ends: a minute that does not exist (02:30 on the morning the clocks go
 * forward) never matches, and a minute that happens twice matches twice.
 */
import cron from 'node-cron';
import type { Clock, Timer } from '../time/index.ts';

/** A parsed expression: the values each field allows. */
export interface CronSchedule {
  expression: string;
  second: ReadonlySet<number>;
  minute: ReadonlySet<number>;
  hour: ReadonlySet<number>;
  dayOfMonth: ReadonlySet<number>;
  /** 1 to 12. */
  month: ReadonlySet<number>;
  /** 0 (Sunday) to 6. */
  dayOfWeek: ReadonlySet<number>;
}

/** Parses a cron expression; throws an Error saying what is wrong. */
export function parseCron(expression: string): CronSchedule {
  // No field goes past 59, and node-cron expands a range into every value before it checks one: a
  // range such as 1-99999999 held the configuration check for minutes (found by the fuzzer).
  const big = /\d{3,}/.exec(expression);
  if (big) throw new Error(`${big[0]}: no field of a cron expression goes past 59`);
  const f = cron.parse(expression);
  const numbers = (field: string, values: (number | string)[]): ReadonlySet<number> => {
    const bad = values.find((v) => typeof v !== 'number');
    if (bad !== undefined) throw new Error(`${field} ${JSON.stringify(bad)}: the L, W and # forms are not supported`);
    return new Set(values as number[]);
  };
  return {
    expression, second: new Set(f.second), minute: new Set(f.minute), hour: new Set(f.hour),
    dayOfMonth: numbers('day of month', f.dayOfMonth), month: new Set(f.month), dayOfWeek: numbers('weekday', f.dayOfWeek),
  };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** How far ahead nextFire looks before it decides an expression never matches again (a leap day that
 * must also be a Monday comes round every 28 years or so, once in 40 across a century's end). */
const HORIZON = 100 * 366 * 24 * HOUR;

const offsetAt = (ms: number) => new Date(ms).getTimezoneOffset();

/**
 * The first whole second strictly after `afterMs` (Unix milliseconds) at which the schedule matches
 * in local time, or null if none within a century.
 *
 * It walks forward in real time, never in wall-clock arithmetic, so a change of UTC offset cannot
 * make it skip a match: where the day, hour or minute does not match it jumps to the start of the
 * next one, but a jump of a day or an hour that would cross a change of offset is taken in smaller
 * steps (an hour, then a minute), and each step re-reads the local fields where it lands.
 */
export function nextFire(s: CronSchedule, afterMs: number): number | null {
  let t = Math.floor(afterMs / SECOND) * SECOND + SECOND;
  const end = afterMs + HORIZON;
  while (t <= end) {
    const d = new Date(t);
    const nextMinute = t - d.getSeconds() * SECOND + MINUTE;
    const hourStart = t - d.getMinutes() * MINUTE - d.getSeconds() * SECOND;
    const nextHour = offsetAt(hourStart + HOUR) === d.getTimezoneOffset() ? hourStart + HOUR : nextMinute;
    if (!s.month.has(d.getMonth() + 1) || !s.dayOfMonth.has(d.getDate()) || !s.dayOfWeek.has(d.getDay())) {
      // The local midnight that starts tomorrow (Date moves a midnight that does not exist forward).
      const tomorrow = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
      t = offsetAt(tomorrow) === d.getTimezoneOffset() ? tomorrow : nextHour;
    } else if (!s.hour.has(d.getHours())) t = nextHour;
    else if (!s.minute.has(d.getMinutes())) t = nextMinute;
    else if (!s.second.has(d.getSeconds())) t += SECOND;
    else return t;
  }
  return null;
}

/** The longest a cron timer sleeps before it looks at the clock again. */
const CRON_RECHECK_MS = MINUTE;

/**
 * Calls `fire` each time the schedule comes due on `clock`, until the returned Timer is cancelled.
 *
 * The timer is armed for the next match, but never for more than CRON_RECHECK_MS at a time: the
 * agent's clock can be stepped (a Pi boots with the time it shut down at, and the discipline steps the
 * clock it serves), and a timer set for a moment computed before a step would fire at the wrong time,
 * or, after a step back, weeks late. At each wake-up the time is read again: a schedule whose moment
 * has passed fires once (a step forward over several matches fires once, not for each), and after a
 * step back the next match is found again from the new time. Node's own timers would also misfire a
 * delay beyond 2^31 ms (about 25 days), which a monthly or yearly schedule can ask for.
 */
export function onCron(clock: Clock, s: CronSchedule, fire: () => void): Timer {
  const nowMs = () => Number(clock.now() / 1_000_000n);
  let seen = nowMs();
  let due = nextFire(s, seen);
  let timer: Timer | undefined;
  let cancelled = false;
  const arm = () => {
    // Both times are whole milliseconds and `seen` is before `due`: the delay is at least 1 ms.
    if (!cancelled && due !== null) timer = clock.setTimeout(wake, Math.min(CRON_RECHECK_MS, due - seen));
  };
  const wake = () => {
    const now = nowMs();
    if (now < seen) due = nextFire(s, now); // stepped back: the match found before may be far ahead
    seen = now;
    if (due !== null && now >= due) {
      due = nextFire(s, now);
      try {
        fire();
      } finally {
        arm();
      }
    } else arm();
  };
  arm();
  return {
    cancel: () => {
      cancelled = true;
      timer?.cancel();
    },
  };
}
