/**
 * Typed events and the tiny bus that carries them. Every event is raised once per transition by the
 * room that owns the decision (gnss/, pps/, ...); exporters (logs, SNMP traps, the store) subscribe.
 */
import type { Nanos } from '../time/index.ts';

/** The GNSS plausibility checks and the upstream cross-check, by name (each has an alarm rule, a row of
 * the MIB's integrity table and a Status entry). */
export const INTEGRITY_CHECKS = ['upstream', 'position', 'jamming', 'satellites', 'pps_count', 'leap'] as const;
export type IntegrityCheck = (typeof INTEGRITY_CHECKS)[number];

export type AgentEvent =
  | { type: 'fixAcquired'; at: Nanos; mode: number; satellitesUsed: number }
  | { type: 'fixLost'; at: Nanos; reason: string }
  | { type: 'ppsLost'; at: Nanos; lastEdge: Nanos | undefined }
  | { type: 'ppsRestored'; at: Nanos; outageS: number }
  | { type: 'antennaFault'; at: Nanos; antenna: string }
  | { type: 'antennaOk'; at: Nanos; antenna: string }
  | { type: 'receiverSilent'; at: Nanos; silentS: number }
  | { type: 'receiverResumed'; at: Nanos; outageS: number }
  | { type: 'receiverDisconnected'; at: Nanos; reason: string }
  | { type: 'receiverConnected'; at: Nanos; device: string }
  | { type: 'receiverConfigured'; at: Nanos; acked: number[]; failed: number[] }
  | { type: 'dateRejected'; at: Nanos; date: string }
  | { type: 'timeJump'; at: Nanos; expected: string; got: string }
  /** The integrity gate refuses the receiver's time: it disagrees with the served clock by jumpNs. */
  | { type: 'timeJumpRefused'; at: Nanos; jumpNs: number; label: string }
  /** The refused jump ended: the receiver agrees again, the policy accepted it (the clock steps), or the
   * clock no longer vouches for its time (FREERUN). */
  | { type: 'timeJumpEnded'; at: Nanos; outcome: 'agreed' | 'accepted' | 'unlocked'; jumpNs: number; refusedSamples: number; durationS: number }
  /** A GNSS plausibility check failed (spoofing, jamming, a receiver fault): its name, the figure and
   * the threshold it passed, in words. */
  | { type: 'integrityCheckFailed'; at: Nanos; check: IntegrityCheck; value: number; threshold: number; detail: string }
  /** That check passes again after durationS. */
  | { type: 'integrityCheckPassed'; at: Nanos; check: IntegrityCheck; value: number; durationS: number }
  | { type: 'lockStateChanged'; at: Nanos; from: string; to: string; reason: string }
  | { type: 'holdoverEntered'; at: Nanos; reason: string }
  | { type: 'holdoverExited'; at: Nanos; to: string; durationS: number }
  | { type: 'clockStepped'; at: Nanos; stepNs: number }
  | { type: 'leapSecondAnnounced'; at: Nanos; leapAt: Nanos; delta: 1 | -1 }
  | { type: 'leapTableProblem'; at: Nanos; problem: string }
  | { type: 'alarmRaised'; at: Nanos; name: string; severity: string; value: number; threshold: number; index: number }
  | { type: 'alarmCleared'; at: Nanos; name: string; severity: string; value: number; index: number }
  | { type: 'storeFailed'; at: Nanos; problem: string }
  | { type: 'storeRecovered'; at: Nanos; detail: string }
  | { type: 'storeMovedAside'; at: Nanos; detail: string }
  | { type: 'ptpBetterMaster'; at: Nanos; identity: string; priority1: number; clockClass: number; domain: number }
  | { type: 'ptpBetterMasterGone'; at: Nanos; identity: string }
  /** The partner ptp4l's port state changed (its first port; from the last state it answered, so a
   * restart shows too); inExpectedState: the new state is partners.ptp4l.expected_port_state. */
  | { type: 'ptp4lPortStateChanged'; at: Nanos; from: string; to: string; expected: string; inExpectedState: boolean }
  /** The partner ptp4l's grandmaster or its clockClass changed. */
  | { type: 'ptp4lGrandmasterChanged'; at: Nanos; fromIdentity: string; toIdentity: string; fromClockClass: number; toClockClass: number }
  /** The partner chronyd lost its synchronisation (no reference, leap status unsynchronised, or it
   * stopped answering: reason says which). */
  | { type: 'chronySyncLost'; at: Nanos; reference: string | null; reason: string }
  /** The partner chronyd is synchronised again, to reference. */
  | { type: 'chronySyncRegained'; at: Nanos; reference: string; stratum: number }
  /** A source of the partner chronyd became a falseticker (chronyc sources: x); index: its row, from 1. */
  | { type: 'chronySourceFalseticker'; at: Nanos; name: string; index: number }
  /** A source of the partner chronyd is no longer a falseticker (its state now, or gone). */
  | { type: 'chronySourceFalsetickerEnded'; at: Nanos; name: string; index: number; state: string }
  | { type: 'configChanged'; at: Nanos; changed: string[]; more: number }
  | { type: 'agentStarted'; at: Nanos; version: string }
  | { type: 'agentStopping'; at: Nanos; reason: string };

