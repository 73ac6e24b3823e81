#!/usr/bin/env node
// The API report (docs/api.md): every name the package's entries export — `ferroscan` and
// `ferroscan/portscanner` — with its declaration as the built dist/*.d.ts give it, comments
// left out, and then the declarations of the package's own types those reach without
// exporting them (the engine's summary, the model's pieces). test/unit-api-report.test.ts
// rebuilds it and fails when it differs, so the public API changes only on purpose:
//
//   npm run api          (after npm run build:ts) writes docs/api.md anew; commit it with the change
//   node scripts/api-report.mjs          prints nothing and exits 0 when docs/api.md is current
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPORT = join(root, 'docs', 'api.md');
/** Subpath → the declaration file its `import` condition names. */
export const ENTRIES = { ferroscan: 'dist/index.d.ts', 'ferroscan/portscanner': 'dist/portscanner.d.ts' };

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

/** The statement to print for a declaration: a variable's whole `declare const` line. */
const statementOf = (decl) => (ts.isVariableDeclaration(decl) ? decl.parent.parent : decl);

const isOwn = (decl) => !relative(root, decl.getSourceFile().fileName).startsWith('..') && !decl.getSourceFile().fileName.includes('/node_modules/');

const resolveAlias = (checker, sym) => (sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym);

/** The entries' exports and the reachable own declarations, as data and as the report's text. */
export function apiReport() {
  const files = Object.values(ENTRIES).map((f) => join(root, f));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [join(root, 'node_modules', '@types')],
  });
  const checker = program.getTypeChecker();
  const printed = new Set();
  const exported = new Set();
  const entries = {};
  const queue = [];

  const print = (decl) => printer.printNode(ts.EmitHint.Unspecified, statementOf(decl), decl.getSourceFile());
  /** Own declarations of the types a declaration names (in order), for the reachable section. */
  const referencedBy = (decl) => {
    const found = [];
    const visit = (node) => {
      let name;
      if (ts.isTypeReferenceNode(node)) name = node.typeName;
      else if (ts.isExpressionWithTypeArguments(node)) name = node.expression;
      else if (ts.isTypeQueryNode(node)) name = node.exprName;
      if (name) {
        const sym = checker.getSymbolAtLocation(ts.isQualifiedName(name) ? name.right : ts.isPropertyAccessExpression(name) ? name.name : name);
        if (sym && !(sym.flags & ts.SymbolFlags.TypeParameter)) found.push(resolveAlias(checker, sym));
      }
      ts.forEachChild(node, visit);
    };
    visit(statementOf(decl));
    return found;
  };

  /** The entry that first printed each exported symbol: later entries refer to it. */
  const firstIn = new Map();
  for (const [entry, file] of Object.entries(ENTRIES)) {
    const source = program.getSourceFile(join(root, file));
    if (!source) throw new Error(`${file} is missing: run npm run build:ts`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    const names = [];
    for (const sym of checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name))) {
      const target = resolveAlias(checker, sym);
      const decls = (target.declarations ?? []).filter(isOwn);
      const value = Boolean(target.flags & ts.SymbolFlags.Value);
      const text = firstIn.has(target) ? undefined : decls.map(print).join('\n');
      names.push({ name: sym.name, value, text, sameAs: firstIn.get(target) });
      if (!firstIn.has(target)) firstIn.set(target, entry);
      exported.add(target);
      queue.push(...decls);
    }
    entries[entry] = names;
  }

  const reachable = [];
  const seen = new Set(exported);
  while (queue.length > 0) {
    const decl = queue.shift();
    for (const sym of referencedBy(decl)) {
      if (seen.has(sym)) continue;
      seen.add(sym);
      // a namespace import of a whole file (the engine's generated types) is not a declaration to print
      const decls = (sym.declarations ?? []).filter((d) => isOwn(d) && !ts.isSourceFile(d));
      if (decls.length === 0) continue;
      const text = decls.map(print).join('\n');
      if (printed.has(text)) continue;
      printed.add(text);
      reachable.push({ name: sym.name, from: relative(root, decls[0].getSourceFile().fileName), text });
      queue.push(...decls);
    }
  }
  reachable.sort((a, b) => a.name.localeCompare(b.name) || a.from.localeCompare(b.from));

  const lines = [
    '# The public API',
    '',
    '<!-- Generated by scripts/api-report.mjs from dist/*.d.ts (npm run build:ts, then npm run api); do not edit.',
    '     test/unit-api-report.test.ts fails when the built package differs from this file. -->',
    '',
    "What the package's two entries export, with each declaration as the built types give it",
    '(comments left out), then the types of its own that these reach without exporting them.',
    'A change here is a change of the public API: make it on purpose, with a CHANGELOG line.',
  ];
  for (const [entry, names] of Object.entries(entries)) {
    lines.push('', `## \`${entry}\``, '', `Values (at run time, in both \`import\` and \`require\`): ${names.filter((n) => n.value).map((n) => `\`${n.name}\``).join(', ')}.`, '');
    lines.push(`Types only: ${names.filter((n) => !n.value).map((n) => `\`${n.name}\``).join(', ')}.`);
    const again = names.filter((n) => n.sameAs);
    if (again.length > 0) lines.push('', `The same as \`${again[0].sameAs}\` exports (declared above): ${again.map((n) => `\`${n.name}\``).join(', ')}.`);
    for (const n of names.filter((n) => !n.sameAs)) lines.push('', `### ${n.name}`, '', '```ts', n.text, '```');
  }
  lines.push('', '## Reachable, not exported', '');
  for (const r of reachable) lines.push(`### ${r.name} (${r.from})`, '', '```ts', r.text, '```', '');
  const text = `${lines.join('\n').trimEnd()}\n`;
  return { entries, reachable, text };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { text } = apiReport();
  if (process.argv.includes('--write')) {
    writeFileSync(REPORT, text);
  } else {
    let current = '';
    try {
      current = readFileSync(REPORT, 'utf8');
    } catch {
      // absent: differs
    }
    if (current !== text) {
      console.error(`api-report: ${relative(root, REPORT)} is not the built API: run "npm run api" and review the diff`);
      process.exit(1);
    }
  }
}
