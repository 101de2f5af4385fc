/** The SNMPv3 engine ID: configured, or generated once and kept in the state directory. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export function engineId(configured: string, stateDir: string): string {
  if (configured) return configured;
  const file = resolve(stateDir, 'snmp-engine-id');
  if (existsSync(file)) {
    const v = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-fA-F]{10,64}$/.test(v)) return v;
  }
  // RFC 3411: enterprise 8072 (Net-SNMP's format, as net-snmp uses) and random octets.
  const id = `80001f8804${randomBytes(12).toString('hex')}`;
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}
