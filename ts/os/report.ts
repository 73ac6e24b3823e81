// A host's OS report in each output, as nmap 7.93 writes it (output.cc: printosscanoutput,
// printosclassificationoutput, write_xml_osmatch): the normal output's lines ("Device type:",
// "Running:", "OS CPE:", "OS details:", "Aggressive OS guesses:", the fingerprint block, the
// uptime, distance and sequence lines), the XML elements after <ports>, the grepable fields
// and the JSON object.
import { ctime, xmlAttr } from '../output/format.js';
import type { OsClass, OsReport } from './detect.js';

export interface OsReportOptions {
  /** -v count. */
  verbose: number;
  /** --osscan-guess / --fuzzy. */
  guess: boolean;
}

/** nmap's MAX_OS_CLASSMEMBERS: more device types, CPEs or families than this and the summary lines are left out. */
const MAX_CLASS_MEMBERS = 8;
const SUBMIT = 'https://nmap.org/submit/';

const percent = (accuracy: number): string => `${Math.floor(accuracy * 100)}%`;

/** "Device type:", "Running:" and "OS CPE:" from the classes (nmap's printosclassificationoutput). */
export function classificationLines(os: OsReport, guess: boolean): string[] {
  if (os.classOutcome !== 'success') return [];
  const classes = os.classes;
  const types: string[] = [];
  const cpes: string[] = [];
  const families: { name: string; generations: string; accuracy: number }[] = [];
  let overflow = false;
  const addNew = (list: string[], item: string): void => {
    if (list.includes(item)) return;
    if (list.length >= MAX_CLASS_MEMBERS) overflow = true;
    else list.push(item);
  };
  for (const [i, c] of classes.entries()) {
    if ((!guess && i >= os.classPerfect) || c.accuracy <= classes[0].accuracy - 0.1 || (c.accuracy < 1 && i > 9)) break;
    addNew(types, c.type);
    for (const cpe of c.cpe) addNew(cpes, cpe);
    const name = c.vendor === c.family ? c.family : `${c.vendor} ${c.family}`;
    const known = families.find((f) => f.name === name);
    if (known) {
      // nmap looks the generation up as a substring of those already listed
      if (c.generation !== undefined && !known.generations.includes(c.generation)) known.generations += known.generations ? `|${c.generation}` : c.generation;
      continue;
    }
    if (families.length >= MAX_CLASS_MEMBERS) {
      overflow = true;
      break;
    }
    families.push({ name, generations: (c.generation ?? '').slice(0, 47), accuracy: c.accuracy });
  }
  if (overflow || families.length === 0) return [];
  const running = families
    .map((f, i) => `${f.name}${f.generations ? ` ${f.generations}` : ''}${i >= os.classPerfect ? ` (${percent(f.accuracy)})` : ''}`)
    .join(', ');
  const lines = [`Device type: ${types.join('|')}`, `Running${os.classPerfect === 0 ? ' (JUST GUESSING)' : ''}: ${running}`];
  if (cpes.length > 0) lines.push(`OS CPE: ${cpes.join(' ')}`);
  return lines;
}

/** The fingerprint block: "TCP/IP fingerprint:", the print, and the blank line nmap leaves. */
function fingerprintLines(fp: string): string[] {
  return ['TCP/IP fingerprint:', ...fp.replace(/\n$/, '').split('\n'), ''];
}

/** Which matches the report lists: all perfect ones, else up to ten within 10% of the best. */
export function listedMatches(os: OsReport): OsReport['matches'] {
  if (os.outcome !== 'success' || os.perfect > 8) return [];
  if (os.perfect > 0) return os.matches.slice(0, os.perfect);
  const best = os.matches[0]?.accuracy ?? 0;
  const out = [];
  for (const [i, m] of os.matches.entries()) {
    if (i >= 10 || !(m.accuracy > best - 0.1)) break;
    out.push(m);
  }
  return out;
}

