// Output formats on the lab, checked with nmap's own tools against nmap's own run of the
// same scan: XML valid against nmap.dtd (xmllint), no port differences in Debian's ndiff,
// rendered by nmap.xsl (xsltproc), grepable host lines identical to nmap's; JSON, NDJSON,
// CSV and list output parsed and compared with the XML; -v streaming; and interrupted
// scans (SIGINT, SIGTERM) that still leave well-formed files.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describe, useLab } from './helpers/lab.js';
import { specPorts } from './helpers/lab-spec.js';
import { grepableHostLines, ndiffDifferences, readText, renderHtml, scratch, startFerroscan, validateXml, waitFor } from './helpers/output-tools.js';

const lab = useLab(test);

/** Runs nmap and ferroscan with the same scan arguments, each writing -oX and -oG into `dir`. */
async function both(t: ExecutionContext, dir: string, scanArgs: string[]): Promise<void> {
  const nm = await lab().nmap([...scanArgs, '-oX', join(dir, 'nmap.xml'), '-oG', join(dir, 'nmap.gnmap')]);
  t.is(nm.code, 0, describe('nmap', nm));
  const fs = await lab().ferroscan([...scanArgs, '-oX', join(dir, 'fs.xml'), '-oG', join(dir, 'fs.gnmap')]);
  t.is(fs.code, 0, describe('ferroscan', fs));
}

/** The <port>/<extraports> of one host, as written. */
const portsBlock = (xml: string): string => /<ports>[\s\S]*?<\/ports>/.exec(xml)?.[0] ?? '';

test.serial('lab rule ports: XML valid, no ndiff port differences, rendered by nmap.xsl, grepable as nmap', async (t) => {
  const dir = scratch(t);
  const addr = lab().facts.targetAddr;
  await both(t, dir, ['-sS', '-Pn', '-n', '--reason', '-p', specPorts.join(','), addr]);
  const nmapXml = join(dir, 'nmap.xml');
  const fsXml = join(dir, 'fs.xml');
  t.true(validateXml(nmapXml).ok, 'nmap\'s own XML validates (the checker works)');
  const v = validateXml(fsXml);
  t.true(v.ok, v.out);

  const { diffs, text } = ndiffDifferences(nmapXml, fsXml);
  t.deepEqual(diffs, [], text);
  // The same check must see a difference when there is one.
  const mutated = join(dir, 'mutated.xml');
  writeFileSync(mutated, readFileSync(fsXml, 'utf8').replace('portid="22"><state state="open" reason="syn-ack"', 'portid="22"><state state="closed" reason="reset"'));
  t.true(ndiffDifferences(nmapXml, mutated).diffs.some((d) => d.includes('portid="22"')), 'a flipped port shows as a portdiff');

  t.is(portsBlock(readFileSync(fsXml, 'utf8')), portsBlock(readFileSync(nmapXml, 'utf8')), 'the <ports> element is byte for byte nmap\'s');

  const html = renderHtml(fsXml);
  t.true(html.ok, html.err);
  for (const p of specPorts) t.regex(html.html, new RegExp(`<td>${p}</td>`), `port ${p} in the HTML report`);

  t.deepEqual(grepableHostLines(readText(join(dir, 'fs.gnmap'))), grepableHostLines(readText(join(dir, 'nmap.gnmap'))));
});

