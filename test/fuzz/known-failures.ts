/**
 * KNOWN_FAILURES: crashes found in code this harness may not fix (src/snmp, src/ntp and src/ptp belong
 * to other engineers). Their regression inputs replay as `todo` tests (reported, not counted) until
 * the fix lands, and the quick fuzz budget reports a crash with one of these signatures as known
 * instead of failing; when a todo passes, its entry goes.
 */
export interface KnownFailure {
  /** Where it crashes and why. */
  what: string;
  /** The crash signature (engine.ts signatureOf) it shows. */
  signature: string;
}

// Empty: the seven SNMP agent crashes first listed here (single datagrams whose exceptions reached the
// agent's last safety net) were fixed in src/snmp by its owner; their inputs replay as ordinary
// regressions in test/fuzz/regressions/snmp-agent/.
export const KNOWN_FAILURES: Record<string, Record<string, KnownFailure>> = {};

export function knownSignatures(target: string): Set<string> {
  return new Set(Object.values(KNOWN_FAILURES[target] ?? {}).map((k) => k.signature));
}
