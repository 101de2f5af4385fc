/** Alarms: the threshold rules against each second's Status; raises and clears become events. */
import { AlarmEngine } from '../alarms/engine.ts';
import { rulesFromConfig, metricsFrom, DEFAULT_RULES } from '../alarms/rules.ts';
import type { Status } from '../status/status.ts';
import type { PartFactory } from './part.ts';

export const alarms: PartFactory = {
  name: 'alarms',
  wanted: () => true,
  create(ctx) {
    const engine = new AlarmEngine(rulesFromConfig(ctx.cfg.alarms as Parameters<typeof rulesFromConfig>[0]));
    const units = new Map(DEFAULT_RULES.map((r) => [r.name, r.units]));
    let last: Record<string, number | undefined> = {};
    const evaluate = (st: Status) => {
      const t = ctx.clock.now();
      const rules = engine.rules;
      last = metricsFrom(st);
      for (const c of engine.evaluate(t, last)) {
        const index = rules.findIndex((r) => r.name === c.alarm.name) + 1;
        if (c.kind === 'raised') ctx.bus.emit({ type: 'alarmRaised', at: t, name: c.alarm.name, severity: c.alarm.severity, value: c.alarm.value, threshold: c.alarm.threshold, index });
        else ctx.bus.emit({ type: 'alarmCleared', at: t, name: c.alarm.name, severity: c.alarm.severity, value: c.value, index });
      }
    };
    return {
      name: 'alarms',
      everySecond: evaluate,
      publish() {
        const active = new Map(engine.active().map((a) => [a.name, a]));
        return {
          alarms: engine.rules.map((r, i) => {
            const a = active.get(r.name);
            return {
              index: i + 1, name: r.name, severity: a?.severity ?? 'none' as const, value: a?.value ?? null, threshold: a?.threshold ?? null,
              raisedAt: a ? a.raisedAt : null, description: r.description,
              current: last[r.metric] ?? null, comparison: r.comparison, warning: r.warning, critical: r.critical, units: units.get(r.name) ?? '', enabled: r.enabled,
            };
          }),
        };
      },
    };
  },
};
