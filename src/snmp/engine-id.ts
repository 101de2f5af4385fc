/** The SNMPv3 engine ID: configured, or generated once and kept in the state directory. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

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
