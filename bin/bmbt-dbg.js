#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { statSync } from 'node:fs';

// The old generation grows by a quarter past what survives a full GC, not by V8's
// default (up to 2x or more): translated code makes much short-lived garbage, and the
// default let a Linux boot's peak RSS reach 800 MiB for under 200 MiB live (issue 10).
// Measured on the bench:linux direct boot: peak RSS 765-803 -> 448 MiB, CPU time within
// the run-to-run noise.
setFlagsFromString('--heap-growing-percent=25');
// The young generation stays at its first size instead of growing to 16 MiB semi-spaces:
// a boot's garbage is short-lived translation and lookup work, and the larger nursery
// bought no speed. Measured on the SeaBIOS Linux boot, two pairs run side by side: peak
// RSS 237/225 -> 189/185 MiB, CPU time +2% / -0.6% (noise). (--max-semi-space-size would
// say it directly but is read only when V8 starts; this one is read as the heap grows.)
setFlagsFromString('--semi-space-growth-factor=1');

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
