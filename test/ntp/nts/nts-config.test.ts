/** ntp.nts options: defaults, and a certificate without its key (or the reverse) refused by name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../../src/config/config.ts';

test('ntp.nts is off by default, with NTS-KE on port 4460 and daily cookie keys', () => {
  const c = parseConfig('', 'empty.yaml');
  assert.deepEqual([c.ntp.nts.enabled, c.ntp.nts.ke_port, c.ntp.nts.key_rotation_s, c.ntp.nts.cert, c.ntp.nts.key], [false, 4460, 86400, '', '']);
});

test('a certificate without its key, or a key without its certificate, is a configuration error naming the other', () => {
  for (const [yaml, path] of [['ntp:\n  nts:\n    cert: /etc/c.pem\n', 'ntp.nts.key'], ['ntp:\n  nts:\n    key: /etc/k.pem\n', 'ntp.nts.cert']] as const) {
    assert.throws(() => parseConfig(yaml, 'x.yaml'), (e: unknown) => e instanceof ConfigError && e.issues.some((i) => i.path === path), path);
  }
  const ok = parseConfig('ntp:\n  nts:\n    enabled: true\n    cert: /etc/c.pem\n    key: /etc/k.pem\n', 'x.yaml');
  assert.equal(ok.ntp.nts.enabled, true);
});

test('ntp.nts.key_rotation_s under a minute and an unknown ntp.nts option are refused', () => {
  assert.throws(() => parseConfig('ntp:\n  nts:\n    key_rotation_s: 5\n', 'x.yaml'), /ntp\.nts\.key_rotation_s/);
  assert.throws(() => parseConfig('ntp:\n  nts:\n    ke_prot: 1\n', 'x.yaml'), /did you mean "ke_port"/);
});
