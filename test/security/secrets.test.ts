/**
 * No configured secret leaks. The real agent runs on the simulator with every option that holds a
 * secret set, each to its own random string made here: two SNMP v1/v2c communities, three SNMPv3
 * users' authentication and privacy passphrases, the communities of two v2c trap receivers (a trap
 * and an inform), a v3 trap receiver's user, and the InfluxDB password (token). It is then worked so
 * that a secret would have its chance to show: snmpget with the right and wrong communities, the
 * right and wrong v3 passphrases and an unknown user; InfluxDB a local stand-in that refuses every
 * request (401), so the export fails and logs; alarms raised and cleared (the antenna unplugged), so
 * traps and informs go out (the inform receiver never answers: timeouts); a test trap and a resend
 * through the control endpoint; a few seconds of history; SIGTERM. A second short run with every
 * secret rotated makes the history record a configChanged event.
 *
 * Each secret is looked for as its raw text, as hex (either case) and as base64 and base64url at every
 * byte alignment (so it is found inside a longer encoded blob, such as an HTTP Basic header), in:
 *  - everything both runs wrote to stdout and stderr (the structured log);
 *  - GET /status (JSON), GET /metrics (Prometheus), GET /health;
 *  - every file in the state directory read as bytes, while the agent runs and after it stopped
 *    (history.db and its -wal and -shm, the InfluxDB queue, snmp-engine-id, frequency.json,
 *    fingerprint.key, anything else);
 *  - the output (stdout and stderr) of `stratum1 status`, `status --json`, `alarms`, `traps test`,
 *    `traps resend`, `history`, `events`, `events --json`, `check-config`, and the HTML of `report`;
 *  - `check-config` on files where a value beside the secrets is wrong, or a secret itself is
 *    malformed (too short, a number, a list where a string goes, a string where a list goes), a key
 *    holding a secret is misspelt, credentials are written into influx.url, or the YAML around a secret
 *    does not parse: every one refused, naming the option, echoing no secret.
 * The state files' modes: history.db 0640 or stricter, fingerprint.key 0600 or stricter, no file
 * readable by others, with the agent started under umask 022 (a login shell's, not the unit's 0077).
 *
 * The search is shown to work on the same data: the configuration file holds every secret, the
 * stand-in InfluxDB's Authorization header holds the password (base64, inside user:password), and the
 * v2c trap receivers' datagrams hold their communities; each must be found there.
 *
 * The last test: a receiver that answers an inform with another community (net-snmp's error text
 * quotes the community sent; src/snmp/traps.ts logs a reason of its own instead). Not covered: the
 * wire itself (v2c communities travel in clear by design).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, agentConfig, BIN, type RunningAgent } from '../helpers/agent.ts';
import { ROOT, requirePeers } from '../helpers/env.ts';
import { freeUdpPort, freeTcpPort } from '../helpers/ports.ts';
import { SAMPLE_METRICS } from '../../src/store/metrics.ts';
import { main } from '../../src/cli/main.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A random secret: 24 characters of [A-Za-z0-9], after a label that says which option holds it. */
const random = (label: string) => `${label}${randomBytes(24).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 20)}`;

/** The forms a secret could take in a file or a log: the text, hex, and base64/base64url at each of
 * the three byte alignments (the characters of each that depend on the secret's bytes alone). */
function forms(secret: string): { form: string; text: string }[] {
  const b = Buffer.from(secret, 'utf8');
  const out = [{ form: 'raw', text: secret }, { form: 'hex', text: b.toString('hex') }, { form: 'HEX', text: b.toString('hex').toUpperCase() }];
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), b]);
    const end = Math.floor(padded.length / 3) * 4;
    for (const enc of ['base64', 'base64url'] as const) out.push({ form: `${enc}@${k}`, text: padded.toString(enc).slice(k === 0 ? 0 : 4, end) });
  }
  return out;
}

type Secrets = Record<string, string>;

/** Every (secret, form) found in `data`, as "name as form in where". */
function leaks(where: string, data: string | Buffer, secrets: Secrets): string[] {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const found: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    for (const f of forms(value)) if (buf.includes(Buffer.from(f.text, 'utf8'))) found.push(`${name} as ${f.form} in ${where}`);
  }
  return found;
}

