/**
 * NTS cookies (RFC 8915 section 6), pure: the server keys (each with a 32-bit id and its creation
 * time), rotated every `rotationS` with old keys kept `graceS` longer so a client's cookies outlive a
 * rotation, and the cookie itself:
 *
 *   key id (4) | nonce (16) | AES-SIV-CMAC-256(server key, nonce, C2S key || S2C key) (16 + 64)
 *
 * 100 bytes. Time comes in as an argument (wall-clock seconds: keys outlive restarts); randomness
 * from node:crypto unless a test gives its own. Keys are secrets: nothing here logs or prints them.
 */
import { randomBytes as cryptoRandom } from 'node:crypto';
import { AesSivCmac256, RandomPool } from './siv.ts';

export const NTS_KEY_BYTES = 32;
export const COOKIE_NONCE = 16;
export const COOKIE_BYTES = 4 + COOKIE_NONCE + 16 + 2 * NTS_KEY_BYTES;

export interface ServerKey {
  id: number;
  key: Buffer;
  createdS: number;
}

export interface SessionKeys {
  c2s: Buffer;
  s2c: Buffer;
}

export type OpenedCookie =
  | ({ ok: true; keyId: number } & SessionKeys)
  | { ok: false; reason: 'cookie-length' | 'unknown-key' | 'undecryptable' };

export interface CookieKeyOptions {
  rotationS: number;
  graceS: number;
  /** Most keys kept, whatever the periods (a bound on memory and on the state file). */
  maxKeys?: number;
}

export class CookieKeys {
  private list: ServerKey[] = [];
  private readonly ciphers = new Map<number, AesSivCmac256>();
  private readonly maxKeys: number;
  private readonly nonces: RandomPool;

  constructor(private readonly o: CookieKeyOptions, keys: readonly ServerKey[] = [], private readonly random: (n: number) => Buffer = cryptoRandom) {
    this.maxKeys = Math.max(2, o.maxKeys ?? 64);
    this.nonces = new RandomPool(random);
    for (const k of keys) {
      if (k.key.length !== NTS_KEY_BYTES || this.ciphers.has(k.id >>> 0)) continue;
      this.list.push({ id: k.id >>> 0, key: Buffer.from(k.key), createdS: k.createdS });
      this.ciphers.set(k.id >>> 0, new AesSivCmac256(k.key));
    }
    this.list.sort((a, b) => a.createdS - b.createdS);
  }

  /** Adds a key when the newest is a rotation period old (or none exists, or it was made in the
   * future: the wall clock went back), drops keys past rotation + grace. True when the set changed. */
  rotate(nowS: number): boolean {
    let changed = false;
    const newest = this.list[this.list.length - 1];
    if (!newest || nowS - newest.createdS >= this.o.rotationS || newest.createdS - nowS > 60) {
      let id: number;
      do id = this.random(4).readUInt32BE(0); while (this.ciphers.has(id));
      const key = this.random(NTS_KEY_BYTES);
      this.list.push({ id, key, createdS: nowS });
      this.ciphers.set(id, new AesSivCmac256(key));
      changed = true;
    }
    const current = this.list[this.list.length - 1]!;
    const keep = this.list.filter((k) => k === current || (nowS - k.createdS <= this.o.rotationS + this.o.graceS && k.createdS - nowS <= this.o.rotationS + this.o.graceS)).slice(-this.maxKeys);
    if (keep.length !== this.list.length) {
      for (const k of this.list) if (!keep.includes(k)) this.ciphers.delete(k.id);
      this.list = keep;
      changed = true;
    }
    return changed;
  }

  /** The keys, oldest first (for the state file). */
  keys(): readonly ServerKey[] {
    return this.list;
  }

  /** Seconds since the current key was made (NaN before the first rotate). */
  currentAgeS(nowS: number): number {
    const k = this.list[this.list.length - 1];
    return k ? nowS - k.createdS : NaN;
  }

  make(s: SessionKeys): Buffer {
    const k = this.list[this.list.length - 1];
    if (!k) throw new Error('NTS cookies: no server key yet (rotate first)');
    const nonce = this.nonces.take(COOKIE_NONCE);
    const out = Buffer.alloc(COOKIE_BYTES);
    out.writeUInt32BE(k.id, 0);
    nonce.copy(out, 4);
    this.ciphers.get(k.id)!.seal(Buffer.concat([s.c2s, s.s2c]), [], nonce).copy(out, 4 + COOKIE_NONCE);
    return out;
  }

  open(cookie: Uint8Array): OpenedCookie {
    if (cookie.length !== COOKIE_BYTES) return { ok: false, reason: 'cookie-length' };
    const b = Buffer.from(cookie.buffer, cookie.byteOffset, cookie.byteLength);
    const keyId = b.readUInt32BE(0);
    const siv = this.ciphers.get(keyId);
    if (!siv) return { ok: false, reason: 'unknown-key' };
    const p = siv.open(b.subarray(4 + COOKIE_NONCE), [], b.subarray(4, 4 + COOKIE_NONCE));
    if (!p || p.length !== 2 * NTS_KEY_BYTES) return { ok: false, reason: 'undecryptable' };
    return { ok: true, keyId, c2s: p.subarray(0, NTS_KEY_BYTES), s2c: p.subarray(NTS_KEY_BYTES) };
  }
}
