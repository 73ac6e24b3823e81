#!/usr/bin/env node
// The package's install script (package.json "install"). Plain Node, no dependencies:
//
// - In a clone of the repository (ts/ present): the development build, `npm run build`
//   (the engine through @napi-rs/cli, then TypeScript), with the devDependencies npm ci
//   has just installed.
// - Installed as a dependency: nothing to do when the prebuilt platform package
//   (ferroscan-<target>, an optional dependency) loads. Otherwise the engine is built from
//   the crate sources shipped in the tarball with plain cargo (`cargo build --release
//   --locked -p ferroscan-node`; crates.io is the only network it needs; the -sV engine's
//   openssl crate also wants OpenSSL's headers, PCRE2 comes bundled) and its cdylib
//   copied to native/ferroscan.<target>.node, where the loader looks. Without cargo the
//   install still succeeds, and importing ferroscan fails with the loader's reason.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

if (existsSync(join(root, 'ts', 'index.ts'))) {
  // npm_execpath is the npm that runs this script; `npm` on PATH may be another one.
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const r = spawnSync(npm[0], [...npm.slice(1), 'run', 'build'], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { builtEnginePath, engineTarget, fromPlatformPackage } = await import('../dist/engine/loader.js');
const target = engineTarget();
const say = (line) => console.error(`ferroscan: ${line}`);

const prebuilt = fromPlatformPackage(target);
if ('module' in prebuilt) process.exit(0);

/** The first executable `name` on PATH, or undefined. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

const cargo = onPath(process.platform === 'win32' ? 'cargo.exe' : 'cargo');
if (!cargo) {
  say(`${prebuilt.missing}, and cargo is not on PATH to build the engine from source: install Rust (https://rustup.rs), then run "npm rebuild ferroscan"`);
  process.exit(0);
}

say(`${prebuilt.missing}: building the engine from source with ${cargo} (a few minutes)`);
// The package's own target directory, removed afterwards (hundreds of MB); a CARGO_TARGET_DIR
// of the user's is used and left alone. No debug info: the release profile's is for profiling.
const ownTarget = !process.env.CARGO_TARGET_DIR;
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
const env = { ...process.env, CARGO_TARGET_DIR: targetDir, CARGO_PROFILE_RELEASE_DEBUG: '0', CARGO_PROFILE_RELEASE_STRIP: 'debuginfo' };
const build = spawnSync(cargo, ['build', '--release', '--locked', '-p', 'ferroscan-node'], { cwd: root, env, stdio: 'inherit' });
if (build.status !== 0) {
  say(`cargo build failed (${build.error?.message ?? `exit ${build.status ?? build.signal}`}); the output above says why (the engine needs a C compiler and OpenSSL's headers too: on Debian, build-essential pkg-config libssl-dev)`);
  process.exit(1);
}
const cdylib = { linux: 'libferroscan_node.so', darwin: 'libferroscan_node.dylib', win32: 'ferroscan_node.dll' }[process.platform] ?? 'libferroscan_node.so';
const dest = builtEnginePath(target);
mkdirSync(dirname(dest), { recursive: true });
copyFileSync(join(targetDir, 'release', cdylib), dest);
if (ownTarget) rmSync(targetDir, { recursive: true, force: true });
say(`built ${dest}`);
