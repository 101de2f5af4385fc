/**
 * The long fuzz run: `npm run fuzz -- [--target a,b] [--count N] [--seed S] [--jobs J]`.
 * Each target runs in a worker thread of its own (targets in parallel, up to --jobs at a time); the
 * main thread is the watchdog: a worker whose input counter has not moved for HANG_WATCH_S seconds is
 * stuck on an input (an endless loop never returns to report its own time), which is saved and the
 * worker ended. Prints per-target counts (inputs, crashes, unique crash signatures, inputs/s) and a
 * JSON line at the end; a crash's input is written to test/fuzz/regressions/<target>/ and the exit
 * status is 1.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { TARGETS, target as targetByName } from './targets/index.ts';
import { fuzz, saveRegression, signatureOf, type Crash } from './engine.ts';

const HANG_WATCH_S = 10;
const SAB_INPUT = 1 << 20;

interface Job { target: string; count: number; seed: number; sab: SharedArrayBuffer }
type FromWorker =
  | { type: 'crash'; crash: Omit<Crash, 'input'> & { input: Uint8Array } }
  | { type: 'progress'; done: number }
  | { type: 'done'; inputs: number; crashes: number; seconds: number };

async function worker(job: Job): Promise<void> {
  const state = new Int32Array(job.sab, 0, 2);
  const bytes = new Uint8Array(job.sab, 8, SAB_INPUT);
  const post = (m: FromWorker) => parentPort!.postMessage(m);
  const h = await targetByName(job.target).setup();
  const stats = await fuzz(job.target, h, {
    count: job.count, seed: job.seed, progressEvery: 50_000,
    onInput: (_i, input) => {
      const n = Math.min(input.length, SAB_INPUT);
      bytes.set(n === input.length ? input : input.subarray(0, n));
      Atomics.store(state, 1, n);
      Atomics.add(state, 0, 1);
    },
    onCrash: (c) => post({ type: 'crash', crash: c }),
    onProgress: (done) => post({ type: 'progress', done }),
  });
  await h.close?.();
  post({ type: 'done', inputs: stats.inputs, crashes: stats.crashes, seconds: stats.seconds });
}

interface Result { target: string; inputs: number; crashes: number; unique: number; seconds: number; perSecond: number; regressions: string[]; signatures: string[] }

function runTarget(name: string, count: number, seed: number, quiet: boolean): Promise<Result> {
  const sab = new SharedArrayBuffer(8 + SAB_INPUT);
  const state = new Int32Array(sab, 0, 2);
  // The worker registers tsx's loader itself (a worker does not inherit `--import tsx`), then loads this file.
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(import.meta.url)});`;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: { target: name, count, seed, sab } satisfies Job });
  const r: Result = { target: name, inputs: 0, crashes: 0, unique: 0, seconds: 0, perSecond: 0, regressions: [], signatures: [] };
  const t0 = performance.now();
  const record = (c: Crash) => {
    r.unique++;
    r.signatures.push(c.signature);
    r.regressions.push(`test/fuzz/regressions/${name}/${saveRegression(name, c)}`);
    console.error(`[${name}] CRASH ${c.signature}\n  input (${c.input.length} octets): ${Buffer.from(c.input).toString('hex').slice(0, 400)}\n  ${c.stack.split('\n').slice(0, 6).join('\n  ')}`);
  };
  const current = (): Uint8Array => Uint8Array.from(new Uint8Array(sab, 8, Atomics.load(state, 1)));
  return new Promise((resolve) => {
    let last = -1;
    let still = 0;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(watch);
      r.seconds = (performance.now() - t0) / 1000;
      r.perSecond = Math.round(r.inputs / Math.max(r.seconds, 1e-9));
      resolve(r);
    };
    const watch = setInterval(() => {
      const n = Atomics.load(state, 0);
      // Armed from the first input on: loading and setting up a target takes a while on a busy machine.
      still = n === last && n > 0 ? still + 1 : 0;
      last = n;
      if (still >= HANG_WATCH_S && !finished) {
        clearInterval(watch);
        r.crashes++;
        r.inputs = n;
        record({ signature: `Hang: no progress for ${HANG_WATCH_S} s`, message: 'stuck', stack: '', input: current(), index: n - 1, ms: HANG_WATCH_S * 1000 });
        void w.terminate().then(finish);
      }
    }, 1000);
    w.on('message', (m: FromWorker) => {
      if (m.type === 'crash') record({ ...m.crash, input: new Uint8Array(m.crash.input) });
      else if (m.type === 'progress') {
        if (!quiet) console.error(`[${name}] ${m.done} inputs, ${r.unique} unique crashes`);
      } else {
        r.inputs = m.inputs;
        r.crashes += m.crashes;
        finish();
      }
    });
    w.on('error', (e) => {
      // An exception thrown outside any input's run (a timer or callback of the code under test).
      r.crashes++;
      r.inputs = Atomics.load(state, 0);
      const s = signatureOf(e);
      record({ ...s, signature: `Uncaught: ${s.signature}`, input: current(), index: r.inputs - 1, ms: 0 });
      finish();
    });
    w.on('exit', () => finish());
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const names = opt('target')?.split(',') ?? TARGETS.map((t) => t.name);
  for (const n of names) targetByName(n);
  const count = Number(opt('count') ?? 1_000_000);
  const seed = Number(opt('seed') ?? 1) >>> 0;
  const jobs = Math.max(1, Number(opt('jobs') ?? Math.min(names.length, availableParallelism())));
  const quiet = args.includes('--quiet');
  if (!Number.isSafeInteger(count) || count < 1) throw new Error(`--count ${opt('count')}: a positive integer`);
  const results: Result[] = [];
  const queue = [...names];
  await Promise.all(Array.from({ length: jobs }, async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const r = await runTarget(n, count, seed, quiet);
      results.push(r);
      console.log(`${r.target.padEnd(16)} inputs ${String(r.inputs).padStart(9)}  crashes ${String(r.crashes).padStart(6)}  unique ${String(r.unique).padStart(3)}  ${String(r.perSecond).padStart(8)} inputs/s  (${r.seconds.toFixed(1)} s)`);
    }
  }));
  results.sort((a, b) => names.indexOf(a.target) - names.indexOf(b.target));
  const crashes = results.reduce((a, r) => a + r.crashes, 0);
  console.log(JSON.stringify({ seed, count, crashes, targets: results.map(({ target, inputs, crashes: c, unique, perSecond, seconds, regressions, signatures }) =>
    ({ target, inputs, crashes: c, unique, perSecond, seconds: Math.round(seconds * 10) / 10, signatures, regressions })) }));
  process.exitCode = crashes > 0 ? 1 : 0;
}

if (isMainThread) await main();
else await worker(workerData as Job);
