/** Builds a Service on virtual time (SimClock), with logs captured instead of printed. */
import { SimClock, fromDate } from '../../src/time/index.ts';
import { Logger } from '../../src/log.ts';
import { Service } from '../../src/service.ts';
import { defaultConfig, type Config } from '../../src/config/config.ts';
import type { AgentEvent } from '../../src/status/events.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SIM_START = fromDate(new Date('2026-11-25T12:00:00.250Z'));

/**
 * A virtual start relative to the host's now (minutes ago, on a whole minute, plus 0.25 s): for tests
 * that record history and read it back with the commands, which measure ranges from the host's now.
 */
export function recentStart(minutesAgo: number): bigint {
  const nowS = Math.floor(Date.now() / 1000);
  return BigInt(nowS - (nowS % 60) - minutesAgo * 60) * 1_000_000_000n + 250_000_000n;
}

export function simConfig(patch: (c: Config) => void = () => {}): Config {
  const c = defaultConfig();
  c.receiver.source = 'simulator';
  c.pps.source = 'simulator';
  c.ntp.enabled = false; // virtual-time tests open no sockets
  c.agent.state_dir = mkdtempSync(join(tmpdir(), 'virtual-')); // never the checkout's ./var
  patch(c);
  return c;
}

export function virtualService(cfg: Config, start: bigint = SIM_START) {
  const clock = new SimClock(start);
  const logLines: string[] = [];
  const log = new Logger(clock, { level: 'debug', repeatPerMinute: 1000 }, { write: (l) => logLines.push(l) });
  const svc = new Service(cfg, { clock, simulate: true, log, listen: false });
  const events: AgentEvent[] = [];
  svc.bus.onAny((e) => events.push(e));
  return { clock, svc, events, logLines };
}

export function secondsAfterStart(e: AgentEvent): number {
  return Math.round(Number(e.at - SIM_START) / 1e8) / 10;
}
