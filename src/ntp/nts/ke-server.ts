/**
 * The NTS-KE server (RFC 8915 section 4), a thin adapter: TLS 1.3 only, ALPN "ntske/1", one request
 * read under a size limit and a deadline, answered by the pure `answerKeRequest` with cookies holding
 * the keys exported from the TLS session ("EXPORTER-network-time-security", context protocol 0x0000,
 * AEAD 15, 0x00 for C2S and 0x01 for S2C). Bounded: connections at once, handshake and session
 * deadlines, request bytes. The certificate is reloaded when its files change. Keys are never logged.
 */
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { isIPv6, type Socket } from 'node:net';
import { answerKeRequest, encodeKeError, parseKeMessage, REQUEST_LIMITS, KE_ERR_BAD_REQUEST, PROTOCOL_NTPV4, AEAD_AES_SIV_CMAC_256 } from './ke-codec.ts';
import type { CookieKeys } from './cookies.ts';
import { certChanged, certStamp, loadCert, type CertFiles, type LoadedCert } from './cert.ts';
import type { NtsCounters } from '../../status/status.ts';
import type { Endpoint } from '../../status/status.ts';

export const NTS_EXPORTER_LABEL = 'EXPORTER-network-time-security';
export const NTS_ALPN = 'ntske/1';

/** The exporter context of RFC 8915 section 5.1: protocol id, AEAD id, direction. */
export function exporterContext(direction: 0 | 1, protocol = PROTOCOL_NTPV4, aead = AEAD_AES_SIV_CMAC_256): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt16BE(protocol, 0);
  b.writeUInt16BE(aead, 2);
  b[4] = direction;
  return b;
}

export function exportNtsKeys(s: TLSSocket): { c2s: Buffer; s2c: Buffer } {
  return {
    c2s: s.exportKeyingMaterial(32, NTS_EXPORTER_LABEL, exporterContext(0)),
    s2c: s.exportKeyingMaterial(32, NTS_EXPORTER_LABEL, exporterContext(1)),
  };
}

export interface KeServerOptions {
  addresses: string[];
  port: number;
  cert: CertFiles;
  /** The NTP port clients are told (omitted when 123). */
  ntpPort: number;
  /** The NTP server clients are told to use; empty: this one. */
  ntpServer: string;
  cookiesPerSession: number;
  maxConnections: number;
  timeoutMs: number;
  /** How often the certificate files are checked for a change. */
  certCheckMs?: number;
}

export class NtsKeServer {
  private servers: Server[] = [];
  private cert: LoadedCert;
  private timer: NodeJS.Timeout | undefined;
  private readonly live = new Set<Socket>();

  constructor(
    private readonly o: KeServerOptions,
    private readonly keys: CookieKeys,
    private readonly counters: NtsCounters,
    private readonly log: (level: 'info' | 'warn', msg: string) => void,
  ) {
    this.cert = loadCert(o.cert);
  }

  get certificate(): LoadedCert {
    return this.cert;
  }

  private fail(reason: string): void {
    this.counters.keFailures[reason] = (this.counters.keFailures[reason] ?? 0) + 1;
  }

  /** Loads the certificate again if its files changed; a bad new pair is logged and the old one kept. */
  reloadIfChanged(): boolean {
    if (!certChanged(this.cert)) return false;
    try {
      const c = loadCert(this.o.cert);
      for (const s of this.servers) s.setSecureContext({ cert: c.certPem, key: c.keyPem });
      this.cert = c;
      this.log('info', `NTS-KE: certificate reloaded from ${c.cert} (${c.subject}, valid to ${c.validTo}, SHA-256 ${c.fingerprintSha256})`);
      return true;
    } catch (e) {
      this.log('warn', `NTS-KE: the changed certificate was not loaded, the old one stays: ${(e as Error).message}`);
      // Not again for this same state of the files: only their next change is tried.
      try {
        this.cert = { ...this.cert, stamp: certStamp(this.o.cert) };
      } catch { /* a file is missing: keep trying */ }
      return false;
    }
  }

  async listen(): Promise<Endpoint[]> {
    const out: Endpoint[] = [];
    for (const address of this.o.addresses) {
      const srv = createServer({
        cert: this.cert.certPem, key: this.cert.keyPem, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3',
        ALPNProtocols: [NTS_ALPN], handshakeTimeout: this.o.timeoutMs,
      });
      srv.maxConnections = this.o.maxConnections;
      srv.on('connection', (raw: Socket) => {
        this.counters.keConnections++;
        this.live.add(raw);
        // One deadline for the whole session, handshake included.
        const t = setTimeout(() => {
          this.fail('timeout');
          raw.destroy();
        }, this.o.timeoutMs);
        raw.once('close', () => {
          clearTimeout(t);
          this.live.delete(raw);
        });
        raw.on('error', () => { /* counted where it matters; a reset peer is no crash */ });
      });
      srv.on('drop', () => this.fail('busy'));
      srv.on('tlsClientError', (e: Error & { code?: string }, s: TLSSocket) => {
        this.fail(/ALPN|application protocol/i.test(`${e.code} ${e.message}`) ? 'alpn' : /timed out|timeout/i.test(e.message) ? 'timeout' : 'tls');
        s.destroy();
      });
      srv.on('secureConnection', (s) => this.session(s));
      srv.on('error', (e) => this.log('warn', `NTS-KE: server error: ${e.message}`));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ host: address, port: this.o.port, exclusive: true, ipv6Only: isIPv6(address) }, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      this.servers.push(srv);
      const a = srv.address();
      if (a && typeof a === 'object') out.push({ service: 'nts-ke', protocol: 'tcp', address: a.address, port: a.port });
    }
    this.timer = setInterval(() => this.reloadIfChanged(), this.o.certCheckMs ?? 5000);
    this.timer.unref();
    return out;
  }

  private session(s: TLSSocket): void {
    s.on('error', () => { /* a reset mid-session: nothing to answer */ });
    if (s.alpnProtocol !== NTS_ALPN) {
      this.fail('alpn');
      s.destroy();
      return;
    }
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const onData = (d: Buffer) => {
      if (done) return;
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const p = parseKeMessage(buf, REQUEST_LIMITS);
      if (p.ok && !p.complete) return;
      done = true;
      s.off('data', onData);
      if (!p.ok) {
        this.fail(p.reason);
        s.end(encodeKeError(KE_ERR_BAD_REQUEST));
        return;
      }
      let answer;
      try {
        answer = answerKeRequest(p.records, () => {
          const k = exportNtsKeys(s);
          return Array.from({ length: this.o.cookiesPerSession }, () => this.keys.make(k));
        }, {
          ...(this.o.ntpPort !== 123 ? { port: this.o.ntpPort } : {}),
          ...(this.o.ntpServer ? { server: this.o.ntpServer } : {}),
        });
      } catch (e) {
        this.fail('internal');
        this.log('warn', `NTS-KE: internal error: ${(e as Error).message}`);
        s.end(encodeKeError(2));
        return;
      }
      if (answer.outcome === 'cookies') {
        this.counters.keSessions++;
        this.counters.cookiesIssued += answer.cookies;
      } else {
        this.fail(answer.outcome);
      }
      s.end(answer.response);
    };
    s.on('data', onData);
    s.on('end', () => {
      if (!done) {
        done = true;
        this.fail('incomplete');
      }
    });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.servers) s.close();
    for (const r of this.live) r.destroy();
    this.live.clear();
    this.servers = [];
  }
}
