/**
 * A unified diff of two texts (pure), as `diff -u` prints it: what `stratum1 setup pi --dry-run` shows
 * for each file it would change. Line-based, from a longest common subsequence: the files setup edits
 * (config.txt, cmdline.txt, /etc/default/gpsd, the unit, the agent's config) are at most a few thousand
 * lines, so the quadratic table stays small; larger inputs fall back to one hunk of everything.
 */

/** Marks a last line without its newline, so that it differs from the same text with one (as in diff). */
const NO_EOL = '\u0000';

/** The lines of a text, without their newlines; a missing file is no lines. */
function lines(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  else l[l.length - 1] += NO_EOL;
  return l;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

function edits(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n * m > 25_000_000) {
    return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  }
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..], in one flat array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i * w + j + 1]! >= lcs[(i + 1) * w + j]!)) {
      out.push({ kind: '+', line: b[j++]! });
    } else {
      out.push({ kind: '-', line: a[i++]! });
    }
  }
  // Deletions before insertions within a run of changes, as diff -u prints them.
  for (let k = 0; k < out.length;) {
    if (out[k]!.kind === ' ') {
      k++;
      continue;
    }
    let e = k;
    while (e < out.length && out[e]!.kind !== ' ') e++;
    const run = out.slice(k, e);
    out.splice(k, e - k, ...run.filter((o) => o.kind === '-'), ...run.filter((o) => o.kind === '+'));
    k = e;
  }
  return out;
}

/**
 * The unified diff from `before` to `after` with `context` lines around each change, headed
 * `--- a/PATH` and `+++ b/PATH` (`/dev/null` for a file that does not exist); '' when they are equal.
 * A text without a final newline gets diff's "\ No newline at end of file" marker.
 */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined, context = 3): string {
  if (before === after) return '';
  const a = lines(before);
  const b = lines(after);
  const ops = edits(a, b);
  const rel = path.replace(/^\/+/, '');
  let out = `--- ${before === undefined ? '/dev/null' : `a/${rel}`}\n+++ ${after === undefined ? '/dev/null' : `b/${rel}`}\n`;
  const changed = ops.map((o, k) => (o.kind === ' ' ? -1 : k)).filter((k) => k >= 0);
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const start = Math.max(0, k - context);
    const end = Math.min(ops.length, k + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  // Line numbers at each position of ops.
  const aAt: number[] = [];
  const bAt: number[] = [];
  let ai = 0;
  let bi = 0;
  for (const o of ops) {
    aAt.push(ai);
    bAt.push(bi);
    if (o.kind !== '+') ai++;
    if (o.kind !== '-') bi++;
  }
  for (const [s, e] of hunks) {
    const body = ops.slice(s, e);
    const aLen = body.filter((o) => o.kind !== '+').length;
    const bLen = body.filter((o) => o.kind !== '-').length;
    const range = (start: number, len: number) => (len === 1 ? `${start + 1}` : `${len === 0 ? start : start + 1},${len}`);
    out += `@@ -${range(aAt[s]!, aLen)} +${range(bAt[s]!, bLen)} @@\n`;
    for (const o of ops.slice(s, e)) {
      out += o.line.endsWith(NO_EOL) ? `${o.kind}${o.line.slice(0, -1)}\n\\ No newline at end of file\n` : `${o.kind}${o.line}\n`;
    }
  }
  return out;
}
