/** The disciplined clock: the base clock minus the discipline's correction. This is what NTP and PTP
 * serve. Timers run on the base clock. */
import type { Clock, Nanos } from '../time/index.ts';
import { DerivedClock } from '../time/derived-clock.ts';

export class DisciplinedClock extends DerivedClock {
  constructor(base: Clock, correctionAt: (t: Nanos) => number) {
    super(base, (t) => t - BigInt(Math.round(correctionAt(t))));
  }
}
