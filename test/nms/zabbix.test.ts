/**
 * The Zabbix 6.0 template (nms/zabbix/stratum1-agent.yaml): it parses, it has the structure Zabbix 6.0
 * imports (zabbix_export.version, uuids, SNMP items with snmp_oid, triggers whose expressions name
 * existing item keys and defined macros, value maps that exist and match the MIB's enumerations), every
 * OID resolves with snmptranslate to the object its description names, in STRATUM1-AGENT-MIB or
 * NTPv4-MIB, and the agent answers every one of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { ROOT, SHARED, requirePeers } from '../helpers/env.ts';
import { MIBDIRS, withNmsAgent } from './nms-agent.ts';

const FILE = resolve(ROOT, 'nms/zabbix/stratum1-agent.yaml');
/** NTPv4-MIB as published with RFC 5907, a test tool kept beside the project (not shipped). */
const NTPV4_DIR = resolve(SHARED, 'reference');

interface Tag { tag: string; value: string }
interface Trigger { uuid: string; expression: string; name: string; priority: string; dependencies?: { name: string; expression: string }[] }
interface Item {
  uuid: string; name: string; type: string; snmp_oid: string; key: string; value_type?: string; trends?: string; units?: string;
  description: string; valuemap?: { name: string }; preprocessing?: { type: string; parameters: string[] }[]; tags?: Tag[]; triggers?: Trigger[];
}
interface DiscoveryRule extends Item { item_prototypes: Item[] }
interface Template {
  uuid: string; template: string; name: string; groups: { name: string }[]; items: Item[]; discovery_rules: DiscoveryRule[];
  macros: { macro: string; value: string }[]; valuemaps: { uuid: string; name: string; mappings: { value: string; newvalue: string }[] }[];
}
interface Export { zabbix_export: { version: string; groups: { uuid: string; name: string }[]; templates: Template[] } }

function load(): { doc: Export; tpl: Template } {
  const doc = parse(readFileSync(FILE, 'utf8')) as Export;
  assert.equal(doc.zabbix_export.version, '6.0', 'zabbix_export.version');
  assert.equal(doc.zabbix_export.templates.length, 1, 'one template');
  return { doc, tpl: doc.zabbix_export.templates[0]! };
}

/** The MIB object an item's description names ("MIB: MODULE::object"). */
function named(i: Item): string {
  const m = /^MIB: ([\w-]+::\w+)/.exec(i.description);
  assert.ok(m, `${i.key}: the description names its MIB object`);
  return m[1]!;
}

