#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { statSync } from 'node:fs';

// The old generation grows by a quarter past what survives a full GC, not by V8's
// default (up to 2x or more): translated code makes much short-lived garbage, and the
// default let a Linux boot's peak RSS reach 800 MiB for under 200 MiB live (issue 10).
// Measured on the bench:linux direct boot: peak RSS 765-803 -> 448 MiB, CPU time within
// the run-to-run noise.
setFlagsFromString('--heap-growing-percent=25');

// The bundle (scripts/bundle.mjs) starts the terminal UI in half the time; it is used only
// when it was made from the current compiled files (a `tsc` alone leaves it behind), and
// not with BMBT_NO_BUNDLE=1 (stack traces in the compiled files' own names).
const mtime = (rel) => {
  try {
    return statSync(new URL(rel, import.meta.url)).mtimeMs;
  } catch {
    return -1;
  }
};
const bundled = process.env.BMBT_NO_BUNDLE !== '1' && mtime('../dist/bundle/main.js') >= mtime('../dist/cli/main.js') && mtime('../dist/cli/main.js') > 0;
const { runCli } = await import(bundled ? '../dist/bundle/main.js' : '../dist/cli/main.js');
await runCli(process.argv.slice(2));
