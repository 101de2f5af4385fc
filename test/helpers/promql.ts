/** The metric names a PromQL expression reads (label matchers, strings, ranges, grouping clauses,
 * function names, keywords and numbers taken out). Enough for the expressions of our dashboard and
 * rules; not a PromQL parser. */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const at = m.index;
    if (at > 0 && /[0-9.]/.test(s[at - 1]!)) continue; // the exponent of a number (1e9)
    if (s.slice(at + m[0].length).trimStart().startsWith('(')) continue; // a function
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    out.add(m[0]);
  }
  return [...out];
}
