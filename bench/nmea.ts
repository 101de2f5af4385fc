/**
 * NMEA parsing benchmark: the framer, the parser and the receiver state machine over every capture of
 * the corpus, repeated for a fixed number of rounds, measured in CPU time of this process. Side by
 * side, in the same run and interleaved, the reference: Debian's gpsd reading the same bytes from a pty
 * (socat), measured in gpsd's own CPU time (/proc/PID/stat). Prints a table, then ONE JSON line of
 * figures: sentences and bytes per CPU second for ours and gpsd's, and the ratio.
 *
 * For scale: an MTK3339 at 9600 baud delivers at most 960 bytes (about 12 sentences) a second.
 */
import { readFileSync, readdirSync, existsSync, openSync, writeSync, closeSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineFramer } from '../src/gnss/framer.ts';
import { parseSentence } from '../src/gnss/nmea.ts';
import { Receiver } from '../src/gnss/receiver.ts';
import { stripComments } from '../src/gnss/replay.ts';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = resolve(here, '../../shared/nmea-corpus');
const texts = readdirSync(corpus).filter((f) => f.endsWith('.log')).sort().map((f) => stripComments(readFileSync(resolve(corpus, f), 'latin1')));
const input = Buffer.from(texts.join('\n'), 'latin1');
const CHUNK = 64; // bytes per read, like a serial port delivering bursts

// `--quick` (the smoke test inside npm test): two rounds and one run, to the JSON line in seconds.
const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 40;

function once(rounds: number): { sentences: number; bytes: number; seconds: number; rejected: number } {
  let sentences = 0;
  let rejected = 0;
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    const framer = new LineFramer();
    const rx = new Receiver();
    let t = 0n;
    for (let off = 0; off < input.length; off += CHUNK) {
      for (const line of framer.push(input.subarray(off, off + CHUNK))) {
        const p = parseSentence(line);
        if (p.ok) {
          t += 50_000_000n;
          rx.apply(p.sentence, t);
          sentences++;
        } else rejected++;
      }
    }
  }
  const c = process.cpuUsage(c0);
  return { sentences, bytes: input.length * rounds, seconds: (c.user + c.system) / 1e6, rejected };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** gpsd's CPU seconds (user + system) from /proc. */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
}

interface GpsdRig { gpsdPid: number; feed: string; stop(): Promise<void> }

async function startGpsd(): Promise<GpsdRig | undefined> {
  if (!has('gpsd') || !has('socat')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bench-gpsd-'));
  const dev = join(dir, 'gps');
  const feed = join(dir, 'feed');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${feed}`], { stdio: 'ignore' });
  while (!existsSync(dev) || !existsSync(feed)) await sleep(20);
  const pidFile = join(dir, 'gpsd.pid');
  // -n: read the device without waiting for a client; -b: never write to it; a private port.
  const gpsd: ChildProcess = spawn('gpsd', ['-N', '-n', '-b', '-S', '29899', '-P', pidFile, dev], { stdio: 'ignore' });
  while (!existsSync(pidFile)) await sleep(20);
  await sleep(500);
  const gpsdPid = Number(readFileSync(pidFile, 'utf8').trim());
  return {
    gpsdPid, feed,
    stop: async () => {
      gpsd.kill('SIGTERM');
      socat.kill('SIGTERM');
      await sleep(200);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Writes the corpus `rounds` times into gpsd's pty (writes block while gpsd has not read, so nothing
 * is dropped) and waits until gpsd's CPU time stops growing. */
async function gpsdOnce(rig: GpsdRig, rounds: number): Promise<{ seconds: number }> {
  const before = cpuOf(rig.gpsdPid);
  const fd = openSync(rig.feed, 'w');
  for (let r = 0; r < rounds; r++) writeSync(fd, input);
  closeSync(fd);
  let last = -1;
  let now = cpuOf(rig.gpsdPid);
  while (now !== last) {
    last = now;
    await sleep(300);
    now = cpuOf(rig.gpsdPid);
  }
  return { seconds: now - before };
}

const perRound = once(1).sentences;
once(quick ? 1 : 20); // warm up the JIT
const rig = await startGpsd();
const ours: ReturnType<typeof once>[] = [];
const ref: { seconds: number }[] = [];
for (let i = 0; i < 5; i++) {
  ours.push(once(ROUNDS));
  if (rig) ref.push(await gpsdOnce(rig, ROUNDS));
}
await rig?.stop();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const oursS = median(ours.map((r) => r.seconds));
const sps = (perRound * ROUNDS) / oursS;
const bps = (input.length * ROUNDS) / oursS;
console.log(`corpus: ${texts.length} captures, ${input.length} bytes, ${perRound} sentences accepted per round, ${ROUNDS} rounds per run`);
for (const [i, r] of ours.entries()) {
  console.log(`run ${i + 1}: ours ${r.seconds.toFixed(3)} CPU s (${(r.sentences / r.seconds).toFixed(0)} sentences/s)` +
    (ref[i] ? `, gpsd ${ref[i]!.seconds.toFixed(2)} CPU s (${(perRound * ROUNDS / ref[i]!.seconds).toFixed(0)} sentences/s)` : ''));
}
const refS = ref.length ? median(ref.map((r) => r.seconds)) : undefined;
if (!rig) console.log('gpsd or socat not installed: no reference figures');
console.log(JSON.stringify({
  bench: 'nmea', quick, node: process.version, captures: texts.length, bytesPerRound: input.length, rounds: ROUNDS,
  sentencesPerSecond: Math.round(sps), bytesPerSecond: Math.round(bps),
  gpsdSentencesPerSecond: refS ? Math.round((perRound * ROUNDS) / refS) : null,
  gpsdBytesPerSecond: refS ? Math.round((input.length * ROUNDS) / refS) : null,
  oursOverGpsd: refS ? Number((refS / oursS).toFixed(2)) : null,
  mtk3339RealTimeFactor: Math.round(bps / 960),
}));
