#!/usr/bin/env node
// The CommonJS half of the package (`require('ferroscan')`, `require('ferroscan/portscanner')`),
// built after tsc has written the ES modules and declarations to dist/:
//
//   dist/cjs/index.cjs        ts/index.ts bundled by esbuild as one CommonJS file
//   dist/cjs/portscanner.cjs  ts/portscanner.ts, which takes everything from ./index.cjs
//   dist/cjs/**/*.d.ts        the declarations tsc wrote, copied under dist/cjs/package.json
//                             ({"type": "commonjs"}), so TypeScript reads them as CommonJS
//
// One bundle rather than a second tsc run: the sources use import.meta.url, which CommonJS
// output cannot hold. Each `import.meta.url` becomes the URL of that module's ES twin in dist/
// (ts/engine/loader.ts → dist/engine/loader.js), so every path built from it (the engine, the
// data tables) resolves exactly as from the ES build. Dependencies stay external.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'ts');
const dist = join(root, 'dist');
const out = join(dist, 'cjs');

/** Replaces import.meta.url in every source file by its ES twin's file URL, computed at run time from the bundle's place. */
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      const twin = relative(src, args.path).replace(/\.ts$/, '.js');
      const url = `require('node:url').pathToFileURL(require('node:path').join(__dirname, '..', ${JSON.stringify(twin)})).href`;
      return { contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

/** ts/portscanner.ts imports './index.js': in the CommonJS build that is the index bundle, not a second copy. */
const indexExternal = {
  name: 'index-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/index\.js$/ }, (args) => (args.importer === join(src, 'portscanner.ts') ? { path: './index.cjs', external: true } : undefined));
  },
};

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', packages: 'external', logLevel: 'warning', plugins: [importMetaUrl, indexExternal] };
await build({ ...common, entryPoints: [join(src, 'index.ts')], outfile: join(out, 'index.cjs') });
await build({ ...common, entryPoints: [join(src, 'portscanner.ts')], outfile: join(out, 'portscanner.cjs') });

// The declarations, as CommonJS. A relative import that leaves dist/ (the engine's generated
// types in native/) is re-aimed from the copy's deeper place.
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
const copyDeclarations = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const from = join(dir, entry.name);
    if (from === out) continue;
    const to = join(out, relative(dist, from));
    if (entry.isDirectory()) {
      mkdirSync(to, { recursive: true });
      copyDeclarations(from);
    } else if (entry.name.endsWith('.d.ts')) {
      const text = readFileSync(from, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\2/g, (whole, lead, quote, spec) => {
        const target = resolve(dirname(from), spec);
        if (!relative(dist, target).startsWith('..')) return whole;
        const aimed = relative(dirname(to), target);
        return `${lead}${quote}${aimed.startsWith('.') ? aimed : `./${aimed}`}${quote}`;
      });
      writeFileSync(to, text);
    }
  }
};
copyDeclarations(dist);
