/**
 * sd_notify for the unit's Type=notify and WatchdogSec, without systemd: the test listens on an
 * AF_UNIX datagram socket (python3, as systemd's notify socket would) and runs the real agent with
 * NOTIFY_SOCKET and WATCHDOG_USEC pointing there. READY=1 comes once it listens, WATCHDOG=1 at half
 * the watchdog period, STOPPING=1 at SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, requirePeers } from '../helpers/env.ts';
import { BIN } from '../helpers/agent.ts';
import { watchdogIntervalMs, statusLine } from '../../src/net/sd-notify.ts';
import { addon } from '../../src/native/addon.ts';

test('the watchdog period is half of WATCHDOG_USEC, and only for the process systemd named', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '43' }, 42), undefined, 'another process\'s watchdog');
  assert.equal(watchdogIntervalMs({}, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'x' }, 42), undefined);
  assert.equal(statusLine('a\nb'), 'STATUS=a b', 'one line');
});

const RECEIVER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('bound', flush=True)
s.settimeout(0.5)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        data = s.recv(4096)
    except socket.timeout:
        continue
    print(json.dumps(data.decode()), flush=True)
`;

test('under a notify socket: READY=1 once listening, WATCHDOG=1 every half period, STOPPING=1 at SIGTERM', async (t) => {
  if (!requirePeers(t, '/usr/bin/python3')) return;
  assert.ok(addon, 'the native addon is built (it sends the datagrams)');
  const dir = mkdtempSync(join(tmpdir(), 'notify-'));
  const sock = join(dir, 'notify');
  const cfg = join(dir, 'agent.yaml');
  writeFileSync(cfg, ['receiver:', '  source: simulator', 'control:', '  http: { address: 127.0.0.1, port: 0 }', 'prometheus:', '  port: 0',
    'ntp:', '  addresses: [127.0.0.1]', '  port: 0', 'agent:', `  state_dir: ${JSON.stringify(dir)}`, ''].join('\n'));
  const rx = spawn('/usr/bin/python3', ['-c', RECEIVER, sock, '30'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let rxOut = '';
  rx.stdout.setEncoding('utf8').on('data', (d: string) => { rxOut += d; });
  t.after(() => {
    if (rx.exitCode === null) rx.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  while (!rxOut.includes('bound')) await new Promise((r) => setTimeout(r, 50));
  const agent = spawn(process.execPath, [BIN, 'run', '--simulate', '--config', cfg], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '1000000' },
  });
  let out = '';
  agent.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  agent.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const exited = new Promise<number | null>((r) => agent.on('exit', (c) => r(c)));
  t.after(() => { if (agent.exitCode === null) agent.kill(); });
  const deadline = Date.now() + 20_000;
  while (!/^listening: /m.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.match(out, /^listening: /m, out);
  await new Promise((r) => setTimeout(r, 2600));
  agent.kill('SIGTERM');
  assert.equal(await exited, 0, out.slice(-2000));
  await new Promise((r) => setTimeout(r, 700));
  rx.kill();
  const messages = rxOut.split('\n').slice(1).filter(Boolean).map((l) => JSON.parse(l) as string);
  t.diagnostic(`${messages.length} notifications: ${messages.map((m) => m.split('\n')[0]).join(', ')}`);
  assert.ok(messages.length >= 5, `${messages.length} notifications`);
  assert.match(messages[0]!, /^READY=1\nSTATUS=serving: .*ntp udp 127\.0\.0\.1:\d+/m, 'READY=1 first, saying what it serves');
  assert.match(messages[0]!, new RegExp(`^MAINPID=${agent.pid}$`, 'm'), 'its own pid');
  const pings = messages.filter((m) => m === 'WATCHDOG=1\n').length;
  assert.ok(pings >= 3 && pings <= 8, `${pings} watchdog pings in about 2.6 s at one each 0.5 s`);
  assert.match(messages.at(-1)!, /^STOPPING=1\nSTATUS=stopping: SIGTERM/, 'STOPPING=1 last');
  assert.doesNotMatch(out, /cannot notify|NOTIFY_SOCKET/, 'no complaint about the notify socket');
});
