/**
 * The NTS server keys on disk: `nts-keys.json` in the state directory, mode 0600, written whole to a
 * temporary file and renamed over the old one, so a restart keeps the cookies clients hold valid.
 * A missing or unreadable file means new keys (clients then get an NTS NAK and run NTS-KE again).
 * The file's contents are secrets: errors name the file and the problem, never a key.
 */
import { readFileSync, writeFileSync, renameSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { NTS_KEY_BYTES, type ServerKey } from './cookies.ts';

export const KEY_FILE = 'nts-keys.json';

export function loadServerKeys(stateDir: string): { keys: ServerKey[]; problem?: string } {
  const path = join(stateDir, KEY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { keys: [], ...(code === 'ENOENT' ? {} : { problem: `${path}: ${code ?? 'unreadable'}` }) };
  }
  try {
    const j = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(j.keys)) throw new Error('no list of keys');
    const keys: ServerKey[] = [];
    for (const k of j.keys as { id?: unknown; key?: unknown; created_s?: unknown }[]) {
      if (typeof k?.id !== 'number' || typeof k.key !== 'string' || typeof k.created_s !== 'number' || !/^[0-9a-f]{64}$/.test(k.key)) {
        throw new Error('a key entry of the wrong shape');
      }
      keys.push({ id: k.id >>> 0, key: Buffer.from(k.key, 'hex'), createdS: k.created_s });
    }
    return { keys: keys.filter((k) => k.key.length === NTS_KEY_BYTES) };
  } catch (e) {
    return { keys: [], problem: `${path}: ${(e as Error).message.slice(0, 80)}` };
  }
}

export function saveServerKeys(stateDir: string, keys: readonly ServerKey[]): void {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, KEY_FILE);
  const tmp = `${path}.tmp`;
  const text = JSON.stringify({ version: 1, keys: keys.map((k) => ({ id: k.id, key: k.key.toString('hex'), created_s: k.createdS })) });
  writeFileSync(tmp, text + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600); // an older file of that name may have had another mode
  renameSync(tmp, path);
}
