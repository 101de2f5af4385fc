/**
 * One definition, two products: the MIB file must be exactly what the definition generates, pass
 * smilint at level 6 with nothing but the documented warning, and every object the agent serves must
 * resolve by name with snmptranslate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateMib, DEFAULT_ROOT, MODULE } from '../../src/snmp/smi.ts';
import { allScalars, allTables } from '../../src/snmp/mib.ts';
import { ROOT, requirePeers } from '../helpers/env.ts';

const FILE = resolve(ROOT, 'mibs/STRATUM1-AGENT-MIB.txt');
const BASE_MIBS = resolve(ROOT, 'node_modules/net-snmp/lib/mibs');

test('mibs/STRATUM1-AGENT-MIB.txt is exactly what the definition generates', () => {
  assert.equal(readFileSync(FILE, 'utf8'), generateMib(DEFAULT_ROOT), 'regenerate with: npx stratum1 mib > mibs/STRATUM1-AGENT-MIB.txt');
});

test('smilint at level 6 reports nothing but the documented warning', (t) => {
  if (!requirePeers(t, 'smilint')) return;
  const r = spawnSync('smilint', ['-l', '6', FILE], { encoding: 'utf8', env: { ...process.env, SMIPATH: BASE_MIBS } });
  // smilint exits 0 even with errors: judge the output. The one warning we accept: the module sits
  // at { enterprises 8072 9999 9999 } without NET-SNMP-MIB's nodes for 8072 and 8072.9999 (Debian
  // ships no IETF or Net-SNMP MIB files to import them from).
  // That warning is on the module's `::= { enterprises ... }` line, which moves as revisions are added.
  const at = readFileSync(FILE, 'utf8').split('\n').findIndex((l) => /^ {4}::= \{ enterprises /.test(l)) + 1;
  assert.ok(at > 0, 'the module identity is placed under enterprises');
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const unexpected = lines.filter((l) => !l.endsWith(`:${at}: warning: implicit node definition`));
  assert.deepEqual(unexpected, []);
});

test('snmptranslate resolves every object the agent serves, by name and number', (t) => {
  if (!requirePeers(t, 'snmptranslate')) return;
  const dir = mkdtempSync(join(tmpdir(), 'mibs-'));
  try {
    copyFileSync(FILE, join(dir, `${MODULE}.txt`));
    const names = [...allScalars().map((s) => ({ name: s.def.name, oid: `${DEFAULT_ROOT}.${s.oid.join('.')}.0` }))];
    for (const tb of allTables()) {
      for (const c of tb.def.columns) if (!c.index) names.push({ name: c.name, oid: `${DEFAULT_ROOT}.${tb.oid.join('.')}.1.${c.sub}` });
    }
    const args = ['-M', `${dir}:${BASE_MIBS}`, '-m', MODULE, '-On'];
    for (const n of names) {
      const r = spawnSync('snmptranslate', [...args, `${MODULE}::${n.name}${n.oid.endsWith('.0') ? '.0' : ''}`], { encoding: 'utf8' });
      assert.equal(r.stdout.trim(), `.${n.oid}`, `${n.name}: ${r.stderr}`);
    }
    assert.ok(names.length > 50, `${names.length} objects`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the MIB root must be under enterprises; another root moves every object', () => {
  assert.throws(() => generateMib('1.3.6.1.2.1.999'), /under enterprises/);
  const mine = generateMib('1.3.6.1.4.1.99999.1');
  assert.match(mine, /::= \{ enterprises 99999 1 \}/);
});
