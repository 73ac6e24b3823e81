// The public API cannot drift unnoticed (issue 15): docs/api.md, the report of every name the
// package's entries export with its declaration, must equal the report of the package built
// from this tree; and the names each entry gives at run time, to import and to require, are
// exactly the report's values.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './helpers/lab.js';
import { apiReport, ENTRIES, REPORT } from '../scripts/api-report.mjs';

interface ReportName {
  name: string;
  value: boolean;
}

test.before(() => {
  const r = spawnSync('npm', ['run', 'build:ts'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build:ts failed:\n${r.stdout}${r.stderr}`);
});

test('docs/api.md is the report of the built package (after a deliberate change: npm run api)', (t) => {
  t.is(apiReport().text, readFileSync(REPORT, 'utf8'), 'docs/api.md differs from the built API: run "npm run api", review the diff, and say so in CHANGELOG.md');
});

test('each entry gives exactly the reported values, to import and to require', async (t) => {
  const { entries } = apiReport() as { entries: Record<string, ReportName[]> };
  const require = createRequire(join(repoRoot, 'package.json'));
  const files: Record<string, { esm: string; cjs: string }> = {
    ferroscan: { esm: 'dist/index.js', cjs: 'dist/cjs/index.cjs' },
    'ferroscan/portscanner': { esm: 'dist/portscanner.js', cjs: 'dist/cjs/portscanner.cjs' },
  };
  t.deepEqual(Object.keys(files), Object.keys(ENTRIES));
  for (const [entry, names] of Object.entries(entries)) {
    const values = names.filter((n) => n.value).map((n) => n.name).sort();
    const esm = (await import(pathToFileURL(join(repoRoot, files[entry].esm)).href)) as Record<string, unknown>;
    t.deepEqual(Object.keys(esm).sort(), values, `import '${entry}'`);
    const cjs = require(join(repoRoot, files[entry].cjs)) as Record<string, unknown>;
    t.deepEqual(Object.keys(cjs).sort(), values, `require('${entry}')`);
  }
});

test('internals stay internal', (t) => {
  const { entries } = apiReport() as { entries: Record<string, ReportName[]> };
  const names = new Set(Object.values(entries).flatMap((list) => list.map((n) => n.name)));
  // a sample of what index.ts deliberately does not export (CHANGELOG, the layout change)
  for (const internal of ['runPrepared', 'prepareScan', 'formatProgressLine', 'decodeBatch', 'native', 'loadEngine', 'Outputs', 'PRODUCT']) {
    t.false(names.has(internal), internal);
  }
});