/** Runs the stratum1 CLI; stdout and stderr together. */
function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const kill = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code) => {
      clearTimeout(kill);
      res({ code, out });
    });
  });
}

/** snmpget of sysName.0 with the given security arguments; stdout and stderr together. */
function snmpget(port: number, sec: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn('snmpget', ['-m', '', '-On', '-t', '1', '-r', '0', ...sec, `127.0.0.1:${port}`, '1.3.6.1.2.1.1.5.0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    p.on('close', (code) => res({ code, out }));
  });
}

/** Every regular file under `dir`, read as bytes, with its mode. */
function filesUnder(dir: string): { path: string; name: string; bytes: Buffer; mode: number }[] {
  const out: { path: string; name: string; bytes: Buffer; mode: number }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue; // gone between the listing and the stat (a -wal at checkpoint)
    }
    if (st.isDirectory()) out.push(...filesUnder(p).map((f) => ({ ...f, name: `${name}/${f.name}` })));
    else if (st.isFile()) {
      try {
        out.push({ path: p, name, bytes: readFileSync(p), mode: st.mode & 0o777 });
      } catch { /* gone */ }
    }
  }
  return out;
}

/** A UDP socket on loopback that keeps what it receives. */
async function udpSink(): Promise<{ socket: Socket; port: number; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return { socket, port: socket.address().port, received };
}

/** Stops the agent: SIGTERM, and SIGKILL (by its PID) if it has not ended in 15 s. */
async function stopAgent(a: RunningAgent | undefined): Promise<void> {
  if (!a) return;
  const killer = setTimeout(() => a.proc.kill('SIGKILL'), 15_000);
  await a.stop();
  clearTimeout(killer);
}

/** The whole set of secrets of one run: every option of the schema that holds one. */
function makeSecrets(): Secrets {
  return {
    'snmp.communities[0]': random('c0'), 'snmp.communities[1]': random('c1'),
    'snmp.users[0].auth_key': random('a0'), 'snmp.users[0].priv_key': random('p0'),
    'snmp.users[1].auth_key': random('a1'), 'snmp.users[1].priv_key': random('p1'),
    'snmp.users[2].auth_key': random('a2'),
    'snmp.trap_sinks[0].community': random('t0'), 'snmp.trap_sinks[1].community': random('t1'),
    'influx.password': random('ip'),
  };
}

function secretConfig(base: string, s: Secrets, ports: { snmp: number; influx: number; trap: number; inform: number; v3trap: number }): string {
  return base + [
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${ports.snmp}`,
    `  communities: [${JSON.stringify(s['snmp.communities[0]'])}, ${JSON.stringify(s['snmp.communities[1]'])}]`,
    '  users:',
    `    - { name: nms, auth: sha256, auth_key: ${JSON.stringify(s['snmp.users[0].auth_key'])}, priv: aes, priv_key: ${JSON.stringify(s['snmp.users[0].priv_key'])} }`,
    `    - { name: ops, auth: sha512, auth_key: ${JSON.stringify(s['snmp.users[1].auth_key'])}, priv: aes, priv_key: ${JSON.stringify(s['snmp.users[1].priv_key'])} }`,
    `    - { name: mon, auth: sha, auth_key: ${JSON.stringify(s['snmp.users[2].auth_key'])}, priv: none }`,
    '  trap_sinks:',
    `    - { host: 127.0.0.1, port: ${ports.trap}, version: v2c, community: ${JSON.stringify(s['snmp.trap_sinks[0].community'])} }`,
    `    - { host: 127.0.0.1, port: ${ports.inform}, version: v2c, community: ${JSON.stringify(s['snmp.trap_sinks[1].community'])}, inform: true, retries: 0, timeout_ms: 300 }`,
    `    - { host: 127.0.0.1, port: ${ports.v3trap}, version: v3, user: nms }`,
    '  heartbeat_s: 1',
    'influx:', '  enabled: true', `  url: http://127.0.0.1:${ports.influx}`, '  username: stratum1-writer',
    `  password: ${JSON.stringify(s['influx.password'])}`, '  interval_s: 1', '  timeout_ms: 500',
    'store:', '  flush_interval_s: 1',
    // Every line logged: nothing held back by the repeat limit, debug included.
    'logging:', '  level: debug', '  repeat_per_minute: 10000',
    'alarms:', '  fix_lost: { raise_after_s: 1, clear_after_s: 1 }', '  pps_missing: { raise_after_s: 1, clear_after_s: 1 }', '',
  ].join('\n');
}

