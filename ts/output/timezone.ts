// The time zone abbreviation nmap prints after its start time ("UTC", "CET", "EDT"): what C's
// strftime %Z gives, read from the POSIX TZ rule that ends every TZif file (or from $TZ).
// Intl.DateTimeFormat gives the same name but loads ICU's zone data first: 20-100 ms of a
// CLI run that otherwise starts in ~150 ms.
import { readFileSync } from 'node:fs';

/** A POSIX TZ rule's standard and daylight names: "CET-1CEST,M3.5.0,M10.5.0/3" → [CET, CEST]. */
export function posixZoneNames(rule: string): [string, string | undefined] | undefined {
  const name = /^(<[^>]+>|[A-Za-z]{3,})/;
  const std = name.exec(rule);
  if (!std) return undefined;
  const rest = rule.slice(std[0].length).replace(/^[-+]?\d{1,2}(:\d{2}){0,2}/, '');
  const dst = name.exec(rest);
  const strip = (n: string): string => n.replace(/^<(.*)>$/, '$1');
  return [strip(std[0]), dst ? strip(dst[0]) : undefined];
}

/** The POSIX rule at the end of a TZif (v2+) file: the text between its last two newlines. */
export function tzifFooter(data: Buffer): string | undefined {
  if (data.length < 44 || data.toString('latin1', 0, 4) !== 'TZif' || data[data.length - 1] !== 0x0a) return undefined;
  const start = data.lastIndexOf(0x0a, data.length - 2);
  return start < 0 ? undefined : data.toString('latin1', start + 1, data.length - 1);
}

/** The local rule once read; null when there is none. */
let cachedRule: string | null | undefined;

function localRule(): string | undefined {
  if (cachedRule !== undefined) return cachedRule ?? undefined;
  cachedRule = null;
  const tz = process.env.TZ;
  try {
    if (tz === undefined || tz === '' || tz === ':/etc/localtime') cachedRule = tzifFooter(readFileSync('/etc/localtime')) ?? null;
    else if (/^:?[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(tz) && tz.includes('/')) cachedRule = tzifFooter(readFileSync(`/usr/share/zoneinfo/${tz.replace(/^:/, '')}`)) ?? null;
    else cachedRule = tz.replace(/^:/, '');
  } catch {
    cachedRule = null;
  }
  return cachedRule ?? undefined;
}

/** The local zone's abbreviation at `date`, as strftime's %Z; '' when unknown. */
export function zoneAbbreviation(date: Date): string {
  const rule = localRule();
  const names = rule !== undefined ? posixZoneNames(rule) : undefined;
  if (names) {
    const [std, dst] = names;
    if (!dst) return std;
    // daylight time is in effect when the offset is smaller than the year's largest (standard) one
    const y = date.getFullYear();
    const standard = Math.max(new Date(y, 0, 1).getTimezoneOffset(), new Date(y, 6, 1).getTimezoneOffset());
    return date.getTimezoneOffset() < standard ? dst : std;
  }
  return new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';
}
