// API reports: a normalised copy of a package's built dist/index.d.ts, and the
// comparison api-check.mjs makes between a fresh report and the committed one.
//
// Normalisation (so that only the shape of the API shows, never its docs or layout):
//   - parsed and re-printed by the TypeScript printer: comments dropped, quotes and
//     indentation uniform;
//   - private class members dropped (not callable from outside);
//   - one chunk per top-level statement, chunks separated by a blank line;
//   - imports: one chunk per module, names sorted; exports: one chunk per exported name
//     (`export { type X };`, `export { Y } from "m";`), sorted;
//   - declarations sorted by name (stable, so overloads and merged declarations keep
//     their order).
// A chunk is the unit of comparison: a chunk of the committed report that is not in the
// fresh one was changed or removed (breaking); a fresh chunk not in the committed one
// was added.
import ts from 'typescript';

const FENCE = '```';

/** The report text (markdown) for package `name` from the text of its index.d.ts. */
export function apiReport(name, dtsText) {
  const chunks = normalisedChunks(dtsText);
  return [
    `# API report: ${name}`,
    '',
    '<!-- Generated from dist/index.d.ts by `npm run api:update` (tools/release/api-check.mjs). Do not edit. -->',
    '',
    `${FENCE}ts`,
    // Imports and exports are one line each, kept together; declarations apart.
    chunks.map((c, i) => (i > 0 && isOneLiner(c) && isOneLiner(chunks[i - 1]) ? '\n' : '\n\n') + c).join('').trimStart(),
    FENCE,
    '',
  ].join('\n');
}

/** The chunks of a report (the text between its fences, split at blank lines). */
export function reportChunks(reportText) {
  const start = reportText.indexOf(`${FENCE}ts\n`);
  const end = reportText.lastIndexOf(`\n${FENCE}`);
  if (start < 0 || end < start) return [];
  return reportText
    .slice(start + FENCE.length + 3, end)
    .split(/\n\s*\n/)
    .flatMap((c) => (c.split('\n').every(isOneLiner) ? c.split('\n') : [c]))
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
}

/** An import or export chunk: one line, printed with its neighbours of the same kind. */
function isOneLiner(chunk) {
  return /^(import|export) /.test(chunk) && !chunk.includes('\n');
}

/**
 * What changed from the committed report to the fresh one: { removed, added } chunks
 * (imports left out: they change only with the declarations that use them).
 */
export function diffReports(committedText, freshText) {
  const isImport = (c) => c.startsWith('import ');
  const before = reportChunks(committedText).filter((c) => !isImport(c));
  const after = reportChunks(freshText).filter((c) => !isImport(c));
  const beforeSet = new Set(before);
  const afterSet = new Set(after);
  return {
    removed: before.filter((c) => !afterSet.has(c)),
    added: after.filter((c) => !beforeSet.has(c)),
  };
}

function isPrivateMember(member) {
  if (member.name && ts.isPrivateIdentifier(member.name)) return true;
  return (ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Private) !== 0;
}

function statementName(s) {
  if (s.name && ts.isIdentifier(s.name)) return s.name.text;
  if (s.name && ts.isStringLiteral(s.name)) return s.name.text;
  if (ts.isVariableStatement(s)) return s.declarationList.declarations.map((d) => d.name.getText()).join(',');
  return '';
}

/** The sorted chunks of a normalised .d.ts. */
export function normalisedChunks(dtsText) {
  const sf = ts.createSourceFile('index.d.ts', dtsText, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });
  const print = (node) => printer.printNode(ts.EmitHint.Unspecified, node, sf).trim();
  const f = ts.factory;
  const imports = new Map(); // module → Set of printed import clauses
  const decls = []; // [name, index, text]
  const exports = new Set();

  sf.statements.forEach((s, index) => {
    if (ts.isImportDeclaration(s)) {
      const from = s.moduleSpecifier.text;
      const set = imports.get(from) ?? new Set();
      const clause = s.importClause;
      if (!clause) set.add('');
      else {
        const prefix = clause.isTypeOnly ? 'type ' : '';
        if (clause.name) set.add(`${prefix}default as ${clause.name.text}`);
        const nb = clause.namedBindings;
        if (nb && ts.isNamespaceImport(nb)) set.add(`${prefix}* as ${nb.name.text}`);
        if (nb && ts.isNamedImports(nb)) for (const e of nb.elements) set.add(`${prefix}${print(e)}`);
      }
      imports.set(from, set);
      return;
    }
    if (ts.isExportDeclaration(s) && s.exportClause && ts.isNamedExports(s.exportClause)) {
      const from = s.moduleSpecifier ? ` from ${JSON.stringify(s.moduleSpecifier.text)}` : '';
      const typeOnly = s.isTypeOnly ? 'type ' : '';
      for (const e of s.exportClause.elements) exports.add(`export ${typeOnly}{ ${print(e)} }${from};`);
      return;
    }
    if (ts.isExportDeclaration(s) || ts.isExportAssignment(s)) {
      exports.add(print(s));
      return;
    }
    let node = s;
    if (ts.isClassDeclaration(s)) {
      node = f.updateClassDeclaration(s, s.modifiers, s.name, s.typeParameters, s.heritageClauses, s.members.filter((m) => !isPrivateMember(m)));
    }
    decls.push([statementName(s), index, print(node)]);
  });

  const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const importChunks = [...imports.keys()].sort(byText).map((from) => {
    const names = [...imports.get(from)].filter((n) => n !== '').sort(byText);
    if (names.length === 0) return `import ${JSON.stringify(from)};`;
    return `import { ${names.join(', ')} } from ${JSON.stringify(from)};`;
  });
  decls.sort((a, b) => byText(a[0], b[0]) || a[1] - b[1]);
  return [...importChunks, ...decls.map((d) => d[2]), ...[...exports].sort(byText)];
}
