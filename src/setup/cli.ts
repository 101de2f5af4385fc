/** `stratum1 setup pi` and `stratum1 setup check`: the commands around plan.ts, apply.ts and check.ts. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { args, UsageError, CliError, type Out } from '../cli/common.ts';
import { loadConfig, defaultConfig } from '../config/config.ts';
import { planPi, formatPlan, formatTail, redact, CONFIG_FILE } from './plan.ts';
import { gatherPi, applyPlan, inRoot, StepFailed, GatherError } from './apply.ts';
import { runChecks, formatCheckLine } from './check.ts';

function rootOf(given: string | undefined): string {
  if (given === undefined) return '/';
  const r = resolve(given);
  let dir = false;
  try {
    dir = statSync(r).isDirectory();
  } catch { /* missing */ }
  if (!dir) throw new UsageError(`--root ${given}: not a directory`);
  return r;
}

function pinOf(given: string | undefined): number {
  if (given === undefined) return 4;
  if (!/^\d{1,2}$/.test(given) || Number(given) > 27) throw new UsageError(`--pps-pin ${given}: a BCM GPIO number from 0 to 27`);
  return Number(given);
}

export async function cmdSetup(rest: string[], io: Out): Promise<number> {
  const [what, ...more] = rest;
  if (what === 'pi') return setupPi(more, io);
  if (what === 'check') return setupCheck(more, io);
  throw new UsageError(`setup takes "pi" or "check"${what === undefined ? '' : `, not "${what}"`}`);
}

function setupPi(rest: string[], io: Out): number {
  const a = args(rest, {
    'dry-run': { type: 'boolean' }, root: { type: 'string' }, 'pps-pin': { type: 'string' },
    'disable-wifi': { type: 'boolean' }, 'keep-gpsd': { type: 'boolean' },
  });
  const root = rootOf(a.values.root as string | undefined);
  const opts = { ppsPin: pinOf(a.values['pps-pin'] as string | undefined), disableWifi: a.values['disable-wifi'] === true, keepGpsd: a.values['keep-gpsd'] === true };
  const dry = a.values['dry-run'] === true;
  if (!dry && root === '/' && process.getuid?.() !== 0) throw new CliError('setup pi changes the system: run it as root (sudo), or with --dry-run to see what it would do');
  let state;
  try {
    state = gatherPi(root);
  } catch (e) {
    if (e instanceof GatherError) throw new CliError(`setup pi: ${e.message}`);
    throw e;
  }
  const plan = planPi(state, opts);
  if (plan.errors.length) throw new CliError(`setup pi: ${plan.errors.join('; ')}`);
  const where = root === '/' ? '' : ` under ${root}`;
  if (dry) {
    io.out(`dry run${where}: the changes setup pi would make (nothing is changed)\n${formatPlan(plan)}`);
    return 0;
  }
  io.out(`setup pi${where}:\n`);
  try {
    applyPlan(plan, root, io.out);
  } catch (e) {
    if (e instanceof StepFailed) throw new CliError(`setup pi stopped: ${redact(e.message, plan.secrets)} (the steps above it were done; run it again once fixed)`);
    throw e;
  }
  io.out(formatTail(plan));
  return 0;
}

async function setupCheck(rest: string[], io: Out): Promise<number> {
  const a = args(rest, { config: { type: 'string', short: 'c' }, root: { type: 'string' } });
  const root = rootOf(a.values.root as string | undefined);
  // The installed agent's config first: a checkout's config/stratum1.yaml runs the simulator.
  const given = (a.values.config as string | undefined) ?? process.env.STRATUM1_CONFIG;
  const file = given ?? (existsSync(inRoot(root, CONFIG_FILE)) ? inRoot(root, CONFIG_FILE) : undefined);
  const cfg = file ? loadConfig(file) : defaultConfig();
  io.out(`config: ${file ?? `none (no ${CONFIG_FILE}): the defaults`}\n`);
  const lines = await runChecks({ root, cfg });
  for (const l of lines) io.out(formatCheckLine(l));
  return lines.some((l) => l.result === 'FAIL') ? 1 : 0;
}
