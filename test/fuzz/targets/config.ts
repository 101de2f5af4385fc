/**
 * Fuzz target of the configuration loader: YAML text mutated from config/stratum1.example.yaml (its
 * sections one by one, comments dropped, so each input parses in a fraction of a millisecond) and a
 * few documents with the lists filled in.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../../helpers/env.ts';
import { parseConfig, configFingerprint, ConfigError } from '../../../src/config/config.ts';
import { mutateText } from '../mutate.ts';
import type { Rng } from '../prng.ts';
import { check, type Target } from '../engine.ts';

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
const fromUtf8 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

function configSeeds(): string[] {
  const text = readFileSync(resolve(ROOT, 'config/stratum1.example.yaml'), 'utf8');
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l) && l.trim() !== '');
  const sections: string[][] = [];
  for (const l of lines) {
    if (/^\S/.test(l)) sections.push([l]);
    else sections.at(-1)?.push(l);
  }
  return [
    ...sections.map((s) => s.join('\n')),
    [
      'snmp:', '  enabled: true', '  communities: [public, "ro-x"]', '  v2c_allow: [127.0.0.1/32, "::1/128", 192.0.2.0/24]',
      '  users:', '    - { name: nms, auth: sha256, auth_key: auth-pass-123, priv: aes, priv_key: priv-pass-123 }',
      '  trap_sinks:', '    - { host: 127.0.0.1, port: 162, version: v3, user: nms, inform: true, retries: 2, timeout_ms: 1000 }',
      '    - { host: "::1", port: 1162, version: v2c, community: public }',
    ].join('\n'),
    ['integrity:', '  ntp_servers: [192.0.2.1, "[2001:db8::1]:123", "ntp.example.org:1123"]', 'ntp:', '  allow: [192.0.2.0/24]', '  deny: ["2001:db8::/32"]',
      '  deny_action: kod'].join('\n'),
    ['simulator:', '  start: "2026-11-25T12:00:00Z"', '  faults: []', '  ntp_servers:', '    - { offset_ms: 1.5, delay_ms: 10, jitter_ms: 1, stratum: 2 }'].join('\n'),
    'store:\n  schedules:\n    rollup: "*/5 * * * *"\n    prune: "0 0 29 2 *"\n    backup: ""',
    'defaults: &d\n  enabled: true\nntp:\n  <<: *d\n  port: 123',
  ];
}

const YAML_VALUES = [
  '~', 'null', '""', "''", '[]', '{}', '-1', '0', '1e400', '-.inf', '.nan', '0x7fffffff', '0o777', '9007199254740993', '1_000', 'yes', 'on',
  '!!binary aGVsbG8=', '!!str 12', '!!int "x"', '!!float "1e3"', '!!map {}', '!!seq []', '!!set {a, b}', '!!omap [a: 1]', '!!timestamp 2026-01-01',
  '&a 5', '*a', '*nope', '[*a, *a]', '"__proto__"', '{__proto__: {x: 1}}', '{constructor: 1}', '"999.999.999.999/33"', '"::1/129"', '"10.0.0.0/-1"',
  '"* * * * * *"', '"61 25 32 13 8"', '"*/0 * * * *"', '"1-99999999 * * * *"', '"2026-02-30"', '"0000-00-00"', '"x".repeat', '"\\u0000"',
  '"a\\nb"', '|\n  block\n  text', '>-\n  folded', '? complex\n: key', '[1, [2, [3, [4]]]]', '{a: {b: {c: {}}}}', '"http://[::1"', '"udp://x"',
  '- a\n- b', '!!null x', '!custom 1', '&x [*x]', '"' + 'x'.repeat(300) + '"',
];

const YAML_KEYS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype', '<<', '? ', '"quoted key"', '[a, b]', '{a: 1}', '&k key', '*k', '-', ''];

