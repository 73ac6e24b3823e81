// Finds and loads the native engine (the napi-rs addon of crates/node) the way napi-rs
// packages do: first the prebuilt platform package (`ferroscan-linux-x64-gnu`, an optional
// dependency that npm installs only where its os/cpu/libc match), then the engine built from
// the shipped crate sources at install time (`native/ferroscan.<target>.node`, which is also
// where a development build puts it). When neither loads, one error says what is missing.
//
// Plain Node only (no napi-rs runtime code): scripts/install.mjs imports this file from dist/
// to decide whether a source build is needed, and to name the file it must produce.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FerroscanError } from '../errors.js';

/** The package's root: two levels up from ts/engine/ (development) or dist/engine/ (installed). */
const ROOT = new URL('../../', import.meta.url);
const requireHere = createRequire(import.meta.url);

interface PackageJson {
  name: string;
  version: string;
  optionalDependencies?: Record<string, string>;
}

const manifest = (): PackageJson => JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as PackageJson;

/** Whether the C library is musl (Alpine) rather than glibc; napi-rs names targets by it. */
function isMusl(): boolean {
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return !report?.header?.glibcVersionRuntime;
  }
}

/** napi-rs's name for this platform: `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`, `win32-x64-msvc`. */
export function engineTarget(): string {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const musl = isMusl();
    const abi = arch === 'arm' ? (musl ? 'musleabihf' : 'gnueabihf') : musl ? 'musl' : 'gnu';
    return `linux-${arch}-${abi}`;
  }
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The npm package that holds the prebuilt engine for `target`. */
export function platformPackage(target = engineTarget()): string {
  return `ferroscan-${target}`;
}

/** Where an engine built from source lives (the install script's fallback and `npm run build`). */
export function builtEnginePath(target = engineTarget()): string {
  return fileURLToPath(new URL(`native/ferroscan.${target}.node`, ROOT));
}

/** True in a clone of the repository (TypeScript sources present), false in an installed package. */
export function isSourceCheckout(): boolean {
  return existsSync(new URL('ts/index.ts', ROOT));
}

/** One way of getting the engine: the module, or why it is not there (a phrase for the error). */
export type Attempt<T> = { module: T } | { missing: string };

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** The prebuilt platform package, when installed, of this package's own version, and loadable. */
export function fromPlatformPackage<T>(target = engineTarget()): Attempt<T> {
  const pkg = platformPackage(target);
  const own = manifest();
  if (!own.optionalDependencies?.[pkg]) return { missing: `no prebuilt engine is published for ${target} (there is no package ${pkg})` };
  let version: string;
  try {
    version = (requireHere(`${pkg}/package.json`) as PackageJson).version;
  } catch {
    return { missing: `the package ${pkg} is not installed` };
  }
  // Another version's engine may read records differently: never load it.
  if (version !== own.version) return { missing: `the installed ${pkg} is version ${version}, not ${own.version}` };
  try {
    return { module: requireHere(pkg) as T };
  } catch (e) {
    return { missing: `the package ${pkg} does not load (${firstLine(e)})` };
  }
}

/** The engine built from source into native/, when there and loadable. */
export function fromSourceBuild<T>(target = engineTarget()): Attempt<T> {
  const path = builtEnginePath(target);
  const name = `native/ferroscan.${target}.node`;
  if (!existsSync(path)) {
    return isSourceCheckout()
      ? { missing: `${name} is not built (run "npm run build")` }
      : { missing: `no engine was built from source at install (${name}; building needs cargo, the Rust toolchain, on PATH: install it, then run "npm rebuild ferroscan")` };
  }
  try {
    return { module: requireHere(path) as T };
  } catch (e) {
    return { missing: `${name} does not load (${firstLine(e)})` };
  }
}

/**
 * Loads the engine: the platform package first, then the source build; else one
 * FerroscanError naming both gaps. In a clone of the repository the order is reversed:
 * native/ holds what `npm run build` (or a bare `napi build`) last built, and the workspace
 * link to npm/<target> only a copy staged for packing, possibly older.
 */
export function loadEngine<T>(): T {
  const target = engineTarget();
  const attempts = isSourceCheckout() ? [fromSourceBuild, fromPlatformPackage] : [fromPlatformPackage, fromSourceBuild];
  const missing: string[] = [];
  for (const attempt of attempts) {
    const found = attempt<T>(target);
    if ('module' in found) return found.module;
    missing.push(found.missing);
  }
  throw new FerroscanError(`no native engine for ${target}: ${missing.join(', and ')}`);
}
