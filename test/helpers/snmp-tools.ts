/** Net-SNMP's own tools against the agent: snmptrapd receiving our notifications, and snmpwalk
 * reading by name, both with our MIB and NTPv4-MIB loaded (from the RFC text in shared/reference,
 * a test tool, not shipped). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, SHARED } from './env.ts';

export const mibDirs = () => `${resolve(ROOT, 'mibs')}:${resolve(SHARED, 'reference')}:${resolve(ROOT, 'node_modules/net-snmp/lib/mibs')}`;

export interface Trapd {
  proc: ChildProcess;
  log: string;
  /** The log once it matches `re`, waiting up to `ms`; throws naming `what` (with the log's tail) otherwise. */
  waitFor(re: RegExp, what: string, ms?: number): Promise<string>;
}

/** snmptrapd on 127.0.0.1:port accepting v2c traps for `community`, logging decoded by name. */
export function trapd(dir: string, community: string, port: number): Trapd {
  const confFile = join(dir, `trapd-${port}.conf`);
  writeFileSync(confFile, `authCommunity log ${community}\n`);
  const log = join(dir, `trapd-${port}.log`);
  const proc = spawn('snmptrapd', ['-f', '-Lf', log, '-C', '-c', confFile, '-M', mibDirs(), '-m', 'STRATUM1-AGENT-MIB:SNMPv2-MIB:NTPv4-MIB', `udp:127.0.0.1:${port}`], { stdio: 'ignore' });
  return {
    proc, log,
    async waitFor(re, what, ms = 15_000) {
      const end = Date.now() + ms;
      for (;;) {
        const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if (re.test(text)) return text;
        if (Date.now() > end) throw new Error(`snmptrapd never received ${what}:\n${text.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
  };
}

/** snmpwalk v2c by name (-Oqs, no units): "name.index" -> value, quotes dropped. */
export function walk(port: number, community: string, oid: string): Map<string, string> {
  const r = spawnSync('snmpwalk', ['-v2c', '-c', community, '-M', mibDirs(), '-m', 'STRATUM1-AGENT-MIB:NTPv4-MIB', '-Oqs', '-OU', `127.0.0.1:${port}`, oid], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`snmpwalk ${oid}: ${r.stderr}`);
  const m = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(' ');
    // A walk that reaches the end of the agent's tree ends with an endOfMibView line naming the last
    // object again: not a value.
    if (i > 0 && !/^No more variables left/.test(line.slice(i + 1))) m.set(line.slice(0, i), line.slice(i + 1).replace(/^"|"$/g, ''));
  }
  return m;
}
