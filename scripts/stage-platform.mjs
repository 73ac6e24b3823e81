#!/usr/bin/env node
// After `napi build`: copies the engine it wrote (native/ferroscan.<target>.node) into the
// platform package's folder, npm/<target>/ (laid out by `napi create-npm-dirs`), so that
// `npm pack ./npm/<target>` gives the prebuilt package. The copy loses its debug information
// (`strip --strip-debug`, symbols kept): 8 MB become about 1.4 MB. The release profile keeps
// debug info for profiling, and the development build in native/ keeps it too.
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let staged = 0;
for (const target of readdirSync(join(root, 'npm'))) {
  const built = join(root, 'native', `ferroscan.${target}.node`);
  if (!existsSync(join(root, 'npm', target, 'package.json')) || !existsSync(built)) continue;
  const dest = join(root, 'npm', target, `ferroscan.${target}.node`);
  copyFileSync(built, dest);
  const strip = spawnSync('strip', ['--strip-debug', dest], { stdio: 'inherit' });
  if (strip.status !== 0) {
    console.error(`stage-platform: strip --strip-debug ${dest} failed (${strip.error?.message ?? `exit ${strip.status}`}); binutils is needed`);
    process.exit(1);
  }
  copyFileSync(join(root, 'LICENSE'), join(root, 'npm', target, 'LICENSE'));
  staged++;
}
if (staged === 0) {
  console.error('stage-platform: no engine in native/ matches a folder of npm/ (run napi build first)');
  process.exit(1);
}
