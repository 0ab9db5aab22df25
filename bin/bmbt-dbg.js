#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// The old generation grows by a quarter past what survives a full GC, not by V8's
// default (up to 2x or more): translated code makes much short-lived garbage, and the
// default let a Linux boot's peak RSS reach 800 MiB for under 200 MiB live (issue 10).
// Measured on the bench:linux direct boot: peak RSS 765-803 -> 448 MiB, CPU time within
// the run-to-run noise.
setFlagsFromString('--heap-growing-percent=25');

const { runCli } = await import('../dist/cli/main.js');
await runCli(process.argv.slice(2));
