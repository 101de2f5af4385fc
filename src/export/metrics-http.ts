/**
 * The Prometheus endpoint: GET /metrics on its own listener (loopback by default), so it can be opened
 * to a Prometheus server on the network while the control endpoint stays on loopback. Read-only. The
 * listening, limits and shutdown are net/http-server.ts's, shared with the control endpoint.
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenHttp, type HttpListener } from '../net/http-server.ts';

export class MetricsServer {
  private server: HttpListener | undefined;
  scrapes = 0;

  constructor(private readonly body: () => string) {}

  async listen(address: string, port: number): Promise<AddressInfo> {
    this.server = await listenHttp(address, port, (req, res) => this.handle(req, res));
    return this.server.address;
  }

  /** An exposition that throws is answered 500 with its message (by listenHttp). */
  private handle(req: IncomingMessage, res: ServerResponse): void {
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
    const text = this.body();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : text);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }
}
