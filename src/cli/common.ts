/** What the commands share: argument parsing, the configuration they read, usage errors, output. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync } from 'node:fs';
import { loadConfig, defaultConfig, type Config } from '../config/config.ts';
import type { Status } from '../status/status.ts';

export type Out = { out: (s: string) => void; err: (s: string) => void };
export const std: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

export class UsageError extends Error {}
/** A command that could not do its work (exit status 2), said in one line. */
export class CliError extends Error {}

export function args(rest: string[], options: NonNullable<ParseArgsConfig['options']>, positionals = 0) {
  try {
    const r = parseArgs({ args: rest, options, allowPositionals: positionals > 0, strict: true });
    if (r.positionals.length > positionals) throw new UsageError(`unexpected argument "${r.positionals[positionals]}"`);
    return r;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(oneLine((e as Error).message));
  }
}

/** parseArgs's message in one sentence: it spends three lines on an option whose value starts with a dash. */
function oneLine(message: string): string {
  const ambiguous = /^Option '(-[^']*)' argument is ambiguous/.exec(message);
  if (ambiguous) return `${ambiguous[1]} needs a value (a value starting with a dash is written ${ambiguous[1]}=-VALUE)`;
  return message.split('\n')[0]!;
}

export const DEFAULT_CONFIG = 'config/stratum1.yaml';
export const SYSTEM_CONFIG = '/etc/stratum1/stratum1.yaml';

/**
 * Which configuration a command reads: --config, else $STRATUM1_CONFIG, else ./config/stratum1.yaml
 * (a checkout), else /etc/stratum1/stratum1.yaml (an installed agent), else none (the defaults). The
 * history commands read the database the configuration names, so they must find the agent's own.
 */
export function configPath(file: string | undefined, env: Record<string, string | undefined> = process.env,
  exists: (p: string) => boolean = existsSync): string | undefined {
  if (file) return file;
  if (env.STRATUM1_CONFIG) return env.STRATUM1_CONFIG;
  for (const p of [DEFAULT_CONFIG, SYSTEM_CONFIG]) if (exists(p)) return p;
  return undefined;
}

export function configFrom(file: string | undefined): Config {
  const p = configPath(file);
  return p ? loadConfig(p) : defaultConfig();
}


/** The running agent's control endpoint, from the configuration. */
export function controlBase(configFile: string | undefined): string {
  const h = configFrom(configFile).control.http;
  const host = h.address.includes(':') ? `[${h.address}]` : h.address;
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${h.port}`;
}

/** The Status URL from what an operator gives --url: the control endpoint's base
 * (http://127.0.0.1:7323, as `traps --url` takes it) or its /status; a UsageError (exit 2) if it is no URL. */
export function statusUrl(given: string): string {
  let u: URL;
  try {
    u = new URL(given);
  } catch {
    throw new UsageError(`--url ${given}: not a URL (for example http://127.0.0.1:7323)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url ${given}: the control endpoint speaks http (for example http://127.0.0.1:7323)`);
  if (!u.pathname.endsWith('/status')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/status`;
  return u.toString();
}

/** Why a request to the agent failed, in words: fetch says only "fetch failed", its cause says why. */
export function whyNot(e: unknown): string {
  const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the agent running? stratum1 run starts it)';
  // Node's fetch will not connect to the ports browsers block (6000, 6665-6669, ...), whatever listens.
  if (cause?.message === 'bad port') return 'fetch will not use this port (one of those browsers block): give control.http.port another';
  if (cause?.message) return cause.message;
  return (e as Error).message;
}

/** A running agent's Status from its control endpoint; a CliError (exit status 2) if none answers. */
export async function fetchStatus(given: string): Promise<Status> {
  const url = statusUrl(given);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    if (res.status === 404) throw new Error('HTTP 404 (no Status there: --url takes the control endpoint\'s address, for example http://127.0.0.1:7323)');
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as Status;
  } catch (e) {
    throw new CliError(`no agent answered at ${url}: ${whyNot(e)}`);
  }
}