export type EventType = AgentEvent['type'];

/** Every event type, at run time (the commands check --type against it); the compiler keeps it whole. */
export const EVENT_TYPES = [
  'fixAcquired', 'fixLost', 'ppsLost', 'ppsRestored', 'antennaFault', 'antennaOk', 'receiverSilent', 'receiverResumed',
  'receiverDisconnected', 'receiverConnected', 'receiverConfigured', 'dateRejected', 'timeJump', 'timeJumpRefused', 'timeJumpEnded',
  'integrityCheckFailed', 'integrityCheckPassed', 'lockStateChanged', 'holdoverEntered', 'holdoverExited', 'clockStepped',
  'leapSecondAnnounced', 'leapTableProblem', 'alarmRaised', 'alarmCleared', 'storeFailed', 'storeRecovered', 'storeMovedAside',
  'ptpBetterMaster', 'ptpBetterMasterGone', 'ptp4lPortStateChanged', 'ptp4lGrandmasterChanged',
  'chronySyncLost', 'chronySyncRegained', 'chronySourceFalseticker', 'chronySourceFalsetickerEnded', 'configChanged', 'agentStarted', 'agentStopping',
] as const satisfies readonly EventType[];
const everyTypeListed: Exclude<EventType, (typeof EVENT_TYPES)[number]> extends never ? true : never = true;
void everyTypeListed;
type Of<T extends EventType> = Extract<AgentEvent, { type: T }>;

export class EventBus {
  private handlers = new Map<string, ((e: AgentEvent) => void)[]>();
  private all: ((e: AgentEvent) => void)[] = [];
  private recentEvents: AgentEvent[] = [];
  readonly counts: Partial<Record<EventType, number>> = {};

  subscriberErrors = 0;

  constructor(private readonly keep = 100, private readonly onError: (err: unknown, e: AgentEvent) => void = () => {}) {}

  on<T extends EventType>(type: T, fn: (e: Of<T>) => void): void {
    const list = this.handlers.get(type) ?? [];
    list.push(fn as (e: AgentEvent) => void);
    this.handlers.set(type, list);
  }

  onAny(fn: (e: AgentEvent) => void): void {
    this.all.push(fn);
  }

  emit(e: AgentEvent): void {
    this.counts[e.type] = (this.counts[e.type] ?? 0) + 1;
    this.recentEvents.push(e);
    if (this.recentEvents.length > this.keep) this.recentEvents.shift();
    // A failing subscriber must not stop the others, nor the producer.
    for (const fn of [...(this.handlers.get(e.type) ?? []), ...this.all]) {
      try {
        fn(e);
      } catch (err) {
        this.subscriberErrors++;
        this.onError(err, e);
      }
    }
  }

  recent(): readonly AgentEvent[] {
    return this.recentEvents;
  }
}
