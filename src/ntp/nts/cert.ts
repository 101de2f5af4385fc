/**
 * The NTS-KE server's certificate: from the configured files, or, with none configured, a self-signed
 * one for "localhost" made once in the state directory (nts-cert.pem, nts-key.pem, mode 0600) by
 * `openssl req -x509` (Node 20 cannot make a certificate by itself; openssl is on every Debian box
 * that has ca-certificates, and one well-known command beats an X.509 writer of our own). Reloaded
 * when either file changes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';

export const SELF_SIGNED_CERT = 'nts-cert.pem';
export const SELF_SIGNED_KEY = 'nts-key.pem';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface LoadedCert extends CertFiles {
  certPem: Buffer;
  keyPem: Buffer;
  /** For spotting a change: size and modification time of both files. */
  stamp: string;
  subject: string;
  validTo: string;
  fingerprintSha256: string;
}

export const certStamp = (f: CertFiles): string => [f.cert, f.key].map((p) => {
  const s = statSync(p);
  return `${s.size}:${s.mtimeMs}:${s.ino}`;
}).join('|');

/** Reads both files; throws an Error naming the file and the problem. */
export function loadCert(f: CertFiles): LoadedCert {
  const stamp = certStamp(f);
  const certPem = readFileSync(f.cert);
  const keyPem = readFileSync(f.key);
  let x: X509Certificate;
  try {
    x = new X509Certificate(certPem);
  } catch (e) {
    throw new Error(`${f.cert}: not a PEM certificate (${(e as Error).message})`, { cause: e });
  }
  if (!x.checkPrivateKey(createPrivateKeySafe(keyPem, f.key))) throw new Error(`${f.key}: not the private key of ${f.cert}`);
  return {
    ...f, certPem, keyPem, stamp, subject: x.subject.replace(/\n/g, ', '), validTo: x.validTo,
    fingerprintSha256: createHash('sha256').update(x.raw).digest('hex').match(/../g)!.join(':').toUpperCase(),
  };
}

function createPrivateKeySafe(pem: Buffer, path: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    throw new Error(`${path}: not a PEM private key`, { cause: e });
  }
}

/** Whether the files changed since `c` was loaded (a missing file counts as unchanged: keep serving). */
export function certChanged(c: LoadedCert): boolean {
  try {
    return certStamp(c) !== c.stamp;
  } catch {
    return false;
  }
}

/**
 * The self-signed certificate in `stateDir`: reused while it is valid for another day, made (or made
 * again) otherwise. `made` says whether it is new.
 */
export function ensureSelfSigned(stateDir: string, nowMs: number, days = 3650): CertFiles & { made: boolean } {
  const f = { cert: join(stateDir, SELF_SIGNED_CERT), key: join(stateDir, SELF_SIGNED_KEY) };
  if (existsSync(f.cert) && existsSync(f.key)) {
    try {
      const x = new X509Certificate(readFileSync(f.cert));
      if (Date.parse(x.validTo) > nowMs + 86_400_000 && Date.parse(x.validFrom) <= nowMs) return { ...f, made: false };
    } catch { /* unreadable: make a new one */ }
  }
  mkdirSync(stateDir, { recursive: true });
  const tmpCert = `${f.cert}.tmp`;
  const tmpKey = `${f.key}.tmp`;
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', tmpKey, '-out', tmpCert, '-days', String(days), '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  } catch (e) {
    rmSync(tmpCert, { force: true });
    rmSync(tmpKey, { force: true });
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = err.code === 'ENOENT' ? 'openssl is not installed' : (err.stderr?.toString().trim().split('\n')[0] ?? err.message);
    throw new Error(`NTS: cannot make a self-signed certificate in ${stateDir} (${why}); set ntp.nts.cert and ntp.nts.key`, { cause: e });
  }
  chmodSync(tmpKey, 0o600);
  chmodSync(tmpCert, 0o600);
  renameSync(tmpKey, f.key);
  renameSync(tmpCert, f.cert);
  return { ...f, made: true };
}
