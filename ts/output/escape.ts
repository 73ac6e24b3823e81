// Hostile bytes never reach a terminal: the one escaping rule of every human-readable output
// (normal output on screen and in -oN files, grepable, status and error lines), applied to
// whatever came from outside the program — target text as typed or read from -iL, reverse
// DNS names, MAC vendor names, and later service banners and fields.
//
// The rule is nmap's (output.cc, escape_for_screen and protect_xml): printable ASCII is
// kept, every other byte is written as \xHH (uppercase hex, the character's UTF-8 bytes), so
// an ESC, a carriage return or a C1 control (U+009B is CSI on many terminals) shows as text.
// Backslashes are left alone, as nmap leaves them. Reverse DNS names get nmap's own treatment
// before they reach any output (ts/hosts/rdns.ts). XML keeps printable Unicode
// (the document is UTF-8) and protects only what XML 1.0 cannot carry or what a terminal
// would obey; JSON keeps JSON's escapes and adds \u escapes for DEL, C1 and the two line
// separators, which JSON.stringify leaves raw.

// eslint-disable-next-line no-control-regex
const PLAIN_LINE = /^[\x20-\x7e]*$/;
// eslint-disable-next-line no-control-regex
const PLAIN_LINES = /^[\x20-\x7e\t\n]*$/;
// eslint-disable-next-line no-control-regex
const NOT_LINE = /[^\x20-\x7e]/gu;
// eslint-disable-next-line no-control-regex
const NOT_LINES = /[^\x20-\x7e\t\n]/gu;

const encoder = new TextEncoder();

/** \xHH for each UTF-8 byte of one character (a lone surrogate encodes as U+FFFD's bytes). */
function hexBytes(ch: string): string {
  let out = '';
  for (const b of encoder.encode(ch)) out += `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/**
 * One line of text for a terminal or a text file: printable ASCII as is, anything else
 * (tabs and newlines included) as \xHH. Use for every field that came from outside.
 */
export function escapeText(text: string): string {
  return PLAIN_LINE.test(text) ? text : text.replace(NOT_LINE, hexBytes);
}

/** Several lines (script output, banners shown whole): as escapeText, but tabs and newlines kept. */
export function escapeLines(text: string): string {
  return PLAIN_LINES.test(text) ? text : text.replace(NOT_LINES, hexBytes);
}

// What XML 1.0 cannot carry at all (C0 but tab, LF and CR; lone surrogates; U+FFFE/U+FFFF),
// and what a terminal would obey when the document is shown (DEL, C1 controls).
// eslint-disable-next-line no-control-regex
const XML_UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text made safe for an XML document before XML escaping: controls as \xHH, the rest kept (nmap's protect_xml). */
export function protectXml(text: string): string {
  return text.replace(XML_UNSAFE, hexBytes);
}

// eslint-disable-next-line no-control-regex
const JSON_RAW = /[\u007F-\u009F\u2028\u2029]/g;

/** JSON.stringify's text with DEL, C1 controls and U+2028/U+2029 as \u escapes: the same JSON value, safe to print. */
export function safeJson(text: string): string {
  return text.replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
