// --help fits an 80-column terminal (issue 16: it had 22 longer lines), and says what a
// user would otherwise be surprised by: each address is probed once however often it is
// named, and a run as root gives root up once its sockets are open.
import test from 'ava';
import { HELP } from '../ts/cli/help.js';

test('every line of --help is at most 80 columns', (t) => {
  const long = HELP.split('\n').filter((line) => line.length > 80);
  t.deepEqual(long, []);
  t.false(HELP.includes('\t'), 'no tabs, whose width depends on the terminal');
});

test('--help says how repeated targets and root are handled', (t) => {
  t.regex(HELP, /Each address is probed once, however many specifications name it\./);
  t.regex(HELP, /--no-drop-privileges: Keep root for the whole run\./);
  t.regex(HELP, /at most 50\)/, 'the --max-retries limit');
});