test('no configured secret leaks: logs, /status, /metrics, the state files, the CLI; state file modes', async (t) => {
  if (!requirePeers(t, 'snmpget')) return;
  const oldUmask = process.umask(0o022); // the agent inherits it: it must not rely on the unit's UMask
  const conf = mkdtempSync(join(tmpdir(), 'secrets-conf-'));
  const state = join(mkdtempSync(join(tmpdir(), 'secrets-state-')), 'state');
  const secrets = makeSecrets();
  const rotated = Object.fromEntries(Object.entries(makeSecrets()).map(([k, v]) => [`${k} (second run)`, v]));
  const all = { ...secrets, ...rotated };

  // The stand-in InfluxDB: refuses everything, as a server with another token would.
  const authHeaders: string[] = [];
  const influx = createServer((req: IncomingMessage, res) => {
    if (req.headers.authorization) authHeaders.push(req.headers.authorization);
    req.resume();
    req.on('end', () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"authorization failed"}'));
  });
  const influxPort = await freeTcpPort();
  await new Promise<void>((r) => influx.listen(influxPort, '127.0.0.1', () => r()));
  const trap = await udpSink();
  const inform = await udpSink(); // never answers: every inform times out
  const v3trap = await udpSink();
  const snmpPort = await freeUdpPort();
  const ports = { snmp: snmpPort, influx: influxPort, trap: trap.port, inform: inform.port, v3trap: v3trap.port };
  const cfgFile = join(conf, 'agent.yaml');
  // The antenna unplugged for the first 4 s: fix_lost and pps_missing raised, then cleared.
  const config = secretConfig(agentConfig(state, ['127.0.0.1'], await freeUdpPort(), 0, 4), secrets, ports);
  writeFileSync(cfgFile, config);

  const found: string[] = [];
  const look = (where: string, data: string | Buffer, s: Secrets = all) => found.push(...leaks(where, data, s));
  const files: { when: string; f: ReturnType<typeof filesUnder> }[] = [];
  const cliOut: [string, string][] = [];
  let a: RunningAgent | undefined;
  let b: RunningAgent | undefined;
  let outputs = '';
  try {
    a = await startAgent(cfgFile);
    const prom = /prometheus-http tcp (\S+):(\d+)/.exec(a.out())!;
    // SNMP: the right communities and users are served; wrong ones are refused.
    const V3 = (user: string, auth: string, authKey: string, priv?: [string, string]) =>
      ['-v3', '-u', user, '-l', priv ? 'authPriv' : 'authNoPriv', '-a', auth, '-A', authKey, ...(priv ? ['-x', priv[0], '-X', priv[1]] : [])];
    const good = [
      ['-v2c', '-c', secrets['snmp.communities[0]']!], ['-v2c', '-c', secrets['snmp.communities[1]']!],
      V3('nms', 'SHA-256', secrets['snmp.users[0].auth_key']!, ['AES', secrets['snmp.users[0].priv_key']!]),
      V3('ops', 'SHA-512', secrets['snmp.users[1].auth_key']!, ['AES', secrets['snmp.users[1].priv_key']!]),
      V3('mon', 'SHA', secrets['snmp.users[2].auth_key']!),
    ];
    for (const sec of good) {
      const r = await snmpget(snmpPort, sec);
      assert.equal(r.code, 0, `snmpget ${sec.slice(0, 3).join(' ')}: ${r.out}`);
    }
    const bad = [
      ['-v2c', '-c', random('wrong')], ['-v2c', '-c', secrets['snmp.communities[0]']!.slice(0, -1)],
      V3('nms', 'SHA-256', random('wrongauth'), ['AES', secrets['snmp.users[0].priv_key']!]),
      V3('nms', 'SHA-256', secrets['snmp.users[0].auth_key']!, ['AES', random('wrongpriv')]),
      V3('nms', 'SHA-256', secrets['snmp.users[0].auth_key']!), // authNoPriv for an authPriv user
      V3('mallory', 'SHA-256', secrets['snmp.users[0].auth_key']!, ['AES', secrets['snmp.users[0].priv_key']!]),
    ];
    for (const sec of bad) assert.notEqual((await snmpget(snmpPort, sec)).code, 0, `snmpget ${sec.slice(0, 3).join(' ')} refused`);

    // Operator actions through the control endpoint.
    const base = a.statusUrl.replace(/\/status$/, '');
    const traps = await Promise.all(['test', 'resend'].map((what) => cli(['traps', what, '--url', a!.statusUrl])));
    ['test', 'resend'].forEach((what, i) => {
      assert.equal(traps[i]!.code, 0, `traps ${what}: ${traps[i]!.out}`);
      cliOut.push([`stratum1 traps ${what}`, traps[i]!.out]);
    });
    // The alarms came and went, traps went out, InfluxDB refused, the history holds a few seconds.
    await a.waitFor((s) => s.events.recent.some((e) => e.type === 'alarmCleared') && s.snmp.trapsFailed > 0 &&
      s.influx.failures > 1 && s.store.samplesWritten >= 3 && s.snmp.badCommunity >= 2, 25_000,
      'alarms raised and cleared, an inform timed out, InfluxDB refused, history written');
    const st = await fetch(a.statusUrl);
    look('GET /status', await st.text());
    look('GET /metrics', await (await fetch(`http://${prom[1]}:${prom[2]}/metrics`)).text());
    look('GET /health', await (await fetch(`${base}/health`)).text());
    const asks = [['status'], ['status', '--json'], ['alarms']];
    const answers = await Promise.all(asks.map((args) => cli([...args, '--url', a!.statusUrl])));
    asks.forEach((args, i) => {
      assert.equal(answers[i]!.code, 0, `stratum1 ${args.join(' ')}: ${answers[i]!.out}`);
      cliOut.push([`stratum1 ${args.join(' ')}`, answers[i]!.out]);
    });
    files.push({ when: 'running', f: filesUnder(state) });
    await stopAgent(a);
    outputs += a.all();
    files.push({ when: 'stopped', f: filesUnder(state) });

    // A second run with every secret rotated: the history records which options changed.
    writeFileSync(cfgFile, secretConfig(agentConfig(state, ['127.0.0.1'], await freeUdpPort(), 0, 0), Object.fromEntries(
      Object.entries(rotated).map(([k, v]) => [k.replace(' (second run)', ''), v])), { ...ports, snmp: await freeUdpPort() }));
    b = await startAgent(cfgFile);
    await b.waitFor((s) => s.store.flushes > 0, 15_000, 'the second run\'s first flush');
    await stopAgent(b);
    outputs += b.all();
    files.push({ when: 'after the second run', f: filesUnder(state) });

    // The history, read by the CLI (read-only, the agent stopped).
    const hist = await Promise.all([
      cli(['history', SAMPLE_METRICS[0]!.name, '--since', '1h', '--config', cfgFile]),
      cli(['events', '--since', '1h', '--config', cfgFile]),
      cli(['events', '--since', '1h', '--json', '--config', cfgFile]),
      cli(['report', '--since', '1h', '--out', join(conf, 'report.html'), '--config', cfgFile]),
      cli(['check-config', cfgFile]),
    ]);
    ['history', 'events', 'events --json', 'report', 'check-config'].forEach((name, i) => {
      assert.equal(hist[i]!.code, 0, `stratum1 ${name}: ${hist[i]!.out}`);
      cliOut.push([`stratum1 ${name}`, hist[i]!.out]);
    });
    assert.match(hist[2]!.out, /"type":"configChanged"/, 'the second run recorded a configChanged event');
    assert.match(hist[2]!.out, /snmp\.users\[0\]\.auth_key/, 'naming the secret options that changed');
    look('the HTML report', readFileSync(join(conf, 'report.html')));
  } finally {
    await stopAgent(a);
    await stopAgent(b);
    influx.close();
    for (const s of [trap, inform, v3trap]) s.socket.close();
    process.umask(oldUmask);
  }

  try {
    look('the agents\' stdout and stderr', outputs);
    for (const [name, out] of cliOut) look(`the output of ${name}`, out);
    for (const { when, f } of files) for (const x of f) look(`${x.name} (${when})`, x.bytes);

    // The search finds what is there: each secret in the configuration file, the password in the
    // Basic header InfluxDB received, each v2c receiver's community in the datagrams it got.
    assert.equal(leaks('config', config, secrets).filter((l) => l.includes(' as raw ')).length, Object.keys(secrets).length, 'every secret found in the configuration');
    assert.ok(authHeaders.length > 0, 'the stand-in InfluxDB was asked');
    assert.ok(leaks('auth', authHeaders[0]!, secrets).some((l) => l.startsWith('influx.password as base64')), `the password in ${authHeaders[0]}`);
    assert.ok(trap.received.length > 0 && inform.received.length > 0 && v3trap.received.length > 0, 'every trap receiver got notifications');
    assert.ok(leaks('trap', trap.received[0]!, secrets).some((l) => l.startsWith('snmp.trap_sinks[0].community as raw')));
    assert.ok(leaks('inform', inform.received[0]!, secrets).some((l) => l.startsWith('snmp.trap_sinks[1].community as raw')));
    assert.match(outputs, /InfluxDB write failed/, 'the export failure was logged');

    assert.deepEqual(found, [], `secrets leaked:\n  ${found.join('\n  ')}`);

    // Modes, under umask 022.
    const last = files.at(-1)!.f;
    const mode = (name: string) => last.find((x) => x.name === name)?.mode;
    assert.ok(mode('history.db') !== undefined && (mode('history.db')! & ~0o640) === 0, `history.db is 0${mode('history.db')?.toString(8)}`);
    assert.ok(mode('fingerprint.key') !== undefined && (mode('fingerprint.key')! & ~0o600) === 0, `fingerprint.key is 0${mode('fingerprint.key')?.toString(8)}`);
    const open = files.flatMap(({ when, f }) => f.filter((x) => (x.mode & 0o007) !== 0).map((x) => `${x.name} 0${x.mode.toString(8)} (${when})`));
    assert.deepEqual(open, [], 'no state file readable by others');
  } finally {
    rmSync(conf, { recursive: true, force: true });
    rmSync(join(state, '..'), { recursive: true, force: true });
  }
});

