/** The SNMPv3 engine's identity kept across starts: its ID (configured, or generated once) and its
 * boots count, in the state directory. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MAX_ENGINE_VALUE } from './usm.ts';

/**
 * The ID, and a problem when a generated one could not be kept (a read-only state directory): the
 * agent then runs with it for this run only, and says so, instead of not starting. Trap receivers
 * that bind users to the engine ID need it configured (snmp.engine_id) in that case.
 */
export function engineId(configured: string, stateDir: string, warn: (msg: string, fields: Record<string, unknown>) => void = () => {}): string {
  if (configured) return configured;
  const file = resolve(stateDir, 'snmp-engine-id');
  if (existsSync(file)) {
    const v = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-fA-F]{10,64}$/.test(v)) return v;
  }
  // RFC 3411: enterprise 8072 (Net-SNMP's format, as net-snmp uses) and random octets.
  const id = `80001f8804${randomBytes(12).toString('hex')}`;
  try {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(file, `${id}\n`, { mode: 0o640 });
  } catch (e) {
    warn('SNMP engine ID generated for this run only: it cannot be kept (set snmp.engine_id)', { file, problem: (e as Error).message });
  }
  return id;
}

/**
 * snmpEngineBoots for this start: one more than the last start's under the same engine ID (1 for a new
 * ID), written back before the agent answers. When it cannot be written (a read-only state directory)
 * the count still moves on for this start, and the caller is told: a later start may then reuse a
 * count, which reopens a replay window for requests captured in an earlier run.
 */
export function nextEngineBoots(engineId: string, stateDir: string,
  warn: (msg: string, fields: Record<string, unknown>) => void = () => {}): number {
  const file = resolve(stateDir, 'snmp-engine-boots');
  let last = 0;
  try {
    if (existsSync(file)) {
      const m = /^([0-9a-fA-F]+) (\d{1,10})\s*$/.exec(readFileSync(file, 'utf8'));
      if (m && m[1]!.toLowerCase() === engineId.toLowerCase()) last = Number(m[2]);
    }
  } catch {
    // unreadable: start the count again
  }
  const boots = Math.min(MAX_ENGINE_VALUE, last + 1);
  try {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(file, `${engineId.toLowerCase()} ${boots}\n`, { mode: 0o640 });
  } catch (e) {
    warn('SNMPv3 engine boots cannot be kept: replay protection across restarts needs a writable state directory', { file, problem: (e as Error).message });
  }
  return boots;
}