test.serial('ports 1-1000, a silent address, -v: extraports, down hosts and grepable lines as nmap', async (t) => {
  const dir = scratch(t);
  const addr = lab().facts.targetAddr;
  const silent = addr.replace(/\.\d+$/, '.7');
  await both(t, dir, ['-v', '-sS', '-n', '-p', '1-1000', addr, silent]);
  const fsXmlText = readFileSync(join(dir, 'fs.xml'), 'utf8');
  const v = validateXml(join(dir, 'fs.xml'));
  t.true(v.ok, v.out);
  t.is(portsBlock(fsXmlText), portsBlock(readFileSync(join(dir, 'nmap.xml'), 'utf8')));
  t.regex(fsXmlText, new RegExp(`<host><status state="down" reason="no-response" reason_ttl="0"/>\\n<address addr="${silent.replace(/\./g, '\\.')}" addrtype="ipv4"/>\\n</host>`));
  t.regex(fsXmlText, /<taskbegin task="SYN Stealth Scan" time="\d+"\/>/);
  t.regex(fsXmlText, /<hosts up="1" down="1" total="2"\/>/);
  const { diffs, text } = ndiffDifferences(join(dir, 'nmap.xml'), join(dir, 'fs.xml'));
  t.deepEqual(diffs, [], text);
  t.true(renderHtml(join(dir, 'fs.xml')).ok);
  // nmap lists hosts in the order its phases finish them; compare as sets of lines.
  t.deepEqual(grepableHostLines(readText(join(dir, 'fs.gnmap'))).sort(), grepableHostLines(readText(join(dir, 'nmap.gnmap'))).sort());
  t.regex(readText(join(dir, 'fs.gnmap')), /^# Ports scanned: TCP\(1000;1-1000\) UDP\(0;\) SCTP\(0;\) PROTOCOLS\(0;\)$/m);
});

test.serial('every format in one run, XML on stdout: all agree with each other', async (t) => {
  const dir = scratch(t);
  const addr = lab().facts.targetAddr;
  const f = (name: string): string => join(dir, name);
  const r = await lab().ferroscan(['-Pn', '-n', '-p', specPorts.join(','), addr, '-oX', '-', '-oN', f('a.nmap'), '-oG', f('a.gnmap'), '-oJ', f('a.json'), '--ndjson', f('a.ndjson'), '--csv', f('a.csv'), '-oL', f('a.list'), '-oA', f('all')]);
  t.is(r.code, 0, describe('ferroscan', r));
  t.true(r.stdout.startsWith('<?xml '), 'stdout holds only the XML');
  writeFileSync(f('stdout.xml'), r.stdout);
  const v = validateXml(f('stdout.xml'));
  t.true(v.ok, v.out);
  for (const ext of ['nmap', 'xml', 'gnmap']) t.true(readText(f(`all.${ext}`)).length > 0, `-oA wrote all.${ext}`);
  t.true(validateXml(f('all.xml')).ok);

  // The XML's verdicts are the reference for the other formats.
  const xmlPorts = [...r.stdout.matchAll(/<port protocol="tcp" portid="(\d+)"><state state="([^"]+)" reason="([^"]+)" reason_ttl="(\d+)"/g)].map((m) => `${m[1]} ${m[2]} ${m[3]} ${m[4]}`);
  t.is(xmlPorts.length, specPorts.length);
  const open = xmlPorts.filter((p) => p.includes(' open ')).map((p) => Number(p.split(' ')[0])).sort((a, b) => a - b);
  t.true(open.length > 0);

  const doc = JSON.parse(readText(f('a.json')));
  t.is(doc.runstats.exit, 'success');
  t.deepEqual(doc.hosts[0].ports.map((p: { port: number; state: string; reason: string; reason_ttl: number }) => `${p.port} ${p.state} ${p.reason} ${p.reason_ttl}`), xmlPorts);

  const lines = readText(f('a.ndjson')).split('\n');
  t.is(lines.pop(), '', 'NDJSON ends with a newline');
  const objs = lines.map((l) => JSON.parse(l));
  t.is(objs[0].type, 'begin');
  t.is(objs.at(-1).type, 'end');
  const streamedOpen = objs.filter((o) => o.type === 'port' && o.state === 'open').map((o) => o.port).sort((a: number, b: number) => a - b);
  t.deepEqual(streamedOpen, open);
  t.deepEqual(objs.find((o) => o.type === 'host').ports, doc.hosts[0].ports);

  const csv = readText(f('a.csv')).trimEnd().split('\r\n');
  t.is(csv[0], 'address,hostname,protocol,port,state,reason,reason_ttl,reason_ip,service');
  t.deepEqual(csv.slice(1).map((row) => { const c = row.split(','); return `${c[3]} ${c[4]} ${c[5]} ${c[6]}`; }), xmlPorts);

  const list = readText(f('a.list')).split('\n');
  t.is(list[0], '#masscan');
  t.is(list.at(-2), '# end');
  t.deepEqual(list.slice(1, -2).map((l) => { const m = /^open tcp (\d+) (\S+) (\d+)$/.exec(l); t.truthy(m, l); t.is(m?.[2], addr); return Number(m?.[1]); }).sort((a, b) => a - b), open);

  t.regex(readText(f('a.nmap')), /^# ferroscan \S+ scan initiated .* as: ferroscan /);
  t.regex(readText(f('a.nmap')), /\n# ferroscan done at .* -- 1 IP address \(1 host up\) scanned in [\d.]+ seconds\n$/);
});

test.serial('-v announces each open port; NDJSON and list lines reach the files while the scan runs', async (t) => {
  const dir = scratch(t);
  const addr = lab().facts.targetAddr;
  const fast = await lab().ferroscan(['-v', '-Pn', '-n', '-p', specPorts.join(','), addr]);
  t.is(fast.code, 0, describe('ferroscan', fast));
  const announced = [...fast.stdout.matchAll(/^Discovered open port (\d+)\/tcp on (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  const reported = [...fast.stdout.matchAll(/^(\d+)\/tcp\s+open\s/gm)].map((m) => `${m[1]} ${addr}`).sort();
  t.true(reported.length > 0);
  t.deepEqual(announced, reported);
  t.true(fast.stdout.indexOf('Discovered open port') < fast.stdout.indexOf('scan report for'), 'announced before the report');

  // 1-300 at 20 packets/s takes ~15 s: lines must appear long before the end.
  const run = startFerroscan(lab(), ['-Pn', '-n', '--rate', '20', '-p', '1-300', addr, '--ndjson', 'live.ndjson', '-oL', 'live.list'], dir);
  try {
    // While the scan runs the text goes to NAME.part, renamed over NAME at the end.
    await waitFor('an NDJSON port line', () => readText(join(dir, 'live.ndjson.part')).includes('"type":"port"'));
    t.is(run.child.exitCode, null, 'the scan is still running');
    t.true(readText(join(dir, 'live.ndjson.part')).endsWith('\n'), 'only complete lines');
    t.false(existsSync(join(dir, 'live.ndjson')), 'NAME appears when the run ends');
  } finally {
    run.child.kill('SIGTERM');
  }
  const r = await run.done;
  t.is(r.code, 143, describe('ferroscan', r));
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test.serial(`${signal} during a slow scan leaves every file well-formed`, async (t) => {
    const dir = scratch(t);
    const addr = lab().facts.targetAddr;
    const run = startFerroscan(lab(), ['-Pn', '-n', '--rate', '50', '-p', '1-3000', addr, '-oX', 'i.xml', '-oJ', 'i.json', '--ndjson', 'i.ndjson', '-oG', 'i.gnmap', '-oN', 'i.nmap', '--csv', 'i.csv', '-oL', 'i.list'], dir);
    try {
      await waitFor('the scan to report a port', () => readText(join(dir, 'i.ndjson.part')).includes('"type":"port"'));
      await new Promise((r) => setTimeout(r, 500));
      t.is(run.child.exitCode, null, 'still scanning when signalled');
    } finally {
      run.child.kill(signal);
    }
    const r = await run.done;
    t.is(r.code, signal === 'SIGINT' ? 130 : 143, describe('ferroscan', r));
    // The only thing on stderr: how to continue. Run as root with its outputs in a root-only
    // directory, the scan keeps root (its files are renamed into place at the end, which
    // nobody could not do there: ts/cli/plan.ts), so its resume file is written.
    t.regex(r.stderr, /^ferroscan: interrupted; to continue: ferroscan --resume ferroscan\.resume\n$/);
    const msg = `caught ${signal} signal, cleaning up`;

    const xml = readText(join(dir, 'i.xml'));
    const v = validateXml(join(dir, 'i.xml'));
    t.true(v.ok, v.out);
    t.regex(xml, new RegExp(`<finished [^>]*exit="error" errormsg="${msg}"/><hosts up="1" down="0" total="1"/>\\n</runstats>\\n</nmaprun>\\n$`));
    t.true(renderHtml(join(dir, 'i.xml')).ok);
    // Only ports that answered are reported: an interrupted scan has not probed the rest.
    const listed = [...xml.matchAll(/<port protocol/g)].length + [...xml.matchAll(/<extraports state="[^"]+" count="(\d+)"/g)].reduce((n, m) => n + Number(m[1]), 0);
    t.true(listed > 0 && listed < 3000, `${listed} ports reported`);
    t.false(xml.includes('reason="no-response"'));

    const doc = JSON.parse(readText(join(dir, 'i.json')));
    t.like(doc.runstats, { exit: 'error', errormsg: msg });
    t.is(doc.hosts.length, 1);

    const lines = readText(join(dir, 'i.ndjson')).split('\n');
    t.is(lines.pop(), '');
    const objs = lines.map((l) => JSON.parse(l));
    t.like(objs.at(-1), { type: 'end', exit: 'error', errormsg: msg });

    t.regex(readText(join(dir, 'i.gnmap')), /\n# ferroscan done at .*\n$/);
    t.regex(readText(join(dir, 'i.nmap')), /\n# ferroscan done at .*\n$/);
    t.regex(readText(join(dir, 'i.csv')), /^address,hostname,protocol,port,state/);
    t.regex(readText(join(dir, 'i.list')), /^#masscan\n(open tcp \d+ \S+ \d+\n)*# end\n$/);
  });
}

// Every scan technique's XML: valid against nmap.dtd, nmap's scaninfo, and no ndiff port
// differences from nmap's XML of the same scan.
for (const flag of ['-sT', '-sA', '-sW', '-sF', '-sN', '-sX', '-sM', '-sU']) {
  test.serial(`${flag}: XML valid against nmap.dtd, same scaninfo and no ndiff port differences as nmap`, async (t) => {
    const dir = scratch(t);
    const addr = lab().facts.targetAddr;
    await both(t, dir, [flag, '-Pn', '-n', '-p', specPorts.join(','), addr]);
    const fsXml = readText(join(dir, 'fs.xml'));
    const v = validateXml(join(dir, 'fs.xml'));
    t.true(v.ok, v.out);
    const scaninfo = (xml: string): string | undefined => /<scaninfo [^>]*\/>/.exec(xml)?.[0];
    t.is(scaninfo(fsXml), scaninfo(readText(join(dir, 'nmap.xml'))));
    const { diffs, text } = ndiffDifferences(join(dir, 'nmap.xml'), join(dir, 'fs.xml'));
    t.deepEqual(diffs, [], text);
    t.true(renderHtml(join(dir, 'fs.xml')).ok);
  });
}
