/** The event log: every event on the bus as one log line, at the level its kind deserves, stamped with
 * the event's own time (the line's one timestamp; it had `ts` and `at` before issue 19). */
import type { AgentEvent } from '../status/events.ts';
import type { PartFactory } from './part.ts';

/** Events an operator should see at the default level: something is wrong, or the served time changed. */
const WARN = new Set<AgentEvent['type']>([
  'fixLost', 'ppsLost', 'antennaFault', 'receiverSilent', 'receiverDisconnected', 'timeJump', 'dateRejected', 'leapTableProblem',
  'holdoverEntered', 'clockStepped', 'alarmRaised', 'storeFailed', 'ptpBetterMaster', 'timeJumpRefused',
]);
const ERROR = new Set<AgentEvent['type']>(['storeMovedAside']);

export function eventLevel(type: AgentEvent['type']): 'info' | 'warn' | 'error' {
  return ERROR.has(type) ? 'error' : WARN.has(type) ? 'warn' : 'info';
}

export const eventLog: PartFactory = {
  name: 'event-log',
  wanted: () => true,
  create(ctx) {
    return {
      name: 'event-log',
      onEvent(e) {
        const { type, at, ...rest } = e;
        ctx.log.log(eventLevel(type), type, rest, at);
      },
    };
  },
};
