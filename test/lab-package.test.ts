// The npm package as an app meets it (issue 15): the README's "Install as a dependency"
// commands, read from the README itself and run as written — pack both tarballs, install them
// into a fresh project with cargo hidden from PATH (the prebuilt engine), run an ES-module and
// a CommonJS consumer that scan the lab target inside the lab's scanner namespace, type-check
// a TypeScript consumer, `npx ferroscan --version`; then install the main tarball alone with
// cargo present (the engine built from the shipped sources) and scan again; then alone
// without cargo (the install succeeds; importing fails with one line naming what is missing).
// The projects live in a temporary directory; npm reaches only its registry.
import test, { type ExecutionContext } from 'ava';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, repoRoot, run, useLab, type ExecResult } from './helpers/lab.js';
import { expectedSyn, specPorts } from './helpers/lab-spec.js';

const lab = useLab(test);
const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const MAIN = `ferroscan-${VERSION}.tgz`;
const PLATFORM = `ferroscan-linux-x64-gnu-${VERSION}.tgz`;
const fixtures = join(repoRoot, 'test/fixtures/consumer');
const tsc = join(repoRoot, 'node_modules/.bin/tsc');

const work = mkdtempSync(join(tmpdir(), 'ferroscan-package-'));
const packs = join(work, 'packs');
test.after.always(() => rmSync(work, { recursive: true, force: true }));

/** PATH without any directory that holds a cargo: the prebuilt path must not compile. */
const pathWithoutCargo = (process.env.PATH ?? '')
  .split(delimiter)
  .filter((dir) => dir && !existsSync(join(dir, 'cargo')))
  .join(delimiter);

/** One command of the README's blocks and the folder it runs in. */
interface Step {
  where: 'clone' | 'app';
  command: string;
}

/** The shell blocks of the README's "Install as a dependency" section, as steps; `# in ...` comments say where. */
function readmeBlocks(): Step[][] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split('\n## Install as a dependency\n')[1]?.split('\n## ')[0];
  if (!section) throw new Error('README.md has no "Install as a dependency" section');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map(([, body]) => {
    let where: Step['where'] | undefined;
    const steps: Step[] = [];
    for (const line of body.split('\n').map((l) => l.trim())) {
      if (line === '' || line === 'packs=$(mktemp -d)') continue;
      if (line.startsWith('#')) {
        where = /in the ferroscan clone/.test(line) ? 'clone' : /in your app/.test(line) ? 'app' : where;
        continue;
      }
      if (!where) throw new Error(`README: "${line}" comes before a "# in ..." comment that says where it runs`);
      steps.push({ where, command: line });
    }
    return steps;
  });
}

interface Timed extends ExecResult {
  command: string;
}

