/**
 * The learned frequency, kept across restarts like chrony's driftfile, so a restart locks faster.
 * Written atomically (temporary file, then rename). A missing or corrupt file is a warning: the agent
 * starts as if it had none.
 */
import { readFileSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Nanos } from '../time/index.ts';
import { toIso } from '../time/index.ts';

export interface DriftRecord {
  freqPpb: number;
  sigmaPpb: number;
  savedAt: Nanos;
}

export type DriftLoad = { ok: true; record: DriftRecord } | { ok: false; missing: boolean; problem: string };

export function loadDrift(path: string): DriftLoad {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === 'ENOENT', problem: `${path}: ${code ?? String(e)}` };
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const freq = o.freqPpb;
    const sigma = o.sigmaPpb;
    const saved = typeof o.savedAt === 'string' ? Date.parse(o.savedAt) : NaN;
    if (typeof freq !== 'number' || !Number.isFinite(freq) || Math.abs(freq) > 1e6) throw new Error('freqPpb missing or out of range');
    if (typeof sigma !== 'number' || !Number.isFinite(sigma) || sigma < 0) throw new Error('sigmaPpb missing or negative');
    if (Number.isNaN(saved)) throw new Error('savedAt missing or not a time');
    return { ok: true, record: { freqPpb: freq, sigmaPpb: sigma, savedAt: BigInt(saved) * 1_000_000n } };
  } catch (e) {
    return { ok: false, missing: false, problem: `${path}: corrupt (${(e as Error).message})` };
  }
}

export function saveDrift(path: string, r: DriftRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify({ freqPpb: r.freqPpb, sigmaPpb: r.sigmaPpb, savedAt: toIso(r.savedAt, 3) }) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
}

/** The uncertainty of a saved frequency after its age of random-walk wander. A file saved "in the
 * future" (the clock was wrong then or is now, or the file came from elsewhere) is aged by the
 * distance all the same: its age is unknown, not zero. */
export function agedSigma(r: DriftRecord, now: Nanos, wanderPpbPerSqrtS: number): number {
  const age = Math.abs(Number(now - r.savedAt) / 1e9);
  return Math.sqrt(r.sigmaPpb ** 2 + wanderPpbPerSqrtS ** 2 * age);
}
