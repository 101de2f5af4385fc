/**
 * Threshold alarms (pure): each rule watches one metric of Status, with a warning and a critical
 * threshold, a hysteresis band and minimum durations before raising and before clearing, so a value
 * oscillating around a threshold raises once and clears once. Time comes in as an argument.
 */
import type { Nanos } from '../time/index.ts';

export type Severity = 'warning' | 'critical';
export type Comparison = 'above' | 'below';

export interface AlarmRule {
  name: string;
  metric: string;
  comparison: Comparison;
  warning: number | null;
  critical: number | null;
  /** A raised alarm clears only once the value is this far back on the good side of its threshold. */
  hysteresis: number;
  raiseAfterS: number;
  clearAfterS: number;
  enabled: boolean;
  description: string;
}

export interface ActiveAlarm {
  name: string;
  metric: string;
  severity: Severity;
  raisedAt: Nanos;
  value: number;
  threshold: number;
  description: string;
}

export type AlarmChange =
  | { kind: 'raised'; alarm: ActiveAlarm }
  | { kind: 'cleared'; alarm: ActiveAlarm; value: number };

interface RuleState {
  level: Severity | null;
  /** The level the value currently calls for, and since when. */
  pending: Severity | null;
  pendingSince: Nanos;
  active: ActiveAlarm | undefined;
}

const RANK = { none: 0, warning: 1, critical: 2 } as const;

export class AlarmEngine {
  private states = new Map<string, RuleState>();

  constructor(readonly rules: AlarmRule[]) {
    for (const r of rules) this.states.set(r.name, { level: null, pending: null, pendingSince: 0n, active: undefined });
  }

  /** The level a value calls for, given the level already raised (hysteresis keeps a raised level). */
  private levelFor(r: AlarmRule, v: number, current: Severity | null): Severity | null {
    const bad = (threshold: number | null, held: boolean) => {
      if (threshold === null) return false;
      const t = held ? (r.comparison === 'above' ? threshold - r.hysteresis : threshold + r.hysteresis) : threshold;
      return r.comparison === 'above' ? v > t : v < t;
    };
    if (bad(r.critical, current === 'critical')) return 'critical';
    if (bad(r.warning, current !== null)) return 'warning';
    return null;
  }

  /** Feeds the current metric values; returns the raises and clears this produces. */
  evaluate(now: Nanos, metrics: Record<string, number | null | undefined>): AlarmChange[] {
    const out: AlarmChange[] = [];
    for (const r of this.rules) {
      if (!r.enabled) continue;
      const st = this.states.get(r.name)!;
      const v = metrics[r.metric];
      if (v === null || v === undefined || !Number.isFinite(v)) continue;
      const want = this.levelFor(r, v, st.level);
      if (want !== st.pending) {
        st.pending = want;
        st.pendingSince = now;
      }
      if (want === st.level) continue;
      const worse = RANK[want ?? 'none'] > RANK[st.level ?? 'none'];
      const waitS = worse ? r.raiseAfterS : r.clearAfterS;
      if (Number(now - st.pendingSince) / 1e9 < waitS) continue;
      if (st.active) out.push({ kind: 'cleared', alarm: st.active, value: v });
      st.level = want;
      st.active = undefined;
      if (want) {
        const threshold = (want === 'critical' ? r.critical : r.warning) ?? 0;
        st.active = { name: r.name, metric: r.metric, severity: want, raisedAt: now, value: v, threshold, description: r.description };
        out.push({ kind: 'raised', alarm: st.active });
      }
    }
    return out;
  }

  active(): ActiveAlarm[] {
    return [...this.states.values()].flatMap((s) => (s.active ? [s.active] : []));
  }
}