/** Runs README steps with bash, `$packs` set, in the clone or in `app`; fails the test on the first that fails. */
async function runSteps(steps: Step[], app: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Timed[]> {
  const results: Timed[] = [];
  for (const step of steps) {
    const r = await run('bash', ['-c', `set -euo pipefail; cd "$1"; ${step.command}`, 'step', step.where === 'clone' ? repoRoot : app], {
      env: { ...env, packs, npm_config_prefer_offline: 'true', npm_config_fund: 'false', npm_config_audit: 'false' },
      timeoutMs,
    });
    if (r.code !== 0) throw new Error(describe(step.command, r));
    results.push({ ...r, command: step.command });
  }
  return results;
}

function newApp(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true })}\n`);
  for (const f of ['esm.mjs', 'cjs.cjs', 'typed.mts', 'typed.cts']) cpSync(join(fixtures, f), join(dir, f));
  return dir;
}

const lines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The lab verdicts that a scan of every spec port must stream, port by port. */
function checkScan(t: ExecutionContext, out: Record<string, unknown>[], addr: string, what: string): void {
  const results = new Map(out.filter((l) => l.type === 'result').map((l) => [l.port as number, l]));
  for (const port of specPorts) {
    const want = expectedSyn(addr, port);
    if (want.reason === 'no-response') {
      t.false(results.has(port), `${what}: port ${port} never answers`);
      continue;
    }
    t.like(results.get(port), { address: addr, protocol: 'tcp', state: want.state, reason: want.reason, ttl: want.ttl }, `${what}: port ${port}`);
  }
  t.like(out.find((l) => l.type === 'summary'), { completed: true, found: specPorts.filter((p) => expectedSyn(addr, p).state === 'open').length }, what);
}

const [installBlock, sourceBlock] = readmeBlocks();
const clone = installBlock.filter((s) => s.where === 'clone');
const inApp = installBlock.filter((s) => s.where === 'app');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sizeOf = (file: string): string => `${(statSync(join(packs, file)).size / 1024).toFixed(0)} KiB`;

test.serial('the README packs both tarballs in the clone', async (t) => {
  t.timeout(10 * 60_000);
  mkdirSync(packs);
  // the tarballs hold what this tree builds: TypeScript is rebuilt (the engine is npm ci's)
  const build = spawnSync('npm', ['run', 'build:ts'], { cwd: repoRoot, encoding: 'utf8' });
  t.is(build.status, 0, `${build.stdout}${build.stderr}`);
  t.true(clone.length >= 2 && clone.every((s) => s.command.startsWith('npm pack')), clone.map((s) => s.command).join('\n'));
  const packed = await runSteps(clone, work, process.env, 5 * 60_000);
  for (const file of [MAIN, PLATFORM]) t.true(existsSync(join(packs, file)), `${file} was packed`);
  t.log(`packed in ${packed.map((r) => seconds(r.ms)).join(' + ')}: ${MAIN} ${sizeOf(MAIN)}, ${PLATFORM} ${sizeOf(PLATFORM)}`);
});

test.serial('prebuilt: installed with cargo hidden, the ES-module and CommonJS consumers scan the lab; the types check; npx ferroscan runs', async (t) => {
  t.timeout(10 * 60_000);
  const app = newApp('app-prebuilt');
  const env = { ...process.env, PATH: pathWithoutCargo };
  t.true(inApp.some((s) => s.command.startsWith('npm install') && s.command.includes(MAIN) && s.command.includes(PLATFORM)), 'the README installs both tarballs');
  const done = await runSteps(inApp, app, env, 5 * 60_000);
  const install = done.find((r) => r.command.startsWith('npm install'));
  t.log(`install with the prebuilt engine: ${seconds(install?.ms ?? 0)}`);
  const version = done.find((r) => r.command === 'npx ferroscan --version');
  t.regex(version?.stdout ?? '', new RegExp(`^ferroscan version ${VERSION.replaceAll('.', '\\.')} `), 'npx ferroscan --version');

  const pkg = join(app, 'node_modules/ferroscan');
  t.true(existsSync(join(app, 'node_modules/ferroscan-linux-x64-gnu/ferroscan.linux-x64-gnu.node')), 'the platform package is installed');
  t.false(existsSync(join(pkg, 'native/ferroscan.linux-x64-gnu.node')), 'nothing was built from source');
  t.false(existsSync(join(pkg, 'target')), 'cargo never ran');

  const addr = lab().facts.targetAddr;
  const ports = specPorts.join(',');
  const esm = await lab().execInScanner(process.execPath, [join(app, 'esm.mjs'), addr, ports], { env, timeoutMs: 120_000 });
  t.is(esm.code, 0, describe('ES-module consumer', esm));
  const esmOut = lines(esm.stdout);
  checkScan(t, esmOut, addr, 'import { scan } from "ferroscan"');
  t.like(esmOut.find((l) => l.type === 'summary'), { version: VERSION });

  // With require(esm) off, only the package's CommonJS build can answer require().
  const checked = [53, 22, 80, 25];
  const cjs = await lab().execInScanner(process.execPath, ['--no-experimental-require-module', join(app, 'cjs.cjs'), addr, ports, checked.join(',')], { env, timeoutMs: 120_000 });
  t.is(cjs.code, 0, describe('CommonJS consumer', cjs));
  const cjsOut = lines(cjs.stdout);
  checkScan(t, cjsOut, addr, 'require("ferroscan")');
  for (const port of checked) {
    t.like(cjsOut.find((l) => l.type === 'check' && l.port === port), { status: expectedSyn(addr, port).state === 'open' ? 'open' : 'closed' }, `checkPortStatus(${port})`);
  }
  t.like(cjsOut.find((l) => l.type === 'find'), { port: checked.find((p) => expectedSyn(addr, p).state === 'open') }, 'findAPortInUse(list)');

  // node16 resolution: the .cts consumer may require only a package whose require() types are CommonJS.
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(repoRoot, 'node_modules/@types')] },
      files: ['typed.mts', 'typed.cts'],
    }),
  );
  const typed = spawnSync(tsc, ['-p', app, '--noEmit'], { cwd: app, encoding: 'utf8' });
  t.is(typed.status, 0, `tsc --noEmit of the typed consumer:\n${typed.stdout}${typed.stderr}`);
});

test.serial('without the platform package or cargo: the install succeeds, and importing ferroscan names what is missing', async (t) => {
  t.timeout(5 * 60_000);
  const app = newApp('app-none');
  const env = { ...process.env, PATH: pathWithoutCargo };
  const install = await run('bash', ['-c', `cd "$1" && npm install "$packs"/${MAIN}`, 'step', app], { env: { ...env, packs, npm_config_prefer_offline: 'true' }, timeoutMs: 240_000 });
  t.is(install.code, 0, describe('npm install of the main tarball alone', install));
  const want = /^no native engine for linux-x64-gnu: the package ferroscan-linux-x64-gnu is not installed, and no engine was built from source at install \(.*cargo.*npm rebuild ferroscan.*\)$/;
  const esm = spawnSync(process.execPath, ['--input-type=module', '-e', "import('ferroscan').then(() => console.log('loaded'), (e) => console.log(e.message))"], { cwd: app, env, encoding: 'utf8' });
  t.regex(esm.stdout.trim(), want, `import('ferroscan'): ${esm.stdout}${esm.stderr}`);
  const cjs = spawnSync(process.execPath, ['-e', "try { require('ferroscan'); console.log('loaded') } catch (e) { console.log(e.message) }"], { cwd: app, env, encoding: 'utf8' });
  t.regex(cjs.stdout.trim(), want, `require('ferroscan'): ${cjs.stdout}${cjs.stderr}`);
  const cli = spawnSync(join(app, 'node_modules/.bin/ferroscan'), ['-p', '80', '127.0.0.1'], { cwd: app, env, encoding: 'utf8' });
  t.is(cli.status, 1);
  t.regex(cli.stderr, /^ferroscan: no native engine for linux-x64-gnu: /m, 'the CLI says it in one line');
});

test.serial('from source: the main tarball alone, with cargo, builds the engine at install; the consumer scans the lab', async (t) => {
  t.timeout(40 * 60_000);
  const app = newApp('app-source');
  t.true(sourceBlock?.length === 1 && sourceBlock[0].where === 'app' && sourceBlock[0].command.includes(MAIN) && !sourceBlock[0].command.includes(PLATFORM), 'the README installs the main tarball alone');
  const [install] = await runSteps(sourceBlock, app, process.env, 35 * 60_000);
  t.log(`install with the engine built from source: ${seconds(install.ms)}`);
  const pkg = join(app, 'node_modules/ferroscan');
  t.false(existsSync(join(app, 'node_modules/ferroscan-linux-x64-gnu')), 'no platform package');
  t.true(existsSync(join(pkg, 'native/ferroscan.linux-x64-gnu.node')), 'the engine was built into native/');
  t.false(existsSync(join(pkg, 'target')), "cargo's target directory was removed");

  const addr = lab().facts.targetAddr;
  const esm = await lab().execInScanner(process.execPath, [join(app, 'esm.mjs'), addr, specPorts.join(',')], { timeoutMs: 120_000 });
  t.is(esm.code, 0, describe('ES-module consumer', esm));
  checkScan(t, lines(esm.stdout), addr, 'the engine built from source');
});
