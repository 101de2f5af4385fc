/**
 * The seam for steering the system clock. The disciplined clock is always available to what serves
 * time (NTP, PTP); an actuator would also make the kernel's clock follow it (adjtimex). The default is
 * none, so the agent can run beside chrony; a system-clock actuator is future work and will need
 * CAP_SYS_TIME, which the shipped systemd unit does not grant.
 */
import type { Nanos } from '../time/index.ts';

export interface ClockActuator {
  readonly name: string;
  /** Called after each servo update with the estimate (local - true) and frequency error. */
  steer(at: Nanos, offsetNs: number, freqPpb: number): void;
}

export class NoActuator implements ClockActuator {
  readonly name = 'none';
  steer(): void {}
}

export function makeActuator(kind: 'none'): ClockActuator {
  switch (kind) {
    case 'none': return new NoActuator();
  }
}