/** YAML-aware mutations on lines, then the generic text ones. */
function mutateYaml(rng: Rng, input: Uint8Array, seeds: readonly Uint8Array[]): Uint8Array {
  let s = fromUtf8(input);
  for (let k = rng.chance(0.6) ? 1 : rng.range(2, 3); k > 0; k--) {
    const lines = s.split('\n');
    const i = rng.below(lines.length);
    const line = lines[i] ?? '';
    const m = /^(\s*(?:- )?)([^:]*):(\s*)(.*)$/.exec(line);
    switch (rng.below(9)) {
      case 0: case 1: // a value
        lines[i] = m ? `${m[1]}${m[2]}: ${rng.pick(YAML_VALUES)}` : `${line} ${rng.pick(YAML_VALUES)}`;
        break;
      case 2: // a key
        if (m) lines[i] = `${m[1]}${rng.pick(YAML_KEYS)}:${m[3]}${m[4]}`;
        break;
      case 3: // a line duplicated, dropped or moved
        if (rng.chance(0.4)) lines.splice(i, 0, line);
        else if (rng.chance(0.5)) lines.splice(i, 1);
        else lines.splice(rng.below(lines.length), 0, ...lines.splice(i, 1));
        break;
      case 4: // indentation
        lines[i] = rng.chance(0.5) ? `${' '.repeat(rng.pick([1, 2, 4]))}${line}` : line.replace(/^ {1,2}/, rng.chance(0.2) ? '\t' : '');
        break;
      case 5: // a directive or document marker
        lines.splice(rng.pick([0, i]), 0, rng.pick(['%YAML 1.1', '%YAML 1.2\n---', '---', '...', '%TAG ! tag:example.org,2026:', '--- !!set', '--- |']));
        break;
      case 6: // anchors and aliases
        if (m) {
          lines[i] = `${m[1]}${m[2]}: &a${rng.below(3)} ${m[4] || '{}'}`;
          const j = rng.below(lines.length);
          const mj = /^(\s*(?:- )?)([^:]*):\s*(.*)$/.exec(lines[j] ?? '');
          if (mj) lines[j] = `${mj[1]}${mj[2]}: ${rng.pick(['*a0', '*a1', '*a2', '[*a0, *a0, *a0]'])}`;
          else lines.splice(j, 0, `${m[1]}<<: *a${rng.below(3)}`);
        }
        break;
      case 7: { // deep or wide structure
        const depth = rng.pick([20, 200, 2000]);
        const v = rng.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{a: '.repeat(depth) + '1' + '}'.repeat(depth);
        lines[i] = m ? `${m[1]}${m[2]}: ${v}` : v;
        break;
      }
      default:
        s = mutateText(rng, lines.join('\n'), [fromUtf8(rng.pick(seeds))], { maxLen: 65536, words: YAML_VALUES, separators: [':', ',', '-', '[', ']', '{', '}', '"', "'", '&', '*', '!', '|', '>', '#', '\n', ' '] });
        continue;
    }
    s = lines.join('\n');
  }
  return utf8(s.length > 65536 ? s.slice(0, 65536) : s);
}

/**
 * config. Contract (src/config/config.ts, parseConfig): a bad file is refused by throwing ConfigError
 * (by design: the key path, what was expected, what was found); any other exception (TypeError,
 * RangeError, an error of the YAML library or of a validator) is a crash. A file it accepts gives a
 * configuration with every section, which configFingerprint can walk.
 */
export const config: Target = {
  name: 'config',
  contract: 'parseConfig returns a Config or throws ConfigError (by design, with at least one issue); any other exception is a crash; an accepted config has every section and fingerprints without error.',
  setup() {
    const sections = ['agent', 'receiver', 'pps', 'discipline', 'integrity', 'ntp', 'snmp', 'simulator', 'alarms', 'store', 'ptp', 'influx', 'prometheus', 'control', 'logging'];
    // yaml warns on stderr about mapping keys that are collections (a fuzzed file has many): not
    // a failure, and not worth a million lines of output.
    const emit = process.emitWarning.bind(process);
    process.emitWarning = ((w: string | Error, ...rest: never[]) => {
      if (!String(w).includes('Keys with collection values')) emit(w, ...rest);
    }) as typeof process.emitWarning;
    return {
      close: () => { process.emitWarning = emit; },
      seeds: configSeeds().map(utf8),
      mutate: mutateYaml,
      expected: (e) => e instanceof ConfigError && e.issues.length > 0,
      run(input) {
        const c = parseConfig(fromUtf8(input), 'fuzz.yaml');
        for (const s of sections) check(typeof (c as Record<string, unknown>)[s] === 'object', `section ${s} missing`);
        configFingerprint(c, Buffer.alloc(32, 7));
      },
    };
  },
};
