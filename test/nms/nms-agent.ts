/**
 * The agent as an NMS meets it in the tests of test/nms: the simulator on loopback, SNMP and NTP on
 * ephemeral ports, a v2c community, a SNMPv3 user with the default SHA-256 + AES and one with SHA-1 +
 * AES (for pollers whose Net-SNMP has no SHA-2), with passphrases generated for the run.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { agentConfig, startAgent, type RunningAgent } from '../helpers/agent.ts';
import { freeUdpPort } from '../helpers/ports.ts';
import { ROOT } from '../helpers/env.ts';

/** Where Debian's monitoring-plugins put check_snmp and check_ntp_time ($USER1$, Icinga's PluginDir). */
export const PLUGIN_DIR = '/usr/lib/nagios/plugins';
/** Our MIB, and the SMIv2 base modules it imports (Debian ships none; net-snmp's npm package does). */
export const MIBDIRS = `${resolve(ROOT, 'mibs')}:${resolve(ROOT, 'node_modules/net-snmp/lib/mibs')}`;

export interface NmsAgent {
  agent: RunningAgent;
  snmpPort: number;
  ntpPort: number;
  community: string;
  user: { name: string; authPass: string; privPass: string };
  sha1User: { name: string; authPass: string; privPass: string };
}

/** Returns true when every plugin is installed. Otherwise: under CI throws; elsewhere skips loudly. */
export function requirePlugins(t: TestContext, ...plugins: string[]): boolean {
  const missing = plugins.filter((p) => !existsSync(join(PLUGIN_DIR, p)));
  if (missing.length === 0) return true;
  const msg = `REAL PEER MISSING: ${missing.join(', ')} in ${PLUGIN_DIR} (Debian: monitoring-plugins-basic, monitoring-plugins-standard)`;
  if (process.env.CI) throw new Error(msg);
  console.error(`\n*** SKIPPED: ${msg} ***\n`);
  t.skip(msg);
  return false;
}

export async function withNmsAgent(fn: (a: NmsAgent) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nms-'));
  const snmpPort = await freeUdpPort();
  const ntpPort = await freeUdpPort();
  const community = `test-ro-${randomBytes(4).toString('hex')}`;
  const pass = (what: string) => `test-${what}-${randomBytes(6).toString('hex')}`;
  const user = { name: 'icinga', authPass: pass('auth'), privPass: pass('priv') };
  const sha1User = { name: 'icinga-sha1', authPass: pass('auth'), privPass: pass('priv') };
  writeFileSync(join(dir, 'c.yaml'), agentConfig(dir, ['127.0.0.1'], ntpPort) + [
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${snmpPort}`, `  communities: [${community}]`,
    '  v2c_allow: [127.0.0.1/32]',
    '  users:',
    `    - { name: ${user.name}, auth_key: ${user.authPass}, priv_key: ${user.privPass} }`,
    `    - { name: ${sha1User.name}, auth: sha, auth_key: ${sha1User.authPass}, priv: aes, priv_key: ${sha1User.privPass} }`, '',
  ].join('\n'));
  const agent = await startAgent(join(dir, 'c.yaml'));
  try {
    await fn({ agent, snmpPort, ntpPort, community, user, sha1User });
  } finally {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