/** Whether the report prints the fingerprint, and in which form. */
function fingerprintShown(os: OsReport, verbose: number): 'wrapped' | 'plain' | undefined {
  const reason = os.omitReason;
  if (os.outcome === 'success' && os.perfect <= 8) {
    if (os.perfect > 0) return verbose > 1 ? 'wrapped' : undefined;
    if (!reason) return 'wrapped';
    return verbose > 1 ? 'plain' : undefined;
  }
  if (os.outcome === 'no-matches' && !reason) return 'wrapped';
  return verbose > 1 ? 'plain' : undefined;
}

/** Days of uptime as nmap prints them: three decimals. */
function uptimeDays(os: OsReport): { seconds: number; since: string } | undefined {
  const boot = os.sequence?.lastBoot;
  if (!boot) return undefined;
  const seconds = Math.floor(os.at.getTime() / 1000) - boot;
  return { seconds, since: ctime(new Date(boot * 1000)) };
}

/** The OS lines of a host's normal report, after its MAC address line. */
export function osNormalLines(os: OsReport, o: OsReportOptions): string[] {
  const lines: string[] = [];
  if (os.error !== undefined) return lines;
  const reason = os.omitReason;
  if (os.unreliable && !(os.outcome === 'too-many-matches' || os.perfect > 8))
    lines.push('Warning: OSScan results may be unreliable because we could not find at least 1 open and 1 closed port');
  lines.push(...classificationLines(os, o.guess || reason !== undefined));
  const fp = fingerprintShown(os, o.verbose);
  const block = (): string[] => (fp === 'wrapped' ? fingerprintLines(os.fingerprint) : fp === 'plain' ? fingerprintLines(os.fingerprintPlain) : []);
  if (os.outcome === 'success' && os.perfect <= 8) {
    if (os.perfect > 0) {
      lines.push(`OS details: ${os.matches.slice(0, os.perfect).map((m) => m.name).join(', ')}`);
      lines.push(...block());
    } else {
      if (o.verbose > 1 && reason) lines.push(`OS fingerprint not ideal because: ${reason}`);
      const guesses = listedMatches(os);
      if ((o.guess || reason) && guesses.length > 0) lines.push(`Aggressive OS guesses: ${guesses.map((m) => `${m.name} (${percent(m.accuracy)})`).join(', ')}`);
      if (!reason) lines.push(`No exact OS matches for host (If you know what OS is running on it, see ${SUBMIT} ).`);
      else lines.push('No exact OS matches for host (test conditions non-ideal).');
      lines.push(...block());
    }
  } else if (os.outcome === 'no-matches') {
    if (!reason) lines.push(`No OS matches for host (If you know what OS is running on it, see ${SUBMIT} ).`);
    else lines.push(`OS fingerprint not ideal because: ${reason}`, 'No OS matches for host');
    lines.push(...block());
  } else {
    lines.push('Too many fingerprints match this host to give specific OS details');
    lines.push(...block());
  }
  const up = uptimeDays(os);
  if (up && o.verbose) lines.push(`Uptime guess: ${(up.seconds / 86400).toFixed(3)} days (since ${up.since})`);
  if (os.distance !== undefined) lines.push(`Network Distance: ${os.distance} hop${os.distance === 1 ? '' : 's'}`);
  const seq = os.sequence;
  if (seq && seq.responses > 3 && o.verbose) lines.push(`TCP Sequence Prediction: Difficulty=${seq.index} (${seq.difficulty})`);
  if (seq && seq.responses > 2 && o.verbose) lines.push(`IP ID Sequence Generation: ${seq.ipidClass}`);
  return lines;
}

const hex = (values: readonly number[]): string => values.map((v) => v.toString(16).toUpperCase()).join(',');
const attrs = (pairs: [string, string | number | undefined][]): string =>
  pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(v as string | number)}"`)
    .join('');

function osclassXml(c: OsClass, accuracy: number): string {
  const head = `<osclass${attrs([['type', c.type], ['vendor', c.vendor], ['osfamily', c.family], ['osgen', c.generation], ['accuracy', Math.floor(accuracy * 100)]])}`;
  if (c.cpe.length === 0) return `${head}/>\n`;
  return `${head}>${c.cpe.map((x) => `<cpe>${xmlAttr(x)}</cpe>`).join('')}</osclass>\n`;
}

