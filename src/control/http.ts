/**
 * The loopback status endpoint: GET /status returns the Status snapshot as JSON, GET /health a one-word
 * answer, GET / (and /ui) the live web page (web.ts) with GET /ui/recent, its last ten minutes, the
 * parts' read-only views (GET /clients) and live streams (GET /nmea, the raw NMEA: line-stream.ts).
 * Read-only; anything else is 404/405. `stratum1 status` reads it. The listening, limits and
 * shutdown are net/http-server.ts's, shared with the /metrics endpoint.
 */
import { isIP, type AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Status } from '../status/status.ts';
import { listenHttp, type HttpListener } from '../net/http-server.ts';
import { webAsset, WEB_HEADERS } from './web.ts';
import type { RecentPoint } from './recent.ts';
import type { LineStream } from './line-stream.ts';

/** A live stream (GET /nmea), or why there is none (a 404 saying so). */
export type StreamRoute = LineStream | { unavailable: string };

/**
 * The endpoint is for the operator's own tools (stratum1, curl, an NMS poller) on this machine; a web
 * page the operator happens to visit must not reach it through the browser. A request naming another
 * origin (the Origin header, or Sec-Fetch-Site cross-site/same-site) is a page's, and could post an
 * action with a simple text/plain form. A Host that is a DNS name other than localhost means DNS
 * rebinding: a page whose name now points here, reading Status (the antenna's position) as if it
 * were its own. Both are refused; the CLI and curl send neither.
 */
function refusal(req: IncomingMessage): { status: number; why: string } | undefined {
  const host = (req.headers.host ?? '').toLowerCase();
  // The live page's own reads (GET, HEAD) may name their origin: this very host. Browsers send no Origin
  // on a same-origin GET today, but may; a page of another origin never names this one.
  const ownRead = (req.method === 'GET' || req.method === 'HEAD') && host !== '' && req.headers.origin === `http://${host}`;
  if (req.headers.origin !== undefined && !ownRead) return { status: 403, why: 'requests from web pages are refused' };
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none' && site !== 'same-origin') return { status: 403, why: 'requests from web pages are refused' };
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  if (name !== '' && name !== 'localhost' && isIP(name) === 0) return { status: 421, why: `not served under the name ${JSON.stringify(name.slice(0, 64))}: use an address` };
  return undefined;
}

export class ControlServer {
  private server: HttpListener | undefined;
  requests = 0;
  /** Requests refused as coming from a browser page (a cross-origin post, a rebound DNS name). */
  refused = 0;

  /** Actions a local operator may trigger with POST /<name> (sending a test trap, resending the
   * active faults): they change no state. */
  constructor(private readonly status: () => Status, private readonly actions: Record<string, () => unknown> = {},
    private readonly views: Record<string, (query: URLSearchParams) => unknown> = {},
    private readonly recent: () => RecentPoint[] = () => [],
    private readonly streams: Record<string, StreamRoute> = {}) {}

  async listen(address: string, port: number): Promise<AddressInfo> {
    this.server = await listenHttp(address, port, (req, res) => this.handle(req, res));
    return this.server.address;
  }

  /** An action or a route that throws is answered 500 with its message (by listenHttp). */
  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    const refused = refusal(req);
    if (refused) {
      this.refused++;
      res.writeHead(refused.status, { 'content-type': 'text/plain' }).end(`${refused.why}\n`);
      return;
    }
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
    const view = Object.hasOwn(this.views, name) ? this.views[name] : undefined;
    if (view) {
      // A read-only view (GET /clients): its query string is bounded by the URL limit of listenHttp.
      const body = JSON.stringify(view(new URLSearchParams((req.url ?? '').split('?')[1] ?? '')));
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
      return;
    }
    const stream = Object.hasOwn(this.streams, name) ? this.streams[name] : undefined;
    if (stream) {
      this.serveStream(req, res, stream);
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
    } else if (path === '/ui/recent') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(this.recent()));
    } else if (webAsset(path)) {
      const a = webAsset(path)!;
      res.writeHead(200, { ...WEB_HEADERS, 'content-type': a.type }).end(req.method === 'HEAD' ? undefined : a.body);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /status\n');
    }
  }

  /**
   * A live stream, one line each, chunked, until the reader hangs up: refused (503) when the stream has
   * its readers already, and dropped by the stream if it falls behind. HEAD answers without joining.
   */
  private serveStream(req: IncomingMessage, res: ServerResponse, stream: StreamRoute): void {
    if ('unavailable' in stream) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`${stream.unavailable}\n`);
      return;
    }
    const headers = { 'content-type': 'text/plain; charset=iso-8859-1', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    if (req.method === 'HEAD') {
      res.writeHead(200, headers).end();
      return;
    }
    if (!stream.add(res)) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' })
        .end(`${stream.maxReaders} streams are being read already, the most this agent serves at once: try again when one ends\n`);
      return;
    }
    res.on('close', () => stream.remove(res));
    res.on('error', () => stream.remove(res)); // a reader gone mid-write: its close follows; never the agent's crash
    res.writeHead(200, headers);
    res.flushHeaders();
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }
}
