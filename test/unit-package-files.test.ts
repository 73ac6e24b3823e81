// What the published tarballs hold (issue 15), from `npm pack --dry-run`: what a user runs and
// reads — dist/ (ES modules, the CommonJS build, declarations), bin/, data/, docs/, the
// install script, the engine's generated types, the crates and Cargo.lock for the source
// build, README, CHANGELOG, LICENSE — and no test, bench, CI or lab file, no source map, no
// engine binary (that is the platform package's, which holds nothing else).
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { repoRoot } from './helpers/lab.js';

interface PackEntry {
  files: { path: string; size: number }[];
  size: number;
  unpackedSize: number;
  entryCount: number;
}

function dryRun(...args: string[]): PackEntry {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', ...args], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack --dry-run ${args.join(' ')} failed:\n${r.stderr}`);
  return (JSON.parse(r.stdout) as PackEntry[])[0];
}

const main = dryRun();
const paths = main.files.map((f) => f.path);

/** Every file under `dir` (relative to the repository). */
const filesUnder = (dir: string): string[] =>
  readdirSync(join(repoRoot, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(repoRoot, join(e.parentPath, e.name)));

test('the main tarball holds no test, bench, CI, lab or development file', (t) => {
  t.log(`${main.entryCount} files, ${(main.size / 1024).toFixed(0)} KiB packed, ${(main.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
  const unwanted = paths.filter(
    (p) =>
      /^(test|benches|examples|\.ci|\.github|target|node_modules|ts|npm)\//.test(p) ||
      (p.startsWith('scripts/') && p !== 'scripts/install.mjs') ||
      /(^|\/)(fuzz|tests|benches|examples)\//.test(p) ||
      /\.(map|node|tgz)$/.test(p) ||
      /(^|\/)(tsconfig\.json|rustfmt\.toml|\.gitignore|package-lock\.json)$/.test(p),
  );
  t.deepEqual(unwanted, []);
});

test('the main tarball holds what a user runs and reads, and every file the exports map and bin name', (t) => {
  for (const p of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'bin/ferroscan.js', 'scripts/install.mjs', 'native/index.d.cts', 'data/ports-tcp.tsv', 'docs/api.md', 'docs/json-output.md', 'dist/cjs/package.json', 'Cargo.toml', 'Cargo.lock']) {
    t.true(paths.includes(p), p);
  }
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; bin: Record<string, string>; main: string; types: string };
  const targets: string[] = [pkg.main, pkg.types, ...Object.values(pkg.bin)];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') targets.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  for (const target of targets) t.true(paths.includes(target.replace(/^\.\//, '')), `${target} is in the tarball`);
  // every JavaScript file of the built package (the CLI's too) and every declaration
  const built = filesUnder('dist').filter((p) => /\.(js|cjs|d\.ts)$/.test(p));
  t.deepEqual(built.filter((p) => !paths.includes(p)), []);
});

test('the main tarball holds every source of the engine crates, for the build from source', (t) => {
  const sources = ['crates/core/src', 'crates/node/src'].flatMap(filesUnder);
  t.true(sources.length > 10);
  t.deepEqual(sources.filter((p) => !paths.includes(p)), []);
  for (const p of ['crates/core/Cargo.toml', 'crates/node/Cargo.toml', 'crates/node/build.rs']) t.true(paths.includes(p), p);
});

test('the platform tarball holds the engine, its manifest, README and LICENSE, nothing else', (t) => {
  const platform = dryRun('./npm/linux-x64-gnu');
  t.log(`${platform.entryCount} files, ${(platform.size / 1024).toFixed(0)} KiB packed, ${(platform.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
  t.deepEqual(platform.files.map((f) => f.path).sort(), ['LICENSE', 'README.md', 'ferroscan.linux-x64-gnu.node', 'package.json']);
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'npm/linux-x64-gnu/package.json'), 'utf8')) as Record<string, unknown>;
  t.like(manifest, { name: 'ferroscan-linux-x64-gnu', main: 'ferroscan.linux-x64-gnu.node', os: ['linux'], cpu: ['x64'], libc: ['glibc'] });
  const root = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; optionalDependencies: Record<string, string> };
  t.is(manifest.version, root.version);
  t.is(root.optionalDependencies['ferroscan-linux-x64-gnu'], root.version, 'the main package asks for exactly its own version');
});
