/**
 * `stratum1 nmea` and GET /nmea, the raw NMEA stream: against the real agent on the simulator, the
 * lines are whole NMEA sentences with good checksums, as the simulator makes them (its sentences in
 * its order, its satellites, RMC's time one second on each second and the host's UTC); --count and
 * --seconds end it with exit 0; the ninth stream is refused with a sentence; a stalled reader holds
 * no more than the limit in the agent's memory while others go on. In process, with real sockets: a
 * reader that stops reading is dropped once it owes 16 KB, and the one reading beside it misses
 * nothing. From a serial port (a socat pty): each sentence exactly as written, a bad checksum too, junk
 * outside sentences left out. With gpsd as the source the stream says why there is none. Bad options:
 * exit 2, a sentence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, agentConfig, startAgent } from '../helpers/agent.ts';
import { ROOT, requirePeers } from '../helpers/env.ts';
import { ptyPair } from '../helpers/socat.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { ControlServer } from '../../src/control/http.ts';
import { LineStream, LINE_STREAM_BUFFER } from '../../src/control/line-stream.ts';
import { GpsSimulator } from '../../src/sim/gps-simulator.ts';
import { LineFramer } from '../../src/gnss/framer.ts';
import { SimClock, NS_PER_S } from '../../src/time/index.ts';
import { defaultConfig } from '../../src/config/config.ts';
import type { Status } from '../../src/status/status.ts';
import { main } from '../../src/cli/main.ts';

interface Ran { status: number | null; stdout: string; stderr: string; ms: number }

/** The CLI as a separate process (asynchronously: the test's own sockets stay served meanwhile). */
function cli(args: string[], timeoutMs = 30_000): Promise<Ran> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The NMEA checksum: the XOR of every character between '$' and '*'. */
function checksumOk(line: string): boolean {
  const m = /^\$([^*$]+)\*([0-9A-F]{2})$/.exec(line);
  if (!m) return false;
  let x = 0;
  for (const c of m[1]!) x ^= c.charCodeAt(0);
  return x === parseInt(m[2]!, 16);
}

const idOf = (line: string) => line.slice(1, line.indexOf(','));

/** Sentences grouped by the second they label: a group starts at each RMC. */
function seconds(lines: string[]): string[][] {
  const out: string[][] = [];
  for (const l of lines) {
    if (idOf(l) === 'GPRMC' || out.length === 0) out.push([]);
    out.at(-1)!.push(l);
  }
  return out;
}

/** RMC's hhmmss and ddmmyy as Unix seconds. */
function rmcTime(line: string): number {
  const f = line.split(',');
  const [t, d] = [f[1]!, f[9]!];
  return Date.UTC(2000 + Number(d.slice(4, 6)), Number(d.slice(2, 4)) - 1, Number(d.slice(0, 2)), Number(t.slice(0, 2)), Number(t.slice(2, 4)), Number(t.slice(4, 6))) / 1000;
}

/** What the built-in simulator makes with the agent's settings (the configuration's defaults: seed,
 * satellites, position), run in virtual time from now for `s` seconds. */
function referenceLines(s: number): string[] {
  const sc = defaultConfig().simulator;
  const start = BigInt(Date.now()) * 1_000_000n;
  const clock = new SimClock(start);
  const framer = new LineFramer();
  const lines: string[] = [];
  const sim = new GpsSimulator(clock, { localAt: (t) => t }, {
    seed: sc.seed, ppsJitterNs: 0, nmeaDelayMs: sc.nmea_delay_ms, nmeaJitterMs: sc.nmea_jitter_ms,
    satellites: sc.satellites, latitude: sc.latitude, longitude: sc.longitude, altitudeM: sc.altitude_m, baud: 9600, faults: [],
  }, { bytes: (chunk) => lines.push(...framer.push(chunk)), edge: () => {} });
  sim.start();
  clock.runUntil(start + BigInt(s) * NS_PER_S);
  sim.stop();
  return lines;
}

