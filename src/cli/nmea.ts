/**
 * `stratum1 nmea`: the running agent's raw NMEA stream (GET /nmea), as `gpspipe -r` prints gpsd's:
 * each line as the receiver sent it, checksum and all, until --count lines or --seconds have passed
 * (or Ctrl-C). Only whole lines are printed.
 */
import { args, controlBase, statusUrl, std, UsageError, CliError, whyNot, type Out } from './common.ts';

/** The control endpoint's base from --url (its base, or any of its paths that `statusUrl` knows), or
 * from the configuration. */
function baseOf(url: string | undefined, config: string | undefined): string {
  if (url === undefined) return controlBase(config);
  return statusUrl(url.replace(/\/nmea\/?$/, '')).replace(/\/status$/, '');
}

export async function cmdNmea(rest: string[], io: Out): Promise<number> {
  const a = args(rest, { config: { type: 'string', short: 'c' }, url: { type: 'string' }, count: { type: 'string', short: 'n' }, seconds: { type: 'string' } });
  const count = a.values.count === undefined ? Infinity : Number(a.values.count);
  if (a.values.count !== undefined && (!/^\d+$/.test(a.values.count as string) || count < 1 || count > 1e12)) {
    throw new UsageError(`--count takes a whole number of sentences (1 or more), not "${String(a.values.count)}"`);
  }
  const seconds = a.values.seconds === undefined ? Infinity : Number(a.values.seconds);
  if (a.values.seconds !== undefined && (!/^\d+(\.\d+)?$/.test(a.values.seconds as string) || !(seconds > 0) || seconds > 366 * 86400)) {
    throw new UsageError(`--seconds takes a number of seconds above 0 (up to a year), not "${String(a.values.seconds)}"`);
  }
  const base = baseOf(a.values.url as string | undefined, a.values.config as string | undefined);
  const url = `${base}/nmea`;
  const ac = new AbortController();
  const connecting = setTimeout(() => ac.abort(new Error('no answer within 3 s')), 3000);
  let res: Response;
  try {
    res = await fetch(url, { signal: ac.signal });
  } catch (e) {
    throw new CliError(`no agent answered at ${base}: ${whyNot(e)}`);
  } finally {
    clearTimeout(connecting);
  }
  if (!res.ok) {
    const why = (await res.text().catch(() => '')).trim().split('\n')[0]!.slice(0, 300);
    ac.abort();
    if (res.status === 404 && why.startsWith('not found')) throw new CliError(`the agent at ${base} serves no NMEA stream (an older agent)`);
    throw new CliError(`the agent at ${base} refused the NMEA stream (HTTP ${res.status})${why ? `: ${why}` : ''}`);
  }
  if (!res.body) throw new CliError(`the agent at ${base} sent no stream`);

  // Bytes out as they came in: straight to stdout when it is ours (latin1 through `io` otherwise).
  const toStdout = io === std;
  let stdoutGone = false;
  const onStdoutError = () => {
    stdoutGone = true; // a closed pipe (| head): the reader is done, and so are we
    ac.abort();
  };
  if (toStdout) process.stdout.on('error', onStdoutError);
  const write = async (b: Buffer) => {
    if (!toStdout) {
      io.out(b.toString('latin1'));
      return;
    }
    if (!process.stdout.write(b)) {
      await new Promise<void>((r) => {
        const done = () => {
          process.stdout.off('drain', done);
          process.stdout.off('error', done);
          r();
        };
        process.stdout.once('drain', done).once('error', done);
      });
    }
  };
  let timedOut = false;
  const timer = Number.isFinite(seconds) ? setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, seconds * 1000) : undefined;
  let lines = 0;
  let pending = Buffer.alloc(0);
  const reader = res.body.getReader();
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (timedOut || stdoutGone) return 0;
        throw new CliError(`the stream from ${base} broke after ${lines} sentences: ${(e as Error).message}`);
      }
      if (chunk.done) {
        throw new CliError(`the agent at ${base} ended the stream after ${lines} sentences (it stopped, or dropped this reader for falling behind)`);
      }
      pending = pending.length ? Buffer.concat([pending, chunk.value]) : Buffer.from(chunk.value);
      // Whole lines only, and no more than --count of them.
      let end = 0;
      for (let i = pending.indexOf(0x0a); i >= 0 && lines < count; i = pending.indexOf(0x0a, i + 1)) {
        end = i + 1;
        lines++;
      }
      if (end > 0) {
        await write(pending.subarray(0, end));
        pending = pending.subarray(end);
      }
      if (lines >= count || stdoutGone) return 0;
      if (pending.length > 64 * 1024) throw new CliError(`the stream from ${base} is not lines of NMEA (64 KB without a line end)`);
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
    if (toStdout) process.stdout.off('error', onStdoutError);
  }
}
