/**
 * The loopback status endpoint: GET /status returns the Status snapshot as JSON, GET /health a one-word
 * answer. Read-only; anything else is 404/405. `stratum1 status` reads it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Status } from '../status/status.ts';

export class ControlServer {
  private server: Server | undefined;
  requests = 0;

  /** Actions a local operator may trigger with POST /<name> (sending a test trap, resending the
   * active faults): they change no state. */
  constructor(private readonly status: () => Status, private readonly actions: Record<string, () => unknown> = {}) {}

  listen(address: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const srv = createServer((req, res) => {
        this.requests++;
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const action = this.actions[path.slice(1)];
        if (req.method === 'POST' && action) {
          let body: string;
          try {
            body = JSON.stringify(action());
          } catch (e) {
            res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
          return;
        }
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.writeHead(405, { allow: 'GET, HEAD' }).end();
          return;
        }
        if (path === '/status') {
          let body: string;
          try {
            body = JSON.stringify(this.status());
          } catch (e) {
            res.writeHead(500, { 'content-type': 'text/plain' }).end(`status failed: ${(e as Error).message}\n`);
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
        } else if (path === '/health') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /status\n');
        }
      });
      srv.requestTimeout = 5000;
      srv.headersTimeout = 5000;
      srv.maxHeadersCount = 50;
      srv.once('error', reject);
      srv.listen(port, address, () => {
        srv.off('error', reject);
        this.server = srv;
        resolve(srv.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
