/**
 * Source: the machine itself. The CPU temperature from agent.cpu_temperature_file (a Pi: the SoC's
 * thermal zone, millidegrees C), read once a second into Status, where the cpu_temperature alarm, SNMP
 * and the exporters find it. Built with the recipe for a part: this file and one line in the registry.
 */
import { readFileSync } from 'node:fs';
import type { Timer } from '../time/index.ts';
import type { PartFactory } from './part.ts';

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
    let timer: Timer | undefined;
    return {
      name: 'host',
      start() {
        timer = ctx.clock.setInterval(() => { cpuTemperatureC = readCpuTemperature(file); }, 1000);
      },
      stop: () => timer?.cancel(),
      publish: () => ({ host: { cpuTemperatureC } }),
    };
  },
};
