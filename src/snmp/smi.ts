/**
 * The SMIv2 text of our MIB, generated from the definition in mib.ts (`stratum1 mib` prints it,
 * mibs/STRATUM1-AGENT-MIB.txt is a copy a test keeps equal).
 */
import { flatten, TEXTUAL_CONVENTIONS, SCALED_TCS, NOTIFICATIONS, REVISIONS, type Syntax } from './mib.ts';

export const MODULE = 'STRATUM1-AGENT-MIB';
/** Net-SNMP's netSnmpPlaypen (1.3.6.1.4.1.8072.9999), set aside for experiments and private use: a
 * default that squats on nobody's number. A user with their own enterprise number configures it. */
export const DEFAULT_ROOT = '1.3.6.1.4.1.8072.9999.9999';
const ENTERPRISES = '1.3.6.1.4.1';

export function rootUnderEnterprises(root: string): number[] {
  if (!root.startsWith(`${ENTERPRISES}.`)) throw new Error(`the MIB root ${root} must be under enterprises (${ENTERPRISES})`);
  const rest = root.slice(ENTERPRISES.length + 1).split('.').map(Number);
  if (rest.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`not an OID: ${root}`);
  return rest;
}

function syntaxText(s: Syntax): string {
  switch (s.base) {
    case 'Integer32': {
      const type = s.scaled ? s.scaled.tc : 'Integer32';
      return s.range ? `${type} (${s.range[0]}..${s.range[1]})` : type;
    }
    case 'enum': return s.tc;
    default: return s.base;
  }
}

const quote = (t: string) => `"${t.replace(/"/g, "'")}"`;

function wrap(text: string, indent: string, width = 72): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur && (cur + ' ' + w).length > width) {
      lines.push(cur);
      cur = w;
    } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.map((l, i) => (i === 0 ? l : indent + l)).join('\n');
}

function describe(text: string, indent = '        '): string {
  return `${indent.slice(4)}DESCRIPTION\n${indent}${wrap(quote(text), indent)}`;
}

