import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { ControlServer } from '../../src/control/http.ts';
import { MetricsServer } from '../../src/export/metrics-http.ts';
import { listenHttp } from '../../src/net/http-server.ts';
import type { Status } from '../../src/status/status.ts';

interface Answer {
  status: number;
  type: string | undefined;
  body: string;
}

function get(port: number, path: string, method = 'GET', agent?: Agent, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw connection that has sent half a request: busy, not idle, so server.close() alone would wait
 * for the request timeout. */
function halfRequest(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      resolve(s);
    });
    s.on('error', reject);
  });
}

const closed = (s: Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

test('both endpoints close at once with a keep-alive connection and a half-sent request open', { timeout: 20_000 }, async () => {
  const control = new ControlServer(() => ({ ok: true }) as unknown as Status);
  const metrics = new MetricsServer(() => 'up 1\n');
  const servers = [
    { name: 'control', server: control, port: (await control.listen('127.0.0.1', 0)).port, path: '/health' },
    { name: 'metrics', server: metrics, port: (await metrics.listen('127.0.0.1', 0)).port, path: '/metrics' },
  ];
  for (const { name, server, port, path } of servers) {
    const agent = new Agent({ keepAlive: true });
    assert.equal((await get(port, path, 'GET', agent)).status, 200, name);
    const idle = Object.values(agent.freeSockets).flat()[0]!;
    assert.ok(idle && !idle.destroyed, `${name}: the keep-alive connection stays open`);
    const busy = await halfRequest(port);
    const ms = await timed(() => server.close());
    assert.ok(ms < 1000, `${name}: closed in ${ms.toFixed(0)} ms`);
    await Promise.all([closed(idle), closed(busy)]);
    agent.destroy();
    await server.close(); // a second close is harmless
  }
});

test('a handler that throws is a 500 on both endpoints, and the next request is answered', async () => {
  let fail = true;
  const control = new ControlServer(() => {
    if (fail) throw new Error('no status');
    return { ok: true } as unknown as Status;
  }, { boom: () => { throw new Error('boom'); }, fine: () => ({ sent: 1 }) });
  const metrics = new MetricsServer(() => {
    if (fail) throw new Error('exposition failed');
    return 'up 1\n';
  });
  const c = (await control.listen('127.0.0.1', 0)).port;
  const m = (await metrics.listen('127.0.0.1', 0)).port;
  try {
    assert.deepEqual(await get(c, '/status'), { status: 500, type: 'text/plain', body: 'status failed: no status\n' });
    assert.deepEqual(await get(c, '/boom', 'POST'), { status: 500, type: 'text/plain', body: 'boom\n' });
    assert.deepEqual(await get(m, '/metrics'), { status: 500, type: 'text/plain', body: 'exposition failed\n' });
    fail = false;
    assert.deepEqual(await get(c, '/status'), { status: 200, type: 'application/json', body: '{"ok":true}' });
    assert.deepEqual(await get(c, '/fine', 'POST'), { status: 200, type: 'application/json', body: '{"sent":1}' });
    assert.deepEqual(await get(m, '/metrics'), { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: 'up 1\n' });
    // The rest of the behaviour, unchanged.
    assert.deepEqual(await get(c, '/health'), { status: 200, type: 'text/plain', body: 'ok\n' });
    assert.deepEqual(await get(c, '/nothing'), { status: 404, type: 'text/plain', body: 'not found: try /status\n' });
    assert.equal((await get(c, '/status', 'DELETE')).status, 405);
    assert.deepEqual(await get(m, '/status'), { status: 404, type: 'text/plain', body: 'only /metrics here\n' });
    assert.equal((await get(m, '/metrics', 'POST')).status, 405);
    assert.deepEqual(await get(m, '/metrics', 'HEAD'), { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: '' });
    assert.equal(control.requests, 7);
    assert.equal(metrics.scrapes, 3, 'the failed scrape, the good one and the HEAD');
  } finally {
    await control.close();
    await metrics.close();
  }
});

test('listenHttp: a throw after the headers went ends the connection; a port in use is refused', async () => {
  const a = await listenHttp('127.0.0.1', 0, (req, res) => {
    if (req.url === '/half') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      throw new Error('too late for a 500');
    }
    if (req.url === '/odd') throw 'not an Error';
    res.end('fine\n');
  });
  try {
    await assert.rejects(get(a.address.port, '/half'), /socket hang up|aborted|ECONNRESET/);
    assert.deepEqual(await get(a.address.port, '/odd'), { status: 500, type: 'text/plain', body: 'not an Error\n' });
    await assert.rejects(listenHttp('127.0.0.1', a.address.port, () => {}), /EADDRINUSE/);
    assert.equal((await get(a.address.port, '/')).body, 'fine\n', 'the first server is unaffected');
  } finally {
    await a.close();
  }
});

test('the control endpoint refuses web pages: a cross-origin post, a rebound DNS name', async () => {
  // Found under attack: POST /traps/test accepted cross-origin text/plain posts, and with no Host check
  // a page could read Status (the antenna's position) by DNS rebinding.
  let calls = 0;
  const ctl = new ControlServer(() => ({ agent: { name: 'x' } }) as unknown as Status, { 'traps/test': () => { calls++; return { sent: [] }; } });
  const { port } = await ctl.listen('127.0.0.1', 0);
  try {
    assert.equal((await get(port, '/traps/test', 'POST')).status, 200, 'the CLI\'s post');
    assert.equal(calls, 1);
    const page = await get(port, '/traps/test', 'POST', undefined, { origin: 'http://evil.example', 'content-type': 'text/plain' });
    assert.equal(page.status, 403);
    assert.equal((await get(port, '/traps/test', 'POST', undefined, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal(calls, 1, 'no action ran for a page');
    const rebound = await get(port, '/status', 'GET', undefined, { host: `evil.example:${port}` });
    assert.equal(rebound.status, 421);
    assert.doesNotMatch(rebound.body, /"agent"/);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      assert.equal((await get(port, '/status', 'GET', undefined, { host })).status, 200, host);
    }
    assert.equal(ctl.refused, 3);
    // Object.prototype's names are no actions, and no 500 with internal text.
    assert.equal((await get(port, '/constructor', 'POST')).status, 405);
    const proto = await get(port, '/__proto__', 'POST');
    assert.equal(proto.status, 405);
    assert.equal((await get(port, '/__proto__')).status, 404);
  } finally {
    await ctl.close();
  }
});
