import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { posixZoneNames, tzifFooter, zoneAbbreviation } from '../ts/output/timezone.js';

test('POSIX TZ rules give strftime\'s standard and daylight names', (t) => {
  t.deepEqual(posixZoneNames('UTC0'), ['UTC', undefined]);
  t.deepEqual(posixZoneNames('CET-1CEST,M3.5.0,M10.5.0/3'), ['CET', 'CEST']);
  t.deepEqual(posixZoneNames('EST5EDT,M3.2.0,M11.1.0'), ['EST', 'EDT']);
  t.deepEqual(posixZoneNames('IST-5:30'), ['IST', undefined]);
  t.deepEqual(posixZoneNames('<+0330>-3:30'), ['+0330', undefined]);
  t.deepEqual(posixZoneNames('<-03>3<-02>,M3.5.0/-2,M10.5.0/-1'), ['-03', '-02']);
  t.is(posixZoneNames('5'), undefined);
});

test('the footer of a TZif file is its POSIX rule', (t) => {
  const file = '/usr/share/zoneinfo/Europe/Berlin';
  if (!existsSync(file)) return t.pass('no zoneinfo here');
  t.is(tzifFooter(readFileSync(file)), 'CET-1CEST,M3.5.0,M10.5.0/3');
  t.is(tzifFooter(Buffer.from('not a tzif file\n')), undefined);
});

test('zoneAbbreviation reads $TZ and /etc/localtime as strftime would', (t) => {
  const module = new URL('../dist/output/timezone.js', import.meta.url).href;
  const names = (tz: string | undefined): string => {
    const env = { ...process.env };
    if (tz === undefined) delete env.TZ;
    else env.TZ = tz;
    const code = `import(${JSON.stringify(module)}).then((m) => console.log(m.zoneAbbreviation(new Date(2026, 0, 15)) + ' ' + m.zoneAbbreviation(new Date(2026, 6, 15))))`;
    return execFileSync(process.execPath, ['-e', code], { env, encoding: 'utf8' }).trim();
  };
  t.is(names('UTC0'), 'UTC UTC');
  t.is(names('EST5EDT'), 'EST EDT');
  if (existsSync('/usr/share/zoneinfo/Europe/Berlin')) t.is(names('Europe/Berlin'), 'CET CEST');
  if (existsSync('/etc/localtime')) {
    const footer = tzifFooter(readFileSync('/etc/localtime'));
    const std = footer && posixZoneNames(footer)?.[0];
    if (std) t.is(names(undefined).split(' ')[0], std);
  }
});
