/**
 * The live web page of the control endpoint (GET /, /ui): read-only, a strict Content Security
 * Policy, nothing from outside the box, refused to other origins and rebound DNS names like every
 * control path; and, in headless Chromium (Debian's chromium) against a real agent on the simulator,
 * a page that shows what /status says: the state badge in LOCKED's colour, the satellites drawn in
 * the sky plot in their C/N0 colours, the offset and time error charts drawn, the figures as text, a
 * hostile agent name shown as text and not as markup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { ControlServer } from '../../src/control/http.ts';
import { RecentRing, RECENT_POINTS, type RecentPoint } from '../../src/control/recent.ts';
import { WEB_CSP, webAsset } from '../../src/control/web.ts';
import type { Status } from '../../src/status/status.ts';
import { requirePeers } from '../helpers/env.ts';
import { agentConfig, startAgent } from '../helpers/agent.ts';
import { simConfig, virtualService } from '../helpers/virtual.ts';
import { writeFileSync } from 'node:fs';
import { defaultConfig, parseConfig } from '../../src/config/config.ts';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function ask(port: number, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const fakeStatus = (t: number, offsetNs: number | null) => ({ timeUnixS: t, discipline: { offsetNs, timeErrorEstimateNs: offsetNs === null ? null : 2 * offsetNs } }) as unknown as Status;

test('the recent ring keeps the last ten minutes, oldest first, and never more', () => {
  const ring = new RecentRing();
  assert.equal(RECENT_POINTS, 600);
  for (let t = 0; t < 250; t++) ring.add(fakeStatus(t, t));
  assert.deepEqual(ring.list().map((p) => p.t), Array.from({ length: 250 }, (_, i) => i), 'under capacity: every point, in order');
  for (let t = 250; t < 1601; t++) ring.add(fakeStatus(t, t % 7 === 0 ? null : t));
  const l = ring.list();
  assert.equal(l.length, 600, 'bounded at its capacity');
  assert.deepEqual([l[0]!.t, l.at(-1)!.t], [1001, 1600], 'the newest 600, oldest first');
  assert.ok(l.every((p, i) => i === 0 || p.t === l[i - 1]!.t + 1), 'no point out of order after wrapping');
  assert.deepEqual(l.find((p) => p.t === 1001), { t: 1001, offsetNs: null, timeErrorEstimateNs: null }, 'a second without an offset stays null');
});

test('the page is on loopback unless control.http.address names another address (an IP address, never a name)', () => {
  assert.equal(defaultConfig().control.http.address, '127.0.0.1', 'loopback by default');
  assert.equal(parseConfig('control:\n  http:\n    address: 0.0.0.0\n').control.http.address, '0.0.0.0', 'beyond loopback when configured');
  assert.throws(() => parseConfig('control:\n  http:\n    address: timeserver.lan\n'), /control\.http\.address: expected an IP address/);
});

/** Every http(s):// in the page's files: the SVG namespace name (an identifier, never fetched) is the only one allowed. */
const outsideUrls = (text: string) => [...text.matchAll(/https?:\/\/[^\s'"`)]*/gi)].map((m) => m[0]).filter((u) => u !== 'http://www.w3.org/2000/svg');

test('the live page is served read-only with a strict CSP, loads nothing from outside, and is refused to foreign hosts and pages', async () => {
  const points: RecentPoint[] = [{ t: 1, offsetNs: 5, timeErrorEstimateNs: 10 }];
  const ctl = new ControlServer(() => ({ agent: { name: 'x' } }) as unknown as Status, { 'traps/test': () => ({ sent: [] }) }, {}, () => points);
  const { port } = await ctl.listen('127.0.0.1', 0);
  try {
    for (const path of ['/', '/ui', '/ui/']) {
      const r = await ask(port, path);
      assert.equal(r.status, 200, path);
      assert.match(String(r.headers['content-type']), /^text\/html/, path);
      assert.equal(r.headers['content-security-policy'], WEB_CSP, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.body, webAsset('/')!.body);
    }
    const csp = Object.fromEntries(WEB_CSP.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    assert.deepEqual([csp['default-src'], csp['script-src'], csp['connect-src'], csp['img-src'], csp['style-src']],
      ["'none'", "'self'", "'self'", "'self' data:", "'self'"], 'nothing but this origin');
    const html = (await ask(port, '/')).body;
    const js = await ask(port, '/ui/page.js');
    const css = await ask(port, '/ui/page.css');
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.match(String(css.headers['content-type']), /^text\/css/);
    assert.equal(js.headers['content-security-policy'], WEB_CSP);
    for (const [name, text] of [['html', html], ['js', js.body], ['css', css.body]] as const) {
      assert.deepEqual(outsideUrls(text), [], `${name}: no URL of elsewhere`);
      assert.doesNotMatch(text.replaceAll('http://www.w3.org/2000/svg', ''), /@import|@font-face|\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, `${name}: no import, web font or protocol-relative URL`);
    }
    // Every script and style is a file of ours: no inline code (the CSP would block it anyway).
    assert.deepEqual([...html.matchAll(/<script[^>]*>/g)].map((m) => m[0]), ['<script src="/ui/page.js" defer>']);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
    assert.deepEqual([...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]), ['/ui/page.css', '/ui/page.js']);
    // Values go in as text: the script never builds markup from strings.
    assert.doesNotMatch(js.body, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, 'no markup from strings');
    assert.doesNotMatch(js.body, /method:\s*['"](?!GET)/i, 'the page only reads');
    assert.deepEqual(JSON.parse((await ask(port, '/ui/recent')).body), points);
    const head = await ask(port, '/', 'HEAD');
    assert.deepEqual([head.status, head.body], [200, '']);
    // Nothing but GET and HEAD, on every path of the page.
    for (const [method, path] of [['POST', '/'], ['PUT', '/ui'], ['DELETE', '/ui/page.js'], ['POST', '/ui/recent'], ['PATCH', '/ui/']] as const) {
      const r = await ask(port, path, method, { 'content-type': 'text/plain' });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    // Refused as every control path is: a rebound DNS name, another origin's page.
    const rebound = await ask(port, '/', 'GET', { host: `evil.example:${port}` });
    assert.equal(rebound.status, 421);
    assert.doesNotMatch(rebound.body, /<html/);
    assert.equal((await ask(port, '/ui/page.js', 'GET', { host: 'evil.example' })).status, 421);
    assert.equal((await ask(port, '/ui/recent', 'GET', { origin: 'http://evil.example' })).status, 403);
    assert.equal((await ask(port, '/', 'GET', { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await ask(port, '/', 'GET', { 'sec-fetch-site': 'same-origin', host: `127.0.0.1:${port}` })).status, 200, 'the page\'s own requests');
    // A browser that names its origin on a same-origin read: the page's own origin may read, and only read.
    const own = { origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}` };
    assert.equal((await ask(port, '/ui/recent', 'GET', own)).status, 200, 'a read naming this very origin');
    assert.equal((await ask(port, '/traps/test', 'POST', own)).status, 403, 'no action for any page, its own included');
    assert.equal((await ask(port, '/status', 'GET', { origin: `http://evil.example:${port}`, host: `evil.example:${port}` })).status, 421, 'a rebound name that names itself');
    assert.equal((await ask(port, '/status', 'GET', { origin: `http://127.0.0.1:${port + 1}`, host: `127.0.0.1:${port}` })).status, 403, 'another port is another origin');
    assert.equal((await ask(port, '/ui/nothing')).status, 404);
  } finally {
    await ctl.close();
  }
});

/** Runs chromium in its own process group and kills the whole group afterwards, whatever happens. */
async function chromium(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'));
  const proc = spawn('chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args,
  ], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('close', (c) => resolve(c));
      timer = setTimeout(() => reject(new Error(`chromium did not finish in ${timeoutMs} ms: ${stderr.slice(-2000)}`)), timeoutMs);
    });
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    try {
      process.kill(-proc.pid!, 'SIGKILL'); // the browser and its renderers, if any is left
    } catch {
      // the group is gone already
    }
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page as Chromium draws it (a screenshot, kept in `dir`) and as its DOM stands, each after the
 * page has had a few seconds of virtual time to read /ui/recent and poll /status. */
async function loadPage(url: string, dir: string, name: string): Promise<{ png: string; img: PNG; dom: string }> {
  const png = join(dir, `${name}.png`);
  const shot = await chromium(['--force-device-scale-factor=1', '--hide-scrollbars', '--window-size=1280,1400', '--virtual-time-budget=3000', `--screenshot=${png}`, url]);
  assert.ok(existsSync(png), `no screenshot: ${shot.stderr.slice(-2000)}`);
  const dom = (await chromium(['--virtual-time-budget=3000', '--dump-dom', url])).stdout;
  assert.match(dom, /<\/html>/, 'the DOM dumped');
  return { png, img: PNG.sync.read(readFileSync(png)), dom };
}

function colourCounts(img: PNG): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < img.data.length; i += 4) {
    const c = hex(img.data, i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return counts;
}

const hex = (d: Buffer, i: number) => `#${[d[i]!, d[i + 1]!, d[i + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** The page's C/N0 classes, as its legend states them: >= 40, 30-40, 20-30, < 20 dB-Hz, none. */
function cn0Colour(snr: number | null): string {
  if (snr === null) return '#9a9a9a';
  return snr >= 40 ? '#0b8a7a' : snr >= 30 ? '#86b300' : snr >= 20 ? '#f08c00' : '#d6336c';
}
const CN0_COLOURS = ['#0b8a7a', '#86b300', '#f08c00', '#d6336c', '#9a9a9a'];
const LOCKED = '#2e9d4f';
const OFFSET = '#1f5fbf';
const ERROR = '#d0342c';
const SKY = '#eaf2fb';
const HOLDOVER = '#e5a50a';
const ROW = { critical: '#fde2e2', warning: '#fff4d6' } as Record<string, string>;

test('in headless Chromium the live page shows the running agent: LOCKED badge, satellites in the sky plot, charts drawn, figures as /status says', async (t) => {
  if (!requirePeers(t, 'chromium')) return;
  const js = webAsset('/ui/page.js')!.body;
  for (const c of [...CN0_COLOURS, OFFSET, ERROR, SKY]) assert.ok(js.includes(`'${c}'`), `the page draws with ${c}`);
  assert.ok(webAsset('/ui/page.css')!.body.includes(`.badge.LOCKED{background:${LOCKED}}`), 'the LOCKED badge colour');

  const dir = mkdtempSync(join(tmpdir(), 'web-'));
  const hostile = 'gm <img src=x onerror=alert(1)> & "co"';
  const cfg = join(dir, 'agent.yaml');
  // PPS jitter, so the offset varies and its chart has a line to draw, not a flat zero.
  writeFileSync(cfg, `${agentConfig(dir, ['127.0.0.1'], 0).replace('pps_jitter_ns: 0', 'pps_jitter_ns: 40')}  name: ${JSON.stringify(hostile)}\n`);
  const agent = await startAgent(cfg);
  const shots = mkdtempSync(join(tmpdir(), 'web-shots-'));
  try {
    const base = agent.statusUrl.replace(/\/status$/, '');
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/, 'control on loopback');
    await agent.waitFor((s) => s.discipline.state === 'LOCKED' && s.gnss.satellites.some((x) => x.used && x.elevationDeg !== null), 60_000, 'LOCKED with satellites');
    // Twenty seconds of history in the ring, so each chart has a line to draw.
    const end = Date.now() + 60_000;
    while (((await (await fetch(`${base}/ui/recent`)).json()) as RecentPoint[]).filter((p) => p.offsetNs !== null).length < 20) {
      assert.ok(Date.now() < end, 'the recent ring fills within a minute');
      await new Promise((r) => setTimeout(r, 500));
    }
    const before = await agent.status();
    const { png, img, dom } = await loadPage(`${base}/`, shots, 'live');
    const after = await agent.status();

    // The DOM: the figures of /status, as text.
    const text = (id: string) => new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(dom)?.[1];
    assert.equal(text('state'), 'LOCKED', 'the state badge');
    assert.match(dom, /id="state" class="badge LOCKED"/);
    assert.equal(text('stratum'), String(after.discipline.stratum));
    assert.equal(text('clock-class'), String(after.discipline.ptpClockClass));
    assert.equal(text('synchronized'), 'yes');
    const either = (v: string | undefined, a: number, b: number, what: string) => assert.ok(v === String(a) || v === String(b), `${what}: page ${v}, /status ${a} then ${b}`);
    either(text('sats-used'), before.gnss.satellitesUsed, after.gnss.satellitesUsed, 'satellites used');
    either(text('sats-view'), before.gnss.satellitesInView, after.gnss.satellitesInView, 'satellites in view');
    const placed = (s: Status) => s.gnss.satellites.filter((x) => x.elevationDeg !== null && x.azimuthDeg !== null && x.elevationDeg >= 0).length;
    const sats = [...dom.matchAll(/<g class="sat( used)?" data-prn="(\d+)" data-snr="([\d.]*)" data-fill="(#[0-9a-f]{6})">/g)];
    either(String(sats.length), placed(before), placed(after), 'satellites in the sky plot');
    for (const [, , prn, snr, fill] of sats) assert.equal(fill, cn0Colour(snr === '' ? null : Number(snr)), `satellite ${prn} coloured by its C/N0 ${snr}`);
    // The hostile name is text: escaped in the DOM, no element made of it.
    assert.ok(dom.includes('gm &lt;img src=x onerror=alert(1)&gt; &amp; "co"'), 'the agent name shown as text');
    assert.doesNotMatch(dom, /<img/i, 'no element from the agent name');
    assert.match(dom, /stratum1 report --since 24h --out report\.html/, 'says how to get the report');

    // The picture: what an operator looks at.
    assert.equal(img.width, 1280);
    const counts = colourCounts(img);
    let sky = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity };
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        if (hex(img.data, (y * img.width + x) * 4) === SKY) sky = { x0: Math.min(sky.x0, x), x1: Math.max(sky.x1, x), y0: Math.min(sky.y0, y), y1: Math.max(sky.y1, y) };
      }
    }
    const px = (c: string) => counts.get(c) ?? 0;
    // The badge is at least 150 x 50 pixels of LOCKED green.
    assert.ok(px(LOCKED) >= 5000, `the LOCKED badge: ${px(LOCKED)} px of ${LOCKED}`);
    // The sky disc (280 px across) and the satellites inside it.
    const d = sky.x1 - sky.x0;
    assert.ok(d >= 270 && d <= 290 && Math.abs(sky.y1 - sky.y0 - d) <= 3, `the sky disc found: ${JSON.stringify(sky)}`);
    const cx = (sky.x0 + sky.x1) / 2;
    const cy = (sky.y0 + sky.y1) / 2;
    const inside = new Map<string, number>();
    for (let y = sky.y0; y <= sky.y1; y++) {
      for (let x = sky.x0; x <= sky.x1; x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 > (d / 2 + 12) ** 2) continue;
        const c = hex(img.data, (y * img.width + x) * 4);
        if (CN0_COLOURS.includes(c)) inside.set(c, (inside.get(c) ?? 0) + 1);
      }
    }
    const drawn = [...inside.values()].reduce((a, b) => a + b, 0);
    const used = sats.filter((m) => m[1]).length;
    const seen = `${drawn} px of C/N0 colours in the sky plot (${[...inside].map(([c, n]) => `${c} ${n}`).join(', ')}) for ${used} used of ${sats.length} satellites`;
    // A used satellite is a filled disc of radius 9 (254 px, less its PRN), a ring one of about 100 px.
    assert.ok(used > 0 && drawn >= used * 80, seen);
    // Coloured by class, not all alike (which class each satellite is in, the DOM check above says: the
    // screenshot is another moment, and a C/N0 near a class boundary may cross it in between).
    assert.ok([...inside.values()].filter((n) => n >= 60).length >= 2, `satellites drawn in at least two C/N0 colours: ${seen}`);
    // Each chart's line: at least 100 pixels of its colour (the chart is 146 pixels high and its scale spans the values shown).
    assert.ok(px(OFFSET) >= 100 && px(ERROR) >= 100, `chart lines: offset ${px(OFFSET)} px, time error ${px(ERROR)} px`);
    console.log(`live page screenshot (${png}): LOCKED badge ${px(LOCKED)} px; ${seen}; offset line ${px(OFFSET)} px, time error line ${px(ERROR)} px`);
  } finally {
    await agent.stop();
  }
});

test('in headless Chromium the live page shows holdover: the amber badge, the raised alarms in their rows, the sky empty', async (t) => {
  if (!requirePeers(t, 'chromium')) return;
  assert.ok(webAsset('/ui/page.css')!.body.includes(`.badge.HOLDOVER{background:${HOLDOVER}}`), 'the HOLDOVER badge colour');
  for (const [sev, c] of Object.entries(ROW)) assert.ok(webAsset('/ui/page.css')!.body.includes(`tr.${sev} td{background:${c}}`), `the ${sev} row colour`);
  const dir = mkdtempSync(join(tmpdir(), 'web-holdover-'));
  const cfg = join(dir, 'agent.yaml');
  // The antenna is unplugged 20 s after the start, for an hour: the fix goes, then the PPS, and the clock holds over.
  writeFileSync(cfg, agentConfig(dir, ['127.0.0.1'], 0).replace('  pps_jitter_ns: 0', '  pps_jitter_ns: 0\n  faults:\n    - { at_s: 20, kind: antenna_unplugged, duration_s: 3600 }'));
  const agent = await startAgent(cfg);
  const shots = mkdtempSync(join(tmpdir(), 'web-shots-'));
  try {
    const st = await agent.waitFor((s) => s.discipline.state === 'HOLDOVER' && s.alarms.some((a) => a.name === 'fix_lost' && a.severity !== 'none'), 90_000, 'HOLDOVER with fix_lost raised');
    const { png, img, dom } = await loadPage(agent.statusUrl.replace(/\/status$/, '/'), shots, 'holdover');
    const after = await agent.status();
    assert.match(dom, /id="state" class="badge HOLDOVER">HOLDOVER</, 'the state badge says HOLDOVER');
    const raised = (s: Status) => s.alarms.filter((a) => a.severity !== 'none').map((a) => a.name);
    const table = /<table id="alarms">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
    const rows = [...table.matchAll(/<tr class="(critical|warning)"><td>[A-Z]+<\/td><td>([a-z_]+)<\/td>/g)].map((m) => ({ severity: m[1]!, name: m[2]! }));
    for (const name of raised(st).filter((n) => raised(after).includes(n))) assert.ok(rows.some((r) => r.name === name), `alarm ${name} has its row: ${JSON.stringify(rows)}`);
    for (const r of rows) assert.ok(raised(st).includes(r.name) || raised(after).includes(r.name), `row ${r.name} is an alarm /status has raised`);
    assert.match(dom, new RegExp(`id="alarm-count" class="count">${rows.length} active<`));
    assert.match(table, /<td>fix_lost<\/td><td>now no<\/td>/, 'a yes/no alarm in words');
    assert.doesNotMatch(table, / vs /, 'never "value 0 vs 0.5"');
    assert.doesNotMatch(dom, /<g class="sat/, 'no satellite in the sky plot without a fix');
    const counts = colourCounts(img);
    const px = (c: string) => counts.get(c) ?? 0;
    assert.ok(px(HOLDOVER) >= 5000, `the HOLDOVER badge: ${px(HOLDOVER)} px of ${HOLDOVER}`);
    assert.equal(px(LOCKED), 0, 'no LOCKED green left');
    // A table row is at least 400 pixels wide and 15 high.
    for (const sev of new Set(rows.map((r) => r.severity))) assert.ok(px(ROW[sev]!) >= 6000, `${sev} alarm rows drawn: ${px(ROW[sev]!)} px of ${ROW[sev]}`);
    const cn0 = CN0_COLOURS.reduce((a, c) => a + px(c), 0);
    console.log(`holdover screenshot (${png}): HOLDOVER badge ${px(HOLDOVER)} px; alarm rows ${rows.map((r) => `${r.name} ${r.severity}`).join(', ')}: critical ${px(ROW.critical!)} px, warning ${px(ROW.warning!)} px; C/N0 colours ${cn0} px (the legend's)`);
  } finally {
    await agent.stop();
  }
});

test('in headless Chromium, markup in any string of Status (a chronyd source, the receiver, an event, an alarm, a satellite) is shown as text, and the partners are drawn', async (t) => {
  if (!requirePeers(t, 'chromium')) return;
  const { clock, svc } = virtualService(simConfig((c) => {
    c.agent.name = 'hostile-test';
    c.discipline.leap_seconds_file = '';
  }));
  await svc.start();
  clock.advance(60_000);
  const st = JSON.parse(JSON.stringify(svc.status())) as Status;
  await svc.stop();
  const evil = (where: string) => `<img src=x onerror="document.title='pwned ${where}'"><script>document.title='pwned'</script>`;
  const chrony = st.partners.chrony;
  Object.assign(chrony, { enabled: true, reachable: true, reference: evil('reference'), stratum: 2, systemOffsetNs: 1234, notice: evil('notice') });
  const source = (name: string, state: ' ' | '*' | '+') => ({
    name, address: null, mode: 'server' as const, state, stratum: 2, pollLog2: 6, reach: '377', lastRxAgeS: 12, offsetNs: -3000, measuredOffsetNs: -3000, errorNs: 500, stats: null,
  });
  chrony.sources = [source(evil('source'), '*'), source('192.0.2.1', '+'), source('ntp.example', ' ')];
  st.receiver.device = evil('device');
  st.events.recent.push({ type: 'receiverConnected', at: st.time, device: evil('event') });
  st.alarms[0] = { ...st.alarms[0]!, severity: 'critical', value: 1, threshold: 0.5, raisedAt: st.time, raisedAgeS: 3, description: evil('alarm') };
  assert.ok(st.gnss.satellites.length > 0, 'satellites in the simulated sky');
  st.gnss.satellites[0]!.constellation = evil('satellite');
  const ctl = new ControlServer(() => st, {}, {}, () => []);
  const { port } = await ctl.listen('127.0.0.1', 0);
  try {
    const { dom } = await loadPage(`http://127.0.0.1:${port}/`, mkdtempSync(join(tmpdir(), 'web-shots-')), 'hostile');
    assert.equal([...dom.matchAll(/<script/g)].length, 1, 'only the page\'s own script element');
    assert.doesNotMatch(dom, /<img|<[a-z]+[^>]*\sonerror=/i, 'no element or handler from a string');
    assert.match(dom, new RegExp(`<title>hostile-test: ${st.discipline.state}</title>`), 'the title is the page\'s own, not pwned');
    for (const where of ['reference', 'notice', 'source', 'device', 'event', 'alarm']) {
      // (the event's details are JSON, its quotes escaped)
      assert.match(dom, new RegExp(`&lt;img src=x onerror=\\\\?"document\\.title='pwned ${where}'\\\\?"&gt;&lt;script&gt;`), `the ${where} string shown as text`);
    }
    assert.ok(dom.includes(`pwned satellite'"&gt;&lt;script&gt;`), 'the satellite string as text in its tooltip');
    // The partner block: chronyd's figures and one row per source, in chronyc's order.
    const partners = /<div id="partners">([\s\S]*?)<\/div>/.exec(dom)?.[1] ?? '';
    assert.match(partners, /<h3>chrony<\/h3>/);
    assert.match(partners, /<td>system offset<\/td><td>1\.23 µs<\/td>/);
    const rows = [...partners.matchAll(/<tr><td>([*+ ])<\/td><td>([^<]*)<\/td><td>server<\/td>/g)].map((m) => `${m[1]}${m[2]}`);
    assert.deepEqual(rows.map((r) => r[0]), ['*', '+', ' '], 'a row per source with its state mark');
    assert.deepEqual(rows.slice(1).map((r) => r.slice(1)), ['192.0.2.1', 'ntp.example']);
  } finally {
    await ctl.close();
  }
});
