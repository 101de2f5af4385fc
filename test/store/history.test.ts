import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { simConfig, virtualService } from '../helpers/virtual.ts';

test('a restart with a changed configuration records configChanged, naming the options and never a secret', async () => {
  const base = simConfig((c) => {
    c.discipline.leap_seconds_file = '';
    c.snmp.users = [{ name: 'ops', auth: 'sha256', auth_key: 'first-auth-secret', priv: 'aes', priv_key: 'first-priv-secret' }];
  });
  const run = async (patch: (c: typeof base) => void) => {
    const c = structuredClone(base);
    patch(c);
    const v = virtualService(c);
    await v.svc.start();
    v.clock.advance(3000);
    await v.svc.stop();
    return v.events;
  };
  const first = await run(() => {});
  assert.equal(first.filter((e) => e.type === 'configChanged').length, 0, 'nothing to compare with on the first run');
  const same = await run(() => {});
  assert.equal(same.filter((e) => e.type === 'configChanged').length, 0, 'an unchanged configuration is not a change');
  const changed = await run((c) => {
    c.ntp.rate_limit.burst = 32;
    c.snmp.users[0]!.priv_key = 'second-priv-secret';
  });
  const ev = changed.filter((e) => e.type === 'configChanged');
  assert.equal(ev.length, 1);
  assert.ok(ev[0]!.type === 'configChanged');
  assert.deepEqual(ev[0]!.changed, ['ntp.rate_limit.burst', 'snmp.users[0].priv_key']);
  // The stored record holds no secret, and neither does the event.
  const db = new Database(join(base.agent.state_dir, base.store.file), { readonly: true });
  const stored = db.prepare("SELECT value FROM meta WHERE key = 'config'").pluck().get() as string;
  const events = (db.prepare('SELECT data FROM events').pluck().all() as string[]).join('\n');
  db.close();
  for (const secret of ['first-auth-secret', 'first-priv-secret', 'second-priv-secret']) {
    assert.ok(!stored.includes(secret) && !events.includes(secret), `${secret} written down`);
    // Nor an unsalted hash a copied file could be checked against guesses with (what it held before).
    const bare = createHash('sha256').update(JSON.stringify(secret)).digest('hex').slice(0, 12);
    assert.ok(!stored.includes(bare), `an unsalted digest of ${secret} written down`);
  }
  assert.match(stored, /"snmp\.users\[0\]\.priv_key":"secret:[0-9a-f]{16}"/, 'a keyed digest');
  assert.match(events, /ntp\.rate_limit\.burst/);
  // The key and the history are not everyone's to read.
  const mode = (f: string) => statSync(join(base.agent.state_dir, f)).mode & 0o777;
  assert.equal(mode('fingerprint.key'), 0o600);
  assert.equal(mode(base.store.file) & 0o007, 0, 'history.db is not world-readable');
});