/** A GET /nmea held open by this process; `paused` reads nothing after the headers. */
function openStream(port: number, paused: boolean): Promise<{ res: IncomingMessage; data: () => string; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/nmea' }, (res) => {
      let data = '';
      if (paused) res.pause();
      else res.setEncoding('latin1').on('data', (d: string) => (data += d));
      res.on('error', () => {});
      resolve({ res, data: () => data, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function streamStats(base: string): Promise<{ readers: number; refused: number; dropped: number; served: number; maxBufferedBytes: number; bufferLimitBytes: number }> {
  const r = await fetch(`${base}/nmea/streams`);
  assert.equal(r.status, 200, 'GET /nmea/streams answers');
  return (await r.json()) as never;
}

const oneSentence = (r: Ran, what: string) => {
  assert.match(r.stderr, /^stratum1: [^\n]+\n$/, `${what}: one line on stderr, "stratum1: ...": ${JSON.stringify(r.stderr)}`);
  assert.doesNotMatch(r.stderr, /^ {4}at /m, `${what}: no stack trace`);
};

test('stratum1 nmea on the simulator: whole sentences as the simulator makes them, the stream limit, a stalled reader bounded, bad options exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's1-nmea-'));
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], 0));
  const agent = await startAgent(cfg);
  const held: Awaited<ReturnType<typeof openStream>>[] = [];
  try {
    const base = agent.statusUrl.replace(/\/status$/, '');
    await agent.waitFor((s: Status) => s.gnss.fix, 20_000, 'a fix');

    // --count: exactly that many lines, each a sentence with a good checksum and NMEA's CR LF.
    const r = await cli(['nmea', '--url', base, '--count', '24']);
    assert.equal(r.status, 0, `nmea --count 24 exits 0: ${r.stderr}`);
    assert.equal(r.stderr, '', 'nothing on stderr');
    assert.ok(r.stdout.endsWith('\r\n'), 'ends with a whole line');
    const lines = r.stdout.split('\r\n').slice(0, -1);
    assert.equal(lines.length, 24, `24 lines: ${JSON.stringify(r.stdout.slice(0, 300))}`);
    for (const l of lines) assert.ok(checksumOk(l), `a sentence with a good checksum: ${JSON.stringify(l)}`);

    // As the simulator makes them: each second's sentences in the simulator's order, its satellites
    // in view, its position; RMC's time one second on each second, and the host's UTC (the
    // simulator labels true time, the host's clock).
    const ref = referenceLines(20);
    const refPatterns = new Set(seconds(ref).slice(1, -1).map((g) => g.map(idOf).join(' ')));
    const got = seconds(lines).slice(1, -1); // whole seconds only
    assert.ok(got.length >= 2, `at least two whole seconds in 24 lines: ${lines.map(idOf).join(' ')}`);
    for (const g of got) {
      const p = g.map(idOf).join(' ');
      assert.ok(refPatterns.has(p), `the second "${p}" is one the simulator makes: ${[...refPatterns].join(' | ')}`);
    }
    const rmc = lines.filter((l) => idOf(l) === 'GPRMC');
    assert.ok(rmc.length >= 3, `RMCs: ${rmc.length}`);
    const times = rmc.map(rmcTime);
    for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 1, `RMC times one second apart: ${rmc.join(' ')}`);
    assert.ok(Math.abs(times.at(-1)! - Date.now() / 1000) < 5, `RMC labels the host's UTC: ${rmc.at(-1)}`);
    assert.ok(rmc.every((l) => l.split(',')[2] === 'A'), 'RMC says valid with a fix');
    const gga = lines.find((l) => idOf(l) === 'GPGGA')!.split(',');
    const lat = Number(gga[2]!.slice(0, 2)) + Number(gga[2]!.slice(2)) / 60;
    assert.ok(Math.abs(lat - defaultConfig().simulator.latitude) < 0.001, `GGA's latitude is the simulator's: ${gga.join(',')}`);
    const prnsOf = (ls: string[]) => new Set(ls.filter((l) => idOf(l) === 'GPGSA').flatMap((l) => l.split(',').slice(3, 15).filter(Boolean)));
    assert.deepEqual([...prnsOf(lines)].sort(), [...prnsOf(ref.slice(-40))].sort(), 'the satellites used are the simulator\'s (same seed)');

    // --seconds: ends after that time, with whole lines, exit 0.
    const s = await cli(['nmea', '--url', base, '--seconds', '2.5']);
    assert.equal(s.status, 0, `--seconds 2.5 exits 0: ${s.stderr}`);
    const sl = s.stdout.split('\r\n');
    assert.equal(sl.at(-1), '', 'whole lines only');
    assert.ok(sl.length - 1 >= 5 && sl.length - 1 <= 30, `about 2.5 s of sentences (5 to 8 a second here): ${sl.length - 1}`);
    assert.ok(s.ms >= 2500 && s.ms < 15_000, `it lasted --seconds (and the start of node): ${s.ms} ms`);

    // The limit: eight readers at once; the ninth is refused with a sentence, exit 2; when one
    // leaves, a reader is taken again. One of the eight reads nothing (stalled): the agent owes it
    // what the kernel cannot hold, never more than the limit, and the others go on.
    held.push(await openStream(Number(new URL(base).port), true));
    for (let i = 0; i < 7; i++) held.push(await openStream(Number(new URL(base).port), false));
    let st = await streamStats(base);
    assert.equal(st.readers, 8, `eight readers: ${JSON.stringify(st)}`);
    const ninth = await cli(['nmea', '--url', base, '--count', '1']);
    assert.equal(ninth.status, 2, `the ninth stream is refused, exit 2: ${ninth.stderr}`);
    oneSentence(ninth, 'the ninth stream');
    assert.match(ninth.stderr, /refused the NMEA stream \(HTTP 503\): 8 streams are being read already, the most this agent serves at once/, 'says why');
    st = await streamStats(base);
    assert.ok(st.refused >= 1 && st.readers === 8, `refused counted, the eight still read: ${JSON.stringify(st)}`);
    const before = held[1]!.data().length;
    await new Promise((res) => setTimeout(res, 2500));
    assert.ok(held[1]!.data().length > before, 'a reader beside the stalled one goes on receiving');
    held.pop()!.close();
    for (let i = 0; i < 40 && (await streamStats(base)).readers !== 7; i++) await new Promise((res) => setTimeout(res, 50));
    const again = await cli(['nmea', '--url', base, '--count', '2']);
    assert.equal(again.status, 0, `a reader is taken once one left: ${again.stderr}`);
    st = await streamStats(base);
    assert.ok(st.maxBufferedBytes <= st.bufferLimitBytes + 200, `what one reader may owe is bounded: ${JSON.stringify(st)}`);
    for (const h of held.splice(0)) h.close();

    // Bad options and no agent: a sentence, exit 2. The first and the last as processes; the others
    // through main(), all a process adds to them (a stack trace there is main() throwing here).
    const free = await freeTcpPort();
    const direct = async (argv: string[]): Promise<Ran> => {
      let stdout = '';
      let stderr = '';
      const status = await main(argv, { out: (x) => (stdout += x), err: (x) => (stderr += x) });
      return { status, stdout, stderr, ms: 0 };
    };
    const bads = [
      [['--count', '0'], /--count takes a whole number of sentences/], [['--count', 'x'], /--count takes/], [['--count', '1.5'], /--count takes/],
      [['--seconds', '0'], /--seconds takes a number of seconds above 0/], [['--seconds', '-1'], /--seconds/], [['--seconds', 'soon'], /--seconds takes/],
      [['--bogus'], /Unknown option '--bogus'/], [['extra'], /unexpected argument|Unexpected argument/],
      [['--url', 'localhost:7323'], /--url localhost:7323: (not a URL|the control endpoint speaks http)/],
      [['--url', `http://127.0.0.1:${free}`, '--count', '1'], new RegExp(`no agent answered at http://127\\.0\\.0\\.1:${free}`)],
    ] as const;
    for (const [k, [args, why]] of bads.entries()) {
      const argv = ['nmea', ...(args[0] === '--url' ? [] : ['--url', base]), ...args];
      const b = k === 0 || k === bads.length - 1 ? await cli(argv) : await direct(argv);
      assert.equal(b.status, 2, `nmea ${args.join(' ')}: exit 2 (${b.stderr})`);
      oneSentence(b, `nmea ${args.join(' ')}`);
      assert.match(b.stderr, why, `nmea ${args.join(' ')} says why`);
    }
    // The path takes the control endpoint's base, or /nmea itself.
    const viaPath = await cli(['nmea', '--url', `${base}/nmea`, '--count', '1']);
    assert.equal(viaPath.status, 0, `--url .../nmea is the same endpoint: ${viaPath.stderr}`);
    assert.ok(checksumOk(viaPath.stdout.replace(/\r\n$/, '')), `one sentence: ${JSON.stringify(viaPath.stdout)}`);
    // HEAD answers without joining the readers.
    const head = await fetch(`${base}/nmea`, { method: 'HEAD' });
    assert.equal(head.status, 200, 'HEAD /nmea');
    assert.equal((await streamStats(base)).readers, 0, 'nobody left reading (HEAD did not join)');
  } finally {
    for (const h of held) h.close();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reader that stops reading is dropped once it owes over 16 KB; the reader beside it gets every line, in order; a web page or a rebound name is refused', async () => {
  const stream = new LineStream();
  const ctl = new ControlServer(() => ({}) as Status, {}, {}, () => [], { nmea: stream });
  const { port } = await ctl.listen('127.0.0.1', 0);
  try {
    const slow = await openStream(port, true);
    const fast = await openStream(port, false);
    let slowClosed = false;
    slow.res.on('close', () => (slowClosed = true));
    assert.equal(stream.stats().readers, 2, 'two readers');
    // Lines as fast as the reading one takes them, until the stalled one has been dropped (the
    // kernel's socket buffers take the first few hundred KB it does not read).
    const line = (n: number) => `$GPTXT,01,01,02,line ${String(n).padStart(8, '0')} of the raw stream test, padded to a receiver's length*00`;
    let sent = 0;
    const BATCH = 100;
    while (stream.stats().dropped === 0 && sent < 400_000) {
      for (let k = 0; k < BATCH; k++) stream.publish(line(sent++));
      const want = sent * (line(0).length + 2);
      for (let i = 0; i < 200 && fast.data().length < want; i++) await new Promise((r) => setImmediate(r));
    }
    const st = stream.stats();
    assert.equal(st.dropped, 1, `the stalled reader was dropped (after ${sent} lines): ${JSON.stringify(st)}`);
    assert.equal(st.readers, 1, 'one reader left');
    assert.ok(st.maxBufferedBytes <= LINE_STREAM_BUFFER + BATCH * (line(0).length + 2),
      `never more than the limit and one turn's lines waited in memory: ${st.maxBufferedBytes}`);
    // Reading again, it finds what the kernel held for it, then the end: its connection was closed.
    let slowBytes = 0;
    slow.res.on('data', (d: Buffer) => (slowBytes += d.length)).resume();
    for (let i = 0; i < 250 && !slowClosed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(slowClosed, 'the stalled reader\'s connection was closed');
    assert.ok(slowBytes < sent * (line(0).length + 2), `it missed the lines after it was dropped: ${slowBytes} bytes`);
    // The reading one: every line, in order, nothing lost for the other's sake.
    for (let k = 0; k < 10; k++) stream.publish(line(sent++));
    const want = sent * (line(0).length + 2);
    for (let i = 0; i < 500 && fast.data().length < want; i++) await new Promise((r) => setTimeout(r, 10));
    const got = fast.data().split('\r\n').slice(0, -1);
    assert.equal(got.length, sent, `every line reached the reader that reads: ${got.length} of ${sent}`);
    assert.ok(got.every((l, i) => l === line(i)), 'in order, as published');
    fast.close();
    // The control endpoint's rules hold for the stream: a web page's request and a rebound DNS name
    // are refused before anyone joins.
    for (const [headers, code] of [[{ origin: 'http://evil.example' }, 403], [{ host: 'evil.example' }, 421]] as const) {
      const r = await new Promise<number>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/nmea', headers }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        }).on('error', reject).end();
      });
      assert.equal(r, code, `GET /nmea with ${JSON.stringify(headers)}: ${code}`);
    }
    assert.equal(stream.stats().served, 2, 'the refused requests never joined');
  } finally {
    await ctl.close();
  }
  for (let i = 0; i < 50 && stream.stats().readers > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(stream.stats().readers, 0, 'the readers are gone once their connections closed');
});

