import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConfig, exampleYaml, defaultConfig, ConfigError, parseUpstream } from '../../src/config/config.ts';
import { ROOT } from '../helpers/env.ts';

test('config/stratum1.example.yaml is exactly what the schema generates, and parses to the defaults', () => {
  const file = readFileSync(resolve(ROOT, 'config/stratum1.example.yaml'), 'utf8');
  assert.equal(file, exampleYaml(), 'regenerate with: npx stratum1 config-example > config/stratum1.example.yaml');
  assert.deepEqual(parseConfig(file), defaultConfig());
});

test('the checkout config runs the simulator on loopback and an unprivileged port', () => {
  const c = parseConfig(readFileSync(resolve(ROOT, 'config/stratum1.yaml'), 'utf8'));
  assert.equal(c.receiver.source, 'simulator');
  assert.match(c.control.http.address, /^(127\.|::1$)/);
  assert.ok(c.control.http.port === 0 || c.control.http.port >= 1024);
  for (const a of c.ntp.addresses) assert.match(a, /^(127\.|::1$)/);
  assert.ok(c.ntp.port >= 1024);
  assert.match(c.snmp.address, /^(127\.|::1$)/);
  assert.ok(c.snmp.port >= 1024);
  assert.deepEqual(c.snmp.communities, [], 'no v2c in the checkout config');
});

function problems(text: string): string[] {
  try {
    parseConfig(text, 'bad.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.issues.map((i) => `${i.path}: expected ${i.expected}, found ${i.found}`);
  }
  assert.fail('the config was accepted');
}

test('a bad config names the key path, what was expected and what was found', () => {
  assert.deepEqual(problems('receiver:\n  serial:\n    baud: fast\n'), [
    'receiver.serial.baud: expected an integer from 1200 to 921600, found the string "fast"',
  ]);
  assert.deepEqual(problems('receiver:\n  source: usb\n'), [
    'receiver.source: expected one of "serial", "gpsd", "simulator", found the string "usb"',
  ]);
  assert.deepEqual(problems('pps:\n  lost_after_s: 0.5\n'), ['pps.lost_after_s: expected a number from 1.05 to 10, found number 0.5']);
  assert.match(problems('receivr:\n  source: gpsd\n')[0]!, /^receivr: expected no such option \(did you mean "receiver"\?\), found an unknown key$/);
  assert.match(problems('control: 5\n')[0]!, /^control: expected a mapping, found number 5$/);
  assert.match(problems('simulator:\n  faults:\n    - { at_s: -1, kind: meteor }\n').join('\n'), /simulator\.faults\[0\]\.at_s: expected a number of at least 0.*\n.*simulator\.faults\[0\]\.kind: expected one of/);
  assert.deepEqual(problems('pps:\n  min_interval_s: 1\n  max_interval_s: 1\n'), ['pps.min_interval_s: expected less than pps.max_interval_s, found 1']);
  assert.match(problems('receiver:\n  min_valid_date: 2026-02-31x\n')[0]!, /receiver\.min_valid_date: expected a date YYYY-MM-DD/);
  assert.match(problems('a: [\n')[0]!, /^line \d+ column \d+: expected valid YAML/);
  assert.match(problems('a: 1\na: 2\n').join(), /valid YAML/);
  assert.deepEqual(problems('store:\n  schedules:\n    backup: at three\n'), ['store.schedules.backup: expected a cron expression (minute hour day month weekday) or empty, found "at three"']);
  assert.match(problems('influx:\n  url: ftp://x\n')[0]!, /^influx\.url: expected an http:\/\/ or https:\/\/ URL without credentials, found the string "ftp:\/\/x"$/);
  // Credentials in the URL are refused (they go in influx.username and influx.password) and not shown.
  assert.match(problems('influx:\n  url: http://me:hunter22@influx.example:8086\n').join(), /^influx\.url: expected an http:\/\/ or https:\/\/ URL without credentials, found the string "http:\/\/\(credentials not shown\)@influx\.ex/);
  assert.deepEqual(problems('snmp:\n  users: [{ name: nms, auth_key: hunter2 }]\n'), ['snmp.users[0].auth_key: expected at least 8 characters, found a string of 7 characters (a secret: not shown)']);
  assert.match(problems('ptp:\n  domain: 200\n')[0]!, /^ptp\.domain: expected an integer from 0 to 127/);
  assert.match(problems('prometheus:\n  address: anywhere\n')[0]!, /^prometheus\.address: expected an IP address/);
  assert.deepEqual(problems('integrity:\n  ntp_servers: ["ntp1.example:123", "[::1]:70000", "a b"]\n'), [
    'integrity.ntp_servers[1]: expected NTP servers, found the string "[::1]:70000" (port 70000 is out of range)',
    'integrity.ntp_servers[2]: expected NTP servers, found the string "a b" (not host, host:port or [IPv6]:port)',
  ]);
});

test('configs that passed the check and then killed run are refused by the check (issue 15: found by a careless operator)', () => {
  assert.deepEqual(problems('control:\n  http:\n    address: not-an-address\n'), ['control.http.address: expected an IP address, found the string "not-an-address"']);
  assert.deepEqual(problems('snmp:\n  address: 999.999.999.999\n'), ['snmp.address: expected an IP address, found the string "999.999.999.999"']);
  assert.deepEqual(problems("influx:\n  url: 'http://[::1'\n"), ['influx.url: expected an http:// or https:// URL without credentials, found the string "http://[::1"']);
  assert.deepEqual(problems('discipline:\n  lock_min_samples: 1e300\n'), ['discipline.lock_min_samples: expected an integer from 1 to 3600, found number 1e+300']);
  // Object.prototype's names are no options.
  assert.deepEqual(problems('constructor: 1\ntoString: 2\nagent:\n  __proto__: 3\n').map((p) => p.split(':')[0]), ['constructor', 'toString', 'agent.__proto__']);
  // An alias bomb: a clear refusal, not a stack trace.
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`), 'agent: { name: *i }'].join('\n');
  assert.match(problems(bomb).join(), /\(YAML\): expected valid YAML, found .*alias/i);
});

test('upstream servers: host, host:port, IPv6 bare or bracketed', () => {
  assert.deepEqual(parseUpstream('ntp.example.org'), { host: 'ntp.example.org', port: 123 });
  assert.deepEqual(parseUpstream('192.0.2.7:1123'), { host: '192.0.2.7', port: 1123 });
  assert.deepEqual(parseUpstream('[2001:db8::1]:124'), { host: '2001:db8::1', port: 124 });
  assert.deepEqual(parseUpstream('2001:db8::1'), { host: '2001:db8::1', port: 123 });
  assert.deepEqual(parseConfig('integrity:\n  ntp_servers: ["192.0.2.1", "[::1]:11123"]\n').integrity.ntp_servers, ['192.0.2.1', '[::1]:11123']);
});

test('an empty file is the defaults', () => {
  assert.deepEqual(parseConfig(''), defaultConfig());
});
