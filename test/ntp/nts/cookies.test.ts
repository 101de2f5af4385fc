/** NTS cookies: made and opened under rotating server keys, grace period, bounds, persistence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CookieKeys, COOKIE_BYTES } from '../../../src/ntp/nts/cookies.ts';
import { loadServerKeys, saveServerKeys, KEY_FILE } from '../../../src/ntp/nts/key-store.ts';

const DAY = 86400;
const T0 = 1_800_000_000;
const session = () => ({ c2s: randomBytes(32), s2c: randomBytes(32) });

test('a cookie is 100 bytes and opens to the C2S and S2C keys it was made from', () => {
  const k = new CookieKeys({ rotationS: DAY, graceS: 2 * DAY });
  k.rotate(T0);
  const s = session();
  const c = k.make(s);
  assert.equal(c.length, COOKIE_BYTES);
  assert.equal(COOKIE_BYTES, 100);
  const o = k.open(c);
  assert.ok(o.ok, 'the cookie opens');
  if (!o.ok) return;
  assert.deepEqual([o.c2s, o.s2c], [s.c2s, s.s2c]);
  assert.notDeepEqual(k.make(s), c, 'two cookies for the same keys differ (fresh nonce)');
});

test('a tampered cookie, an unknown key id, or a wrong length is refused with its reason', () => {
  const k = new CookieKeys({ rotationS: DAY, graceS: DAY });
  k.rotate(T0);
  const c = k.make(session());
  for (const i of [4, 20, 40, 99]) {
    const bad = Buffer.from(c);
    bad[i]! ^= 0x01;
    const o = k.open(bad);
    assert.ok(!o.ok && o.reason === 'undecryptable', `byte ${i} flipped`);
  }
  const unknown = Buffer.from(c);
  unknown.writeUInt32BE((c.readUInt32BE(0) + 1) >>> 0, 0);
  const o1 = k.open(unknown);
  assert.ok(!o1.ok && o1.reason === 'unknown-key', 'unknown key id');
  const o2 = k.open(c.subarray(0, 99));
  assert.ok(!o2.ok && o2.reason === 'cookie-length', 'short');
  const other = new CookieKeys({ rotationS: DAY, graceS: DAY });
  other.rotate(T0);
  assert.equal(other.open(c).ok, false, 'another server\'s keys do not open it');
});

test('keys rotate each period; cookies of an old key open through the grace period, then not', () => {
  const k = new CookieKeys({ rotationS: DAY, graceS: 2 * DAY });
  assert.ok(k.rotate(T0), 'first key made');
  assert.equal(k.rotate(T0 + DAY - 1), false, 'not yet a period');
  const old = k.make(session());
  assert.ok(k.rotate(T0 + DAY), 'rotated after a period');
  assert.equal(k.keys().length, 2);
  assert.notEqual(k.make(session()).readUInt32BE(0), old.readUInt32BE(0), 'new cookies use the new key');
  assert.equal(k.currentAgeS(T0 + DAY + 5), 5);
  k.rotate(T0 + 2 * DAY);
  assert.ok(k.open(old).ok, 'old key alive within rotation + grace (3 days)');
  k.rotate(T0 + 3 * DAY);
  assert.ok(k.open(old).ok, 'exactly rotation + grace after its birth: still kept');
  k.rotate(T0 + 4 * DAY);
  const o = k.open(old);
  assert.ok(!o.ok && o.reason === 'unknown-key', 'past the grace period the key is gone');
  assert.ok(k.keys().length <= 4, `keys bounded by the periods: ${k.keys().length}`);
});

test('the key list is bounded whatever the periods, and a clock that went back gets a fresh key', () => {
  const k = new CookieKeys({ rotationS: 60, graceS: 365 * DAY, maxKeys: 8 });
  for (let i = 0; i < 100; i++) k.rotate(T0 + i * 60);
  assert.equal(k.keys().length, 8);
  const newest = k.keys()[7]!.id;
  k.rotate(T0 - 10 * DAY);
  assert.notEqual(k.keys()[k.keys().length - 1]!.id, newest, 'a new current key after the clock went back');
});

test('keys saved in the state directory (mode 0600) load back and still open earlier cookies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nts-keys-'));
  try {
    const k = new CookieKeys({ rotationS: DAY, graceS: DAY });
    k.rotate(T0);
    k.rotate(T0 + DAY);
    const c = k.make(session());
    saveServerKeys(dir, k.keys());
    assert.equal(statSync(join(dir, KEY_FILE)).mode & 0o777, 0o600);
    const loaded = loadServerKeys(dir);
    assert.equal(loaded.problem, undefined);
    const k2 = new CookieKeys({ rotationS: DAY, graceS: DAY }, loaded.keys);
    assert.equal(k2.rotate(T0 + DAY + 10), false, 'no new key needed after a restart');
    assert.ok(k2.open(c).ok, 'a cookie made before the restart opens after it');
    // The file is JSON of hex keys; a damaged one is a problem, reported without its contents.
    const text = readFileSync(join(dir, KEY_FILE), 'utf8');
    writeFileSync(join(dir, KEY_FILE), text.slice(0, 40));
    const bad = loadServerKeys(dir);
    assert.equal(bad.keys.length, 0);
    assert.ok(bad.problem && !bad.problem.includes(k.keys()[0]!.key.toString('hex').slice(0, 16)), `a problem without key material: ${bad.problem}`);
    rmSync(join(dir, KEY_FILE));
    assert.deepEqual(loadServerKeys(dir), { keys: [] }, 'no file: no keys and no problem');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
