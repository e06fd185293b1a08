#!/usr/bin/env node
// Contract D, second half: a box's package.json may not depend on another box.
// (The lint rule catches imports; this catches declared dependencies.)
// Usage: node tools/check-box-deps.mjs [rootDir]   exits 1 and lists violations.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Returns the violations under rootDir/packages/boxes as strings ([] when clean). */
export function checkBoxDeps(rootDir) {
  const boxesDir = join(rootDir, 'packages', 'boxes');
  if (!existsSync(boxesDir)) return [];
  const boxes = readdirSync(boxesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(boxesDir, d.name, 'package.json')))
    .map((d) => ({ dir: d.name, pkg: JSON.parse(readFileSync(join(boxesDir, d.name, 'package.json'), 'utf8')) }));
  const boxNames = new Set(boxes.map((b) => b.pkg.name));
  const violations = [];
  for (const { dir, pkg } of boxes) {
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
      for (const dep of Object.keys(pkg[field] ?? {})) {
        if (dep !== pkg.name && boxNames.has(dep)) {
          violations.push(`packages/boxes/${dir}/package.json: ${field} names the box ${dep} (Contract D: a box depends on no other box)`);
        }
      }
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const violations = checkBoxDeps(resolve(process.argv[2] ?? '.'));
  for (const v of violations) console.error(v);
  if (violations.length > 0) process.exit(1);
}
