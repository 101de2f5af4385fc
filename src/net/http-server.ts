/**
 * The one way the agent's small HTTP endpoints listen (the control endpoint, Prometheus's /metrics).
 * They answer in microseconds and must never hold up the event loop or its resources, so a slow or
 * oversized request is cut short (timeouts, a header count limit), a handler that throws costs one
 * 500 answer and not the process, an error on the listening socket after it is up (out of file
 * descriptors at accept) does not go unhandled and kill the time service with it, and close() ends
 * every connection, keep-alive ones included, instead of waiting for clients to hang up.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpListener {
  readonly address: AddressInfo;
  /** Stops listening and ends every open connection; resolves once the server is closed. */
  close(): Promise<void>;
}

/** The limits every endpoint gets: a whole request within 5 s, headers within 5 s, at most 50 of them. */
export const HTTP_LIMITS = { requestTimeoutMs: 5000, headersTimeoutMs: 5000, maxHeadersCount: 50 } as const;

/**
 * Listens on address:port and calls `handler` for each request. Rejects if it cannot listen (the
 * address in use, not available), leaving nothing open. `onError` hears of errors on the listening
 * socket once it is up; the server goes on listening.
 */
export function listenHttp(address: string, port: number, handler: HttpHandler, onError: (e: Error) => void = () => {}): Promise<HttpListener> {
  const srv = createServer((req, res) => {
    try {
      handler(req, res);
    } catch (e) {
      // Half an answer cannot be mended: the client sees the connection end instead.
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e instanceof Error ? e.message : String(e)}\n`);
    }
  });
  srv.requestTimeout = HTTP_LIMITS.requestTimeoutMs;
  srv.headersTimeout = HTTP_LIMITS.headersTimeoutMs;
  srv.maxHeadersCount = HTTP_LIMITS.maxHeadersCount;
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, address, () => {
      srv.off('error', reject);
      srv.on('error', onError);
      resolve({
        address: srv.address() as AddressInfo,
        close: () => new Promise<void>((done) => {
          srv.close(() => done());
          srv.closeAllConnections();
        }),
      });
    });
  });
}