/** A configuration file of `text`, checked by `stratum1 check-config`: in a process of its own, or
 * (quicker, the same code) by the command's main function here. */
async function checkConfig(dir: string, name: string, text: string, own = false): Promise<{ code: number | null; out: string }> {
  const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(file, text);
  if (own) return cli(['check-config', file]);
  let out = '';
  const code = await main(['check-config', file], { out: (x) => { out += x; }, err: (x) => { out += x; } });
  return { code, out };
}

test('check-config refuses a broken file without echoing a secret, whatever is broken', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-check-'));
  try {
    const s = makeSecrets();
    const q = (k: string) => JSON.stringify(s[k]);
    const ports = { snmp: 1161, influx: 8086, trap: 1162, inform: 1163, v3trap: 1164 };
    const good = secretConfig(agentConfig(join(dir, 'state'), ['127.0.0.1'], 1123), s, ports);
    const ok = await checkConfig(dir, 'good', good, true);
    assert.equal(ok.code, 0, ok.out);
    // Secrets that are themselves the broken value.
    const extra: Secrets = { 'a passphrase too short': random('').slice(0, 7), 'a passphrase as a number': String(100_000_000_000 + randomBytes(4).readUInt32BE()) };
    const trapNumber = String(200_000_000_000 + randomBytes(4).readUInt32BE());
    Object.assign(extra, { 'a community as a number': trapNumber });
    const cases: [string, string, RegExp][] = [
      ['a wrong value beside the secrets', good.replace('auth: sha256', 'auth: sha999'), /snmp\.users\[0\]\.auth: expected one of/],
      ['a passphrase too short', good.replace(q('snmp.users[2].auth_key'), JSON.stringify(extra['a passphrase too short'])), /snmp\.users\[2\]\.auth_key: expected at least 8 characters/],
      ['a passphrase as a number', good.replace(q('snmp.users[1].priv_key'), extra['a passphrase as a number']!), /snmp\.users\[1\]\.priv_key: expected/],
      ['the communities as one string', good.replace(/communities: \[.*\]/, `communities: ${q('snmp.communities[0]')}`), /snmp\.communities: expected a list/],
      ['a community in the list that is no string', good.replace(/communities: \[(.*), .*\]/, `communities: [$1, [${q('snmp.communities[1]')}]]`), /snmp\.communities\[1\]: expected/],
      ['the password as a list', good.replace(`password: ${q('influx.password')}`, `password: [${q('influx.password')}]`), /influx\.password: expected a string/],
      ['a trap community as a number', good.replace(q('snmp.trap_sinks[0].community'), trapNumber), /snmp\.trap_sinks\[0\]\.community: expected/],
      ['credentials in influx.url', good.replace(/url: http:\/\/127\.0\.0\.1/, `url: http://writer:${s['influx.password']}@127.0.0.1`), /influx\.url: expected/],
      ['a misspelt key holding a secret', good.replace('communities:', 'comunities:'), /snmp\.comunities: expected no such option \(did you mean "communities"\?\)/],
      ['a YAML error on a secret\'s line', good.replace(`password: ${q('influx.password')}`, `password: "${s['influx.password']}`), /expected valid YAML/],
      ['a YAML error after a secret', good.replace(`password: ${q('influx.password')}`, `password: ${q('influx.password')} }`), /expected valid YAML/],
    ];
    const results = await Promise.all(cases.map(([name, text], i) => checkConfig(dir, name, text, i === 0)));
    const problems: string[] = [];
    cases.forEach(([name, , expect], i) => {
      const r = results[i]!;
      if (r.code !== 2) problems.push(`${name}: exit status ${r.code}, not 2 (refused): ${r.out.trim()}`);
      else if (!expect.test(r.out)) problems.push(`${name}: the option is not named as ${String(expect)}: ${r.out.trim()}`);
      problems.push(...leaks(`check-config with ${name}`, r.out, { ...s, ...extra }).map((l) => `${l}: ${r.out.trim()}`));
    });
    assert.deepEqual(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an inform answered with another community (a spoofed receiver): the community sent is not logged', async () => {
  const conf = mkdtempSync(join(tmpdir(), 'secrets-inform-'));
  const community = random('t');
  // The "receiver": answers every inform with a Response PDU carrying another community of the same length.
  const sink = createSocket('udp4');
  let answered = 0;
  sink.on('message', (m, rinfo) => {
    const at = m.indexOf(Buffer.from(community));
    if (at < 0 || m[at + community.length] !== 0xa6) return;
    const reply = Buffer.from(m);
    Buffer.from('x'.repeat(community.length)).copy(reply, at);
    reply[at + community.length] = 0xa2;
    sink.send(reply, rinfo.port, rinfo.address, () => { answered++; });
  });
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const cfg = join(conf, 'agent.yaml');
  writeFileSync(cfg, agentConfig(join(conf, 'state'), ['127.0.0.1'], await freeUdpPort()) + [
    'snmp:', '  enabled: true', '  address: 127.0.0.1', `  port: ${await freeUdpPort()}`,
    '  trap_sinks:', `    - { host: 127.0.0.1, port: ${sink.address().port}, version: v2c, community: ${JSON.stringify(community)}, inform: true, retries: 0, timeout_ms: 2000 }`,
    'logging:', '  repeat_per_minute: 10000', '',
  ].join('\n'));
  let a: RunningAgent | undefined;
  try {
    a = await startAgent(cfg);
    const r = await fetch(a.statusUrl.replace(/\/status$/, '/traps/test'), { method: 'POST' });
    assert.equal(r.status, 200);
    await a.waitFor((st) => st.snmp.trapsFailed > 0, 10_000, 'the inform answered wrongly');
    assert.ok(answered > 0);
    await sleep(200);
  } finally {
    await stopAgent(a);
    sink.close();
    rmSync(conf, { recursive: true, force: true });
  }
  assert.deepEqual(leaks('the agent\'s output', a?.all() ?? '', { 'snmp.trap_sinks[0].community': community }), []);
});
