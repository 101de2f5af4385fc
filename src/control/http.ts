/**
 * The loopback status endpoint: GET /status returns the Status snapshot as JSON, GET /health a one-word
 * answer. Read-only; anything else is 404/405. `stratum1 status` reads it. The listening, limits and
 * shutdown are net/http-server.ts's, shared with the /metrics endpoint.
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Status } from '../status/status.ts';
import { listenHttp, type HttpListener } from '../net/http-server.ts';

export class ControlServer {
  private server: HttpListener | undefined;
  requests = 0;

  /** Actions a local operator may trigger with POST /<name> (sending a test trap, resending the
   * active faults): they change no state. */
  constructor(private readonly status: () => Status, private readonly actions: Record<string, () => unknown> = {}) {}

  async listen(address: string, port: number): Promise<AddressInfo> {
    this.server = await listenHttp(address, port, (req, res) => this.handle(req, res));
    return this.server.address;
  }

  /** An action or a route that throws is answered 500 with its message (by listenHttp). */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const name = path.slice(1);
    const action = Object.hasOwn(this.actions, name) ? this.actions[name] : undefined; // never Object.prototype's members
    if (req.method === 'POST' && action) {
      const body = JSON.stringify(action()); // before writeHead: a throw here is still a clean 500
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
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }
}
