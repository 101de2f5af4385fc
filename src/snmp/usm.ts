/**
 * SNMPv3 timeliness (RFC 3414, sections 2.2.3 and 3.2 step 7a), the check net-snmp's agent does not
 * make. We are the authoritative engine for requests: snmpEngineBoots counts our starts (kept in the
 * state directory), snmpEngineTime counts seconds since this start on the monotonic clock. An
 * authenticated request is taken only when it names our engine ID, our boots, and a time within 150 s
 * of ours: a captured request replayed later, after a restart, or to another box sharing the user's
 * passphrases, is refused with a Report instead of answered. Pure: the boots count is kept by
 * engine-id.ts.
 */
export const TIME_WINDOW_S = 150;
export const MAX_ENGINE_VALUE = 2 ** 31 - 1;

export class EngineClock {
  private readonly startS: number;
  constructor(readonly boots: number, private readonly monotonicS: () => number) {
    this.startS = monotonicS();
  }
  /** snmpEngineTime: whole seconds since this start, never past 2^31-1. */
  get time(): number {
    return Math.min(MAX_ENGINE_VALUE, Math.max(0, Math.floor(this.monotonicS() - this.startS)));
  }
}

export type Timeliness = 'ok' | 'unknownEngineID' | 'notInTimeWindow';

export function timeliness(ours: { engineId: Buffer; boots: number; time: number },
  msg: { engineId: Buffer; boots: number; time: number }): Timeliness {
  if (!ours.engineId.equals(msg.engineId)) return 'unknownEngineID';
  if (ours.boots >= MAX_ENGINE_VALUE || msg.boots !== ours.boots) return 'notInTimeWindow';
  if (Math.abs(msg.time - ours.time) > TIME_WINDOW_S) return 'notInTimeWindow';
  return 'ok';
}
