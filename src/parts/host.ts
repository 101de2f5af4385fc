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

/** Where the board says what it is: the device tree (a Pi, most ARM boards), then /proc/cpuinfo's
 * Serial and Model lines (older Pi kernels). x86 keeps its serial in DMI, readable by root only: none. */
export const IDENTITY_FILES = {
  serial: ['/proc/device-tree/serial-number', '/sys/firmware/devicetree/base/serial-number'],
  model: ['/proc/device-tree/model', '/sys/firmware/devicetree/base/model'],
  cpuinfo: '/proc/cpuinfo',
};

const clean = (v: string) => v.replace(/\0/g, '').trim().slice(0, 128);

/** The board's serial number and model, or null where the machine does not say. Read once. */
export function readHostIdentity(files = IDENTITY_FILES): { serialNumber: string | null; model: string | null } {
  const first = (paths: string[]) => {
    for (const p of paths) {
      try {
        const v = clean(readFileSync(p, 'latin1'));
        if (v) return v;
      } catch {
        // the next
      }
    }
    return null;
  };
  let serialNumber = first(files.serial);
  let model = first(files.model);
  if (serialNumber === null || model === null) {
    let cpuinfo = '';
    try {
      cpuinfo = readFileSync(files.cpuinfo, 'latin1').slice(0, 1 << 16);
    } catch {
      // none
    }
    serialNumber ??= clean(/^Serial\s*:\s*(\S+)/m.exec(cpuinfo)?.[1] ?? '') || null;
    model ??= clean(/^Model\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? '') || null;
  }
  // A kernel that does not know the serial reports zeros.
  if (serialNumber !== null && /^0+$/.test(serialNumber)) serialNumber = null;
  return { serialNumber, model };
}

export const host: PartFactory = {
  name: 'host',
  wanted: () => true,
  create(ctx) {
    const file = ctx.cfg.agent.cpu_temperature_file;
    let cpuTemperatureC = readCpuTemperature(file);
    const timers: Timer[] = [];
    let clockDaemons: ClockDaemon[] = [];
    const identity = readHostIdentity();
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
      publish: () => ({ host: { cpuTemperatureC, ...identity, clockDaemons, clockOwner: describeClockOwners(clockDaemons) } }),
    };
  },
};