/** Every OID in the template: item OIDs (instances), discovery columns, prototype columns. */
function oids(tpl: Template): { where: string; oid: string; object: string; instance: boolean }[] {
  const out: { where: string; oid: string; object: string; instance: boolean }[] = [];
  for (const i of tpl.items) out.push({ where: i.key, oid: i.snmp_oid.replace(/\.0$/, ''), object: named(i), instance: true });
  for (const d of tpl.discovery_rules) {
    const m = /^discovery\[(.*)\]$/.exec(d.snmp_oid);
    assert.ok(m, `${d.key}: discovery[{#MACRO},oid,...]`);
    const parts = m[1]!.split(',');
    assert.ok(parts.length % 2 === 0 && parts.length >= 2, `${d.key}: pairs of macro and OID`);
    const table = named(d).replace(/Table$/, '');
    for (let k = 0; k < parts.length; k += 2) {
      assert.match(parts[k]!, /^\{#[A-Z0-9_]+\}$/, `${d.key}: LLD macro ${parts[k]}`);
      out.push({ where: `${d.key} ${parts[k]}`, oid: parts[k + 1]!, object: `${table}*`, instance: false });
    }
    for (const p of d.item_prototypes) {
      assert.ok(p.snmp_oid.endsWith('.{#SNMPINDEX}'), `${p.key}: the row by {#SNMPINDEX}, whatever the table's index`);
      out.push({ where: p.key, oid: p.snmp_oid.replace(/\.\{#SNMPINDEX\}$/, ''), object: named(p), instance: false });
    }
  }
  return out;
}

test('the Zabbix template parses and has the structure Zabbix 6.0 imports: uuids, SNMP items, triggers on existing keys and macros, value maps', () => {
  const { doc, tpl } = load();
  const uuids: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) { if (k === 'uuid') uuids.push(String(v)); else walk(v); }
  };
  walk(doc);
  for (const u of uuids) assert.match(u, /^[0-9a-f]{32}$/, `uuid ${u}`);
  assert.equal(new Set(uuids).size, uuids.length, 'uuids are unique');
  for (const g of tpl.groups) assert.ok(doc.zabbix_export.groups.some((x) => x.name === g.name), `group ${g.name} is exported`);
  assert.ok(tpl.uuid && tpl.template && tpl.name, 'template uuid, template and name');

  const all: Item[] = [...tpl.items, ...tpl.discovery_rules, ...tpl.discovery_rules.flatMap((d) => d.item_prototypes)];
  const keys = all.map((i) => i.key);
  assert.equal(new Set(keys).size, keys.length, 'item keys are unique');
  const valuemaps = new Set(tpl.valuemaps.map((v) => v.name));
  const macros = new Set(tpl.macros.map((m) => m.macro));
  for (const i of all) {
    assert.equal(i.type, 'SNMP_AGENT', `${i.key}: SNMP agent item`);
    assert.ok(i.uuid && i.name && i.snmp_oid && i.key, `${i.key}: uuid, name, snmp_oid and key`);
    assert.match(i.key, /^[\w.-]+(\[[^\]]*\])?$/, `${i.key}: a valid item key`);
    if (i.value_type) assert.ok(['FLOAT', 'CHAR', 'LOG', 'UNSIGNED', 'TEXT'].includes(i.value_type), `${i.key}: value_type ${i.value_type}`);
    if (i.value_type === 'CHAR' || i.value_type === 'TEXT') assert.equal(i.trends, '0', `${i.key}: text items keep no trends`);
    if (i.valuemap) assert.ok(valuemaps.has(i.valuemap.name), `${i.key}: value map ${i.valuemap.name} is defined`);
    // A multiplier that makes fractions needs a FLOAT item (uptime's whole seconds stay UNSIGNED).
    for (const p of i.preprocessing ?? []) if (p.type === 'MULTIPLIER' && i.units !== 'uptime') assert.equal(i.value_type, 'FLOAT', `${i.key}: multiplier on a FLOAT item`);
  }
  const triggers = tpl.items.flatMap((i) => (i.triggers ?? []).map((tr) => ({ ...tr, item: i.key })));
  assert.ok(triggers.length >= 8, `${triggers.length} triggers`);
  for (const tr of triggers) {
    const refs = [...tr.expression.matchAll(/\w+\(\/([^/]+)\/([^,)]+)/g)];
    assert.ok(refs.length > 0, `${tr.name}: the expression references an item`);
    for (const [, host, key] of refs) {
      assert.equal(host, tpl.template, `${tr.name}: references this template`);
      assert.ok(keys.includes(key!), `${tr.name}: item ${key} exists`);
      assert.equal(key, tr.item, `${tr.name}: sits under the item it references`);
    }
    for (const m of `${tr.expression} ${tr.name}`.matchAll(/\{\$[A-Z0-9_.]+\}/g)) assert.ok(macros.has(m[0]), `${tr.name}: macro ${m[0]} is defined`);
    assert.ok(['NOT_CLASSIFIED', 'INFO', 'WARNING', 'AVERAGE', 'HIGH', 'DISASTER'].includes(tr.priority), `${tr.name}: priority ${tr.priority}`);
    for (const dep of tr.dependencies ?? []) assert.ok(triggers.some((x) => x.name === dep.name && x.expression === dep.expression), `${tr.name}: depends on an existing trigger`);
  }
  // The problems the issue asks for, each a trigger on the right object.
  const on = (object: string) => triggers.filter((tr) => named(tpl.items.find((i) => i.key === tr.item)!) === `STRATUM1-AGENT-MIB::${object}`).map((tr) => tr.expression);
  assert.ok(on('s1DisciplineState').some((e) => /<2$/.test(e)), 'not locked (freerun or acquiring)');
  assert.ok(on('s1DisciplineState').some((e) => /=2$/.test(e)), 'holdover');
  assert.ok(on('s1DisciplineErrorEstimate').length >= 1, 'time error over a threshold');
  assert.ok(on('s1PpsPresent').some((e) => /=2$/.test(e)), 'PPS missing (TruthValue false)');
  assert.ok(on('s1GnssFixValid').some((e) => /=2$/.test(e)), 'fix lost');
  assert.ok(on('s1GnssAntennaFault').some((e) => /=1$/.test(e)), 'antenna fault');
  assert.ok(tpl.discovery_rules.some((d) => named(d) === 'STRATUM1-AGENT-MIB::s1SatTable'), 'a discovery rule on the satellite table');

  // Value maps of our enumerations are the MIB's own.
  const mib = readFileSync(resolve(ROOT, 'mibs/STRATUM1-AGENT-MIB.txt'), 'utf8');
  for (const vm of tpl.valuemaps.filter((v) => v.name.startsWith('S1'))) {
    const m = new RegExp(`^${vm.name} ::= TEXTUAL-CONVENTION[\\s\\S]*?SYNTAX INTEGER \\{([^}]*)\\}`, 'm').exec(mib);
    assert.ok(m, `${vm.name} is a textual convention of the MIB`);
    const enums = [...m[1]!.matchAll(/(\w+)\((\d+)\)/g)].map((x) => `${x[2]}=${x[1]}`);
    assert.deepEqual(vm.mappings.map((x) => `${x.value}=${x.newvalue}`), enums, `value map ${vm.name}`);
  }
});

test('every OID of the Zabbix template resolves with snmptranslate to the object it names (our MIB or NTPv4-MIB) and the agent answers it', async (t) => {
  if (!requirePeers(t, 'snmptranslate', 'snmpget', 'snmpwalk')) return;
  if (!existsSync(resolve(NTPV4_DIR, 'NTPv4-MIB.txt'))) {
    const msg = `NTPv4-MIB (RFC 5907's text) is not at ${NTPV4_DIR}`;
    if (process.env.CI) throw new Error(msg);
    console.error(`\n*** SKIPPED: ${msg} ***\n`);
    t.skip(msg);
    return;
  }
  const { tpl } = load();
  const list = oids(tpl);
  const mibArgs = ['-m', '+ALL', '-M', `+${MIBDIRS}:${NTPV4_DIR}`];
  for (const o of list) {
    assert.match(o.oid, /^1(\.\d+)+$/, `${o.where}: a numeric OID (the Zabbix server needs no MIB files)`);
    const r = spawnSync('snmptranslate', [...mibArgs, o.oid], { encoding: 'utf8' });
    const got = r.stdout.trim();
    assert.match(got, /^(STRATUM1-AGENT-MIB|NTPv4-MIB)::\w+$/, `${o.where}: ${o.oid} -> ${got} ${r.stderr.split('\n')[0]}`);
    if (o.object.endsWith('*')) assert.ok(got.startsWith(o.object.slice(0, -1)), `${o.where}: ${got} is a column of ${o.object.slice(0, -1)}Table`);
    else assert.equal(got, o.object, `${o.where}: ${o.oid} is ${o.object}`);
  }
  await withNmsAgent(async (a) => {
    await a.agent.waitFor((s) => s.gnss.satellitesInView > 0 && s.discipline.state !== 'FREERUN', 60_000, 'a sky and samples');
    await new Promise((r) => setTimeout(r, 1500));
    const target = `127.0.0.1:${a.snmpPort}`;
    const v3 = ['-v3', '-l', 'authPriv', '-u', a.user.name, '-a', 'SHA-256', '-A', a.user.authPass, '-x', 'AES', '-X', a.user.privPass];
    const scalars = list.filter((o) => o.instance);
    const r = spawnSync('snmpget', ['-m', '', '-On', '-t', '2', '-r', '1', ...v3, target, ...scalars.map((o) => `${o.oid}.0`)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    for (const o of scalars) {
      const line = lines.find((l) => l.startsWith(`.${o.oid}.0 = `));
      assert.ok(line, `${o.where}: ${o.oid}.0 answered`);
      assert.doesNotMatch(line, /No Such (Object|Instance)/, `${o.where}: ${line}`);
      const item = tpl.items.find((i) => i.key === o.where)!;
      if (item.valuemap) {
        const vm = tpl.valuemaps.find((v) => v.name === item.valuemap!.name)!;
        const value = /INTEGER: (-?\d+)$/.exec(line)?.[1];
        assert.ok(vm.mappings.some((m) => m.value === value), `${o.where}: ${line} is in value map ${vm.name}`);
      }
    }
    // Table columns: each has rows, and the prototypes' rows are the discovery's rows ({#SNMPINDEX}).
    const rows = new Map<string, string[]>();
    for (const o of list.filter((x) => !x.instance)) {
      const w = spawnSync('snmpwalk', ['-m', '', '-On', '-t', '2', '-r', '1', '-v2c', '-c', a.community, target, o.oid], { encoding: 'utf8' });
      assert.equal(w.status, 0, w.stderr);
      const idx = w.stdout.trim().split('\n').filter((l) => l.startsWith(`.${o.oid}.`)).map((l) => l.slice(o.oid.length + 2).split(' = ')[0]!);
      assert.ok(idx.length > 0, `${o.where}: ${o.oid} has rows`);
      rows.set(o.oid, idx);
    }
    for (const d of tpl.discovery_rules) {
      const cols = /^discovery\[(.*)\]$/.exec(d.snmp_oid)![1]!.split(',').filter((_, k) => k % 2 === 1);
      const base = rows.get(cols[0]!)!.join(' ');
      for (const p of d.item_prototypes) {
        assert.equal(rows.get(p.snmp_oid.replace(/\.\{#SNMPINDEX\}$/, ''))!.join(' '), base, `${p.key}: the discovered rows`);
      }
    }
    console.log(`${scalars.length} items and ${list.length - scalars.length} table columns answered; satellite rows: ${rows.get(/discovery\[[^,]*,([^,\]]+)/.exec(tpl.discovery_rules[0]!.snmp_oid)![1]!)!.length}`);
  });
});