export function generateMib(root = DEFAULT_ROOT): string {
  const rest = rootUnderEnterprises(root);
  const out: string[] = [];
  out.push(`${MODULE} DEFINITIONS ::= BEGIN`, '');
  out.push('IMPORTS');
  out.push('    MODULE-IDENTITY, OBJECT-TYPE, NOTIFICATION-TYPE, Integer32, Gauge32,');
  out.push('    Counter32, TimeTicks, enterprises');
  out.push('        FROM SNMPv2-SMI');
  out.push('    TEXTUAL-CONVENTION, DisplayString, TruthValue, DateAndTime');
  out.push('        FROM SNMPv2-TC');
  out.push('    MODULE-COMPLIANCE, OBJECT-GROUP, NOTIFICATION-GROUP');
  out.push('        FROM SNMPv2-CONF;', '');
  out.push('stratum1AgentMIB MODULE-IDENTITY');
  out.push(`    LAST-UPDATED "${REVISIONS[0]!.date}"`);
  out.push('    ORGANIZATION "stratum1-agent"');
  out.push('    CONTACT-INFO');
  out.push('        "The stratum1-agent project."');
  out.push(describe('The state of a GPS-disciplined time server: its GNSS receiver, its pulse-per-second input, its clock discipline and its NTP service, as stratum1-agent sees them. Generated from the agent\'s own definition of these objects. The default place of this module is under netSnmpPlaypen (1.3.6.1.4.1.8072.9999), which Net-SNMP sets aside for experiments and private use; give the agent your own enterprise number to place it there.', '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
  for (const r of REVISIONS) {
    out.push(`    REVISION "${r.date}"`);
    out.push(describe(r.description, '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
  }
  out.push(`    ::= { enterprises ${rest.join(' ')} }`, '');

  for (const tc of TEXTUAL_CONVENTIONS) {
    if (tc.base !== 'enum') continue;
    out.push(`${tc.tc} ::= TEXTUAL-CONVENTION`);
    out.push('    STATUS current');
    out.push(describe(tc.description ?? `Values of ${tc.tc}.`, '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
    const vals = Object.entries(tc.values).map(([k, v]) => `${k}(${v})`).join(', ');
    out.push(`    SYNTAX INTEGER { ${wrap(vals, '        ', 60)} }`, '');
  }

  for (const tc of SCALED_TCS) {
    out.push(`${tc.tc} ::= TEXTUAL-CONVENTION`);
    out.push(`    DISPLAY-HINT "${tc.hint}"`);
    out.push('    STATUS current');
    out.push(describe(tc.description, '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
    out.push('    SYNTAX Integer32', '');
  }

  const names: string[] = [];
  for (const f of flatten()) {
    const last = f.oid[f.oid.length - 1];
    if (f.group) {
      out.push(`${f.group.name} OBJECT IDENTIFIER ::= { ${f.parent} ${last} }`, '');
    } else if (f.scalar) {
      const s = f.scalar;
      names.push(s.name);
      out.push(`${s.name} OBJECT-TYPE`);
      out.push(`    SYNTAX      ${syntaxText(s.syntax)}`);
      if (s.units) out.push(`    UNITS       "${s.units}"`);
      out.push('    MAX-ACCESS  read-only');
      out.push('    STATUS      current');
      out.push(describe(s.description, '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
      out.push(`    ::= { ${f.parent} ${last} }`, '');
    } else if (f.table) {
      const t = f.table;
      const entryType = t.entry.charAt(0).toUpperCase() + t.entry.slice(1);
      const index = t.columns.filter((c) => c.index);
      out.push(`${t.name} OBJECT-TYPE`);
      out.push(`    SYNTAX      SEQUENCE OF ${entryType}`);
      out.push('    MAX-ACCESS  not-accessible');
      out.push('    STATUS      current');
      out.push(describe(t.description, '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
      out.push(`    ::= { ${f.parent} ${last} }`, '');
      out.push(`${t.entry} OBJECT-TYPE`);
      out.push(`    SYNTAX      ${entryType}`);
      out.push('    MAX-ACCESS  not-accessible');
      out.push('    STATUS      current');
      out.push(describe(`A row of ${t.name}.`, '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
      out.push(`    INDEX       { ${index.map((c) => c.name).join(', ')} }`);
      out.push(`    ::= { ${t.name} 1 }`, '');
      out.push(`${entryType} ::= SEQUENCE {`);
      out.push(t.columns.map((c) => `    ${c.name.padEnd(24)} ${syntaxText(c.syntax).replace(/ \(.*\)$/, '')}`).join(',\n'));
      out.push('}', '');
      for (const c of t.columns) {
        if (!c.index) names.push(c.name);
        out.push(`${c.name} OBJECT-TYPE`);
        out.push(`    SYNTAX      ${syntaxText(c.syntax)}`);
        if (c.units) out.push(`    UNITS       "${c.units}"`);
        out.push(`    MAX-ACCESS  ${c.index ? 'not-accessible' : 'read-only'}`);
        out.push('    STATUS      current');
        out.push(describe(c.description, '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
        out.push(`    ::= { ${t.entry} ${c.sub} }`, '');
      }
    }
  }

  // Notifications live under { ... 2 0 } so that they map to SNMPv1 traps (RFC 3584).
  out.push('s1Notifications OBJECT IDENTIFIER ::= { stratum1AgentMIB 2 }');
  out.push('s1NotificationPrefix OBJECT IDENTIFIER ::= { s1Notifications 0 }', '');
  for (const n of NOTIFICATIONS) {
    out.push(`${n.name} NOTIFICATION-TYPE`);
    out.push(`    OBJECTS { ${wrap([...n.objects, ...(n.columns ?? [])].join(', '), '              ', 60)} }`);
    out.push('    STATUS current');
    out.push(describe(n.description, '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
    out.push(`    ::= { s1NotificationPrefix ${n.sub} }`, '');
  }
  out.push('s1Conformance OBJECT IDENTIFIER ::= { stratum1AgentMIB 3 }');
  out.push('s1Groups OBJECT IDENTIFIER ::= { s1Conformance 1 }');
  out.push('s1Compliances OBJECT IDENTIFIER ::= { s1Conformance 2 }', '');
  out.push('s1ObjectsGroup OBJECT-GROUP');
  out.push(`    OBJECTS { ${wrap(names.join(', '), '              ', 60)} }`);
  out.push('    STATUS current');
  out.push(describe('Every object of this module.', '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
  out.push('    ::= { s1Groups 1 }', '');
  out.push('s1NotificationsGroup NOTIFICATION-GROUP');
  out.push(`    NOTIFICATIONS { ${wrap(NOTIFICATIONS.map((n) => n.name).join(', '), '              ', 60)} }`);
  out.push('    STATUS current');
  out.push(describe('Every notification of this module.', '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
  out.push('    ::= { s1Groups 2 }', '');
  out.push('s1Compliance MODULE-COMPLIANCE');
  out.push('    STATUS current');
  out.push(describe('An agent that implements this module implements all of it.', '        ').replace(/^ {4}DESCRIPTION/, '    DESCRIPTION'));
  out.push('    MODULE -- this module');
  out.push('        MANDATORY-GROUPS { s1ObjectsGroup, s1NotificationsGroup }');
  out.push('    ::= { s1Compliances 1 }', '');
  out.push('END', '');
  return out.join('\n');
}

