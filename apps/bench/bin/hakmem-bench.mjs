#!/usr/bin/env node
// Runs the TypeScript entry with no build: Node with tsx as a loader, and workspace
// packages resolved to their src/ (the "@hakmem/source" export condition). Keep in step
// with nodeArgs() in src/runner.ts, which starts the measuring children the same way.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// tsx compiles with the repository's compiler options only for the files a tsconfig
// includes (see tsconfig.run.json; RUN_TSCONFIG in src/runner.ts for the children).
const tsconfig = process.env.TSX_TSCONFIG_PATH ?? fileURLToPath(new URL('../tsconfig.run.json', import.meta.url));
const child = spawnSync(
  process.execPath,
  ['--import', tsx, '--conditions=@hakmem/source', cli, ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig } },
);
if (child.error) throw child.error;
if (child.signal) process.kill(process.pid, child.signal);
process.exit(child.status ?? 1);
