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

export const KNOWN_FAILURES: Record<string, Record<string, KnownFailure>> = {
  // Every one is an exception thrown inside the agent's request handling and caught only by its last
  // safety net (SnmpAgent's `failed`: stats.errors, no reply), from a single datagram.
  'snmp-agent': {
    '5584dc4888e6.hex': {
      what: 'src/snmp/agent.ts setRequest echoes an undecodable SET value (OctetString cut short) into the response; encoding it in sendResponse throws',
      signature: 'TypeError: argument must be a buffer @ node_modules/asn1-ber/lib/ber/writer.js:141',
    },
    '5b9b69903504.hex': {
      what: 'src/snmp/agent.ts setRequest echoes a varbind of an unknown ASN.1 type (tag 0x03) into the response; encoding it throws',
      signature: "RequestInvalidError: Unknown type 'N' in request @ node_modules/net-snmp/index.js:643",
    },
    '6745c26764a7.hex': {
      what: 'GET of an OID whose first arc is not 0, 1 or 2: net-snmp Mib.lookup throws inside Agent.request (getRequest wrapper, src/snmp/agent.ts)',
      signature: 'RangeError: object identifier does not begin with N, N, or N @ node_modules/net-snmp/index.js:5087',
    },
    '6c20d1fbc736.hex': {
      what: 'src/snmp/agent.ts setRequest echoes a varbind whose OID is empty (06 00) into the response; encoding the OID throws in asn1-ber',
      signature: 'Error: argument is not a valid OID string @ node_modules/asn1-ber/lib/ber/writer.js:175',
    },
    'e68d71ea39ce.hex': {
      what: 'SNMPv3 message (no user, reportable) whose scoped PDU request-id is a 5-octet INTEGER: net-snmp answers with a Report before the agent\'s int32 check (admit) runs, and writing the id throws in Listener.send (caught as failed("reply"))',
      signature: 'RangeError: Integer to write -N is outside the signed N-bit range @ node_modules/net-snmp/index.js:566',
    },
    'b2b42ab82e43.hex': {
      what: 'GET of an empty OID (06 00): net-snmp Mib.lookup throws inside Agent.request (getRequest wrapper, src/snmp/agent.ts)',
      signature: 'TypeError: object identifier component NaN is malformed @ node_modules/net-snmp/index.js:5079',
    },
    'd17c4c399aff.hex': {
      what: 'GET of an OID with a component over 2^32-1 (decoded as 4294967043): net-snmp Mib.lookup throws inside Agent.request',
      signature: 'RangeError: object identifier component N is too large @ node_modules/net-snmp/index.js:5099',
    },
  },
};

export function knownSignatures(target: string): Set<string> {
  return new Set(Object.values(KNOWN_FAILURES[target] ?? {}).map((k) => k.signature));
}