/** The host's <os> element and the <uptime>, <distance> and sequence elements after it. */
export function osXml(os: OsReport, o: OsReportOptions): string {
  if (os.error !== undefined) return '';
  let s = '<os>';
  for (const [state, proto, port] of [
    ['open', 'tcp', os.openTcpPort],
    ['closed', 'tcp', os.closedTcpPort],
    ['closed', 'udp', os.closedUdpPort],
  ] as const) {
    if (port !== undefined && port > 0) s += `<portused${attrs([['state', state], ['proto', proto], ['portid', port]])}/>\n`;
  }
  for (const m of listedMatches(os)) {
    const head = `<osmatch${attrs([['name', m.name], ['accuracy', Math.floor(m.accuracy * 100)], ['line', m.line]])}`;
    s += m.classes.length === 0 ? `${head}/>\n` : `${head}>\n${m.classes.map((c) => osclassXml(c, m.accuracy)).join('')}</osmatch>\n`;
  }
  const fp = fingerprintShown(os, o.verbose);
  if (fp) s += `<osfingerprint${attrs([['fingerprint', fp === 'wrapped' ? os.fingerprint : os.fingerprintPlain]])}/>\n`;
  s += '</os>\n';
  const up = uptimeDays(os);
  if (up) s += `<uptime${attrs([['seconds', up.seconds], ['lastboot', up.since]])}/>\n`;
  if (os.distance !== undefined) s += `<distance value="${os.distance}"/>\n`;
  const seq = os.sequence;
  if (seq && seq.responses > 3) s += `<tcpsequence${attrs([['index', seq.index], ['difficulty', seq.difficulty], ['values', hex(seq.values)]])}/>\n`;
  if (seq && seq.responses > 2) {
    s += `<ipidsequence${attrs([['class', seq.ipidClass], ['values', hex(seq.ipids)]])}/>\n`;
    s += `<tcptssequence${attrs([['class', seq.tsClass], ['values', seq.tsValues ? hex(seq.timestamps) : undefined]])}/>\n`;
  }
  return s;
}

/** The grepable fields nmap appends to a host's line: "\tOS: ...\tSeq Index: ...\tIP ID Seq: ...". */
export function osGrepable(os: OsReport): string {
  if (os.error !== undefined) return '';
  let s = '';
  if (os.outcome === 'success' && os.perfect > 0 && os.perfect <= 8) s += `\tOS: ${os.matches.slice(0, os.perfect).map((m) => m.name).join('|')}`;
  const seq = os.sequence;
  if (seq && seq.responses > 3) s += `\tSeq Index: ${seq.index}`;
  if (seq && seq.responses > 2) s += `\tIP ID Seq: ${seq.ipidClass}`;
  return s;
}

/** The host's "os" object in JSON and NDJSON output (docs/json-output.md). */
export function osJson(os: OsReport): Record<string, unknown> {
  const up = uptimeDays(os);
  return {
    ...(os.error !== undefined && { error: os.error }),
    outcome: os.outcome,
    matches: os.matches.map((m) => ({ name: m.name, accuracy: Math.floor(m.accuracy * 100), line: m.line, classes: m.classes.map(({ accuracy: _, ...c }) => c) })),
    perfect: os.perfect,
    classes: os.classes.map((c) => ({ ...c, accuracy: Math.floor(c.accuracy * 100) })),
    ...(os.distance !== undefined && { distance: os.distance, distanceMethod: os.distanceMethod }),
    portsUsed: { openTcp: os.openTcpPort ?? null, closedTcp: os.closedTcpPort ?? null, closedUdp: os.closedUdpPort ?? null },
    unreliable: os.unreliable,
    tries: os.tries,
    fingerprint: os.fingerprint,
    ...(os.omitReason !== undefined && { notIdeal: os.omitReason }),
    ...(up && { uptime: { seconds: up.seconds, lastBoot: up.since } }),
    ...(os.sequence && {
      tcpSequence: { index: os.sequence.index, difficulty: os.sequence.difficulty, values: os.sequence.values },
      ipIdSequence: { class: os.sequence.ipidClass, values: os.sequence.ipids },
      tcpTimestampSequence: { class: os.sequence.tsClass, ...(os.sequence.tsValues && { values: os.sequence.timestamps }) },
    }),
  };
}