test('with gpsd as the receiver there is no raw stream: GET /nmea says why (404), stratum1 nmea exit 2 with that sentence', async () => {
  const dir = mkdtempSync(join(tmpdir(), 's1-nmea-gpsd-'));
  const cfg = join(dir, 'c.yaml');
  const nobody = await freeTcpPort(); // no gpsd there: the agent runs on, reconnecting
  writeFileSync(cfg, ['receiver:', '  source: gpsd', '  gpsd:', '    host: 127.0.0.1', `    port: ${nobody}`, 'pps:', '  source: none',
    'control:', '  http:', '    address: 127.0.0.1', '    port: 0', 'prometheus:', '  port: 0', 'ntp:', '  enabled: false',
    'discipline:', '  leap_seconds_file: ""', 'agent:', `  state_dir: ${JSON.stringify(dir)}`, ''].join('\n'));
  const proc = spawn(process.execPath, [BIN, 'run', '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d.slice(0, 2000)));
  try {
    const deadline = Date.now() + 20_000;
    while (!/control-http tcp \S+:\d+/.test(out) && proc.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const m = /control-http tcp (\S+):(\d+)/.exec(out);
    assert.ok(m, `the agent on gpsd started: ${out}`);
    const base = `http://${m[1]}:${m[2]}`;
    const res = await fetch(`${base}/nmea`);
    assert.equal(res.status, 404, 'no stream here');
    assert.match(await res.text(), /^the receiver is read through gpsd, .*\(gpspipe -r\)\n$/, 'a sentence saying why');
    const r = await cli(['nmea', '--url', base, '--count', '1']);
    assert.equal(r.status, 2, `exit 2: ${r.stderr}`);
    oneSentence(r, 'nmea with gpsd');
    assert.match(r.stderr, /HTTP 404\): the receiver is read through gpsd/, 'the agent\'s reason, passed on');
    assert.equal((await fetch(`${base}/health`)).status, 200, 'the agent runs on');
  } finally {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A sentence with its checksum. */
function nmea(body: string): string {
  let x = 0;
  for (const c of body) x ^= c.charCodeAt(0);
  return `$${body}*${x.toString(16).toUpperCase().padStart(2, '0')}`;
}

test('from a serial port (a socat pty): each sentence as the receiver sent it, a bad checksum too, junk around sentences left out, CR LF', async (t) => {
  if (!requirePeers(t, 'socat')) return;
  const dir = mkdtempSync(join(tmpdir(), 's1-nmea-serial-'));
  const pair = await ptyPair(dir);
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, ['receiver:', '  source: serial', '  serial:', `    device: ${JSON.stringify(pair.device)}`, '    configure_mtk: false',
    'pps:', '  source: none', 'control:', '  http:', '    address: 127.0.0.1', '    port: 0', 'prometheus:', '  port: 0', 'ntp:', '  enabled: false',
    'discipline:', '  leap_seconds_file: ""', 'agent:', `  state_dir: ${JSON.stringify(dir)}`, ''].join('\n'));
  const proc = spawn(process.execPath, [BIN, 'run', '--config', cfg], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (out += d.slice(0, 2000)));
  const feed = openSync(pair.feed, 'w');
  const ac = new AbortController();
  try {
    const deadline = Date.now() + 20_000;
    while (!/control-http tcp \S+:\d+/.test(out) && proc.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const m = /control-http tcp (\S+):(\d+)/.exec(out);
    assert.ok(m, `the agent on the serial port started: ${out}`);
    const base = `http://${m[1]}:${m[2]}`;
    const res = await fetch(`${base}/nmea`, { signal: ac.signal });
    assert.equal(res.status, 200, 'the stream');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/, 'text/plain');
    let got = '';
    void (async () => {
      try {
        for await (const c of res.body!) got += Buffer.from(c).toString('latin1');
      } catch { /* aborted at the end */ }
    })();
    for (let i = 0; i < 100 && (await streamStats(base)).readers !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    const rmc = nmea('GPRMC,123456.00,A,4404.1265,N,12118.8557,W,0.02,0.00,021226,,,A');
    const gga = nmea('GPGGA,123456.00,4404.1265,N,12118.8557,W,1,10,1.35,1123.3,M,-19.6,M,,');
    const badGsa = `${nmea('GPGSA,A,3,13,23,06,32,05,20,17,29,07,18,,,1.88,1.35,1.48').slice(0, -2)}00`;
    const zda = nmea('GPZDA,123457.00,02,12,2026,,');
    const rmc2 = nmea('GPRMC,123457.00,A,4404.1266,N,12118.8556,W,0.02,0.00,021226,,,A');
    assert.ok(!checksumOk(badGsa), 'the GSA is sent with a wrong checksum');
    const write = (s: string) => writeSync(feed, Buffer.from(s, 'latin1'));
    write(`${rmc}\r\nxx${gga}\r\n${badGsa}\r\nhello, no sentence here\r\n${zda}\n`);
    write(rmc2.slice(0, 20));
    await new Promise((r) => setTimeout(r, 300)); // a sentence split across two reads of the port
    write(`${rmc2.slice(20)}\r\n`);
    const want = [rmc, gga, badGsa, zda, rmc2].map((l) => `${l}\r\n`).join('');
    for (let i = 0; i < 150 && got.length < want.length; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got, want, 'each sentence as sent (the bad checksum too), junk outside sentences left out, each ended CR LF');
    const st = (await fetch(`${base}/status`).then((r) => r.json())) as Status;
    assert.equal(st.receiver.rejected['bad-checksum'], 1, `the agent itself refused the bad GSA: ${JSON.stringify(st.receiver.rejected)}`);
  } finally {
    ac.abort();
    closeSync(feed);
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    await pair.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
