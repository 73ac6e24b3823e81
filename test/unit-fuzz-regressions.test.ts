// The inputs fuzzing found that crashed or hung a parser (fuzz/, see fuzz/README.md), as
// plain unit tests: each now gets the parser's documented answer. The same inputs stay in
// the fuzz corpora, which every fuzz run replays first.
import test from 'ava';
import { UsageError } from '../ts/errors.js';
import { parseResumeFile } from '../ts/engine/resume.js';
import { parseNmapServices, parsePortTable } from '../ts/targets/services.js';
import { parseNmapPayloads } from '../ts/targets/udp-payloads.js';

test('a resume file holding JSON null, a number or an array is a UsageError, not a TypeError', (t) => {
  for (const text of ['null', '1', '[]', '"x"']) {
    t.throws(() => parseResumeFile(text, 'f.resume'), { instanceOf: UsageError, message: /is not a ferroscan resume file of version 1/ }, text);
  }
});

test('nmap-services: a five-digit port above 65535 is skipped, a port listed twice keeps its first line and one rank', (t) => {
  const table = parseNmapServices('big\t99999/tcp\t0.9\nhttp\t80/tcp\t0.5\nwww\t80/tcp\t0.7\nssh\t22/tcp\t0.4\n', 'test');
  t.deepEqual(table.ranked.tcp, [80, 22]);
  t.is(table.names.tcp.get(80), 'http');
  t.false(table.names.tcp.has(99999));
});

test('shipped port table: a line that names no port is skipped, not ranked as NaN', (t) => {
  t.deepEqual(parsePortTable('.\n1\t80\thttp\nx\ty\n2\t23\ttelnet\n', 'test').ranked.tcp, [80, 23]);
});

test('nmap-payloads: a port range past 65535 is skipped at once (it built a 65-million-entry array)', (t) => {
  const started = Date.now();
  const m = parseNmapPayloads('udp 1-65535113 "x"\nudp 7 "y"\n');
  t.true(Date.now() - started < 1000);
  t.deepEqual([...m.keys()], [7]);
});

test('nmap-payloads: "\\x" takes one or two hex digits; a backslash after it is its own escape', (t) => {
  // "\x1\\" is 0x01 then a backslash; it used to eat the backslash and read past the string
  t.deepEqual([...parseNmapPayloads('udp 9 "\\x1\\\\" "\\x41\\xzz"\n').get(9)!], [0x01, 0x5c, 0x41, 0x78, 0x7a, 0x7a]);
});
