/**
 * The Prometheus endpoint: GET /metrics on its own listener (loopback by default), so it can be opened
 * to a Prometheus server on the network while the control endpoint stays on loopback. Read-only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class MetricsServer {
  private server: Server | undefined;
  scrapes = 0;

  constructor(private readonly body: () => string) {}

  listen(address: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const srv = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD' }).end();
          return;
        }
        if (path !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics here\n');
          return;
        }
        this.scrapes++;
        let text: string;
        try {
          text = this.body();
        } catch (e) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : text);
      });
      srv.headersTimeout = 5000;
      srv.requestTimeout = 5000;
      srv.once('error', reject);
      srv.listen(port, address, () => {
        this.server = srv;
        resolve(srv.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
