/**
 * Source: the machine itself. The CPU temperature from agent.cpu_temperature_file (a Pi: the SoC's
 * thermal zone, millidegrees C), read once a second into Status, where the cpu_temperature alarm, SNMP
 * and the exporters find it; and who steers the system clock (the time daemons in /proc, every 10 s). Built with the recipe for a part: this file and one line in the registry.
 */
import { readFileSync } from 'node:fs';
import type { Timer } from '../time/index.ts';
import type { PartFactory } from './part.ts';
import { findClockDaemons, describeClockOwners, type ClockDaemon } from '../discipline/clock-owner.ts';

/** Degrees C from a thermal zone file, or null where there is none (or it says nothing sensible). */
export function readCpuTemperature(path: string): number | null {
  if (!path) return null;
  try {
    const v = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(v) ? v / 1000 : null;
  } catch {
    return null;
  }
}

export const host: PartFactory = {
  name: 'host',
  wanted: () => true,
  create(ctx) {
    const file = ctx.cfg.agent.cpu_temperature_file;
    let cpuTemperatureC = readCpuTemperature(file);
    const timers: Timer[] = [];
    let clockDaemons: ClockDaemon[] = [];
    // Every 10 s of real time (read on the host's monotonic clock): a virtual-time run of a day must not
    // read /proc 8640 times.
    let lookedAt = -Infinity;
    const look = () => {
      if (performance.now() - lookedAt < 10_000) return;
      lookedAt = performance.now();
      clockDaemons = findClockDaemons();
    };
    return {
      name: 'host',
      start() {
        look();
        timers.push(ctx.clock.setInterval(() => { cpuTemperatureC = readCpuTemperature(file); }, 1000));
        timers.push(ctx.clock.setInterval(look, 10_000));
      },
      stop: () => { for (const t of timers) t.cancel(); },
      publish: () => ({ host: { cpuTemperatureC, clockDaemons, clockOwner: describeClockOwners(clockDaemons) } }),
    };
  },
};
