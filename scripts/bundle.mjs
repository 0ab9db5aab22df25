// Bundles the compiled CLI (dist/cli/main.js and what it imports, Ink and React included)
// into dist/bundle, one file per lazily loaded part. Node spent most of the terminal UI's
// first second resolving, reading and compiling ~1,500 module files (issue 11, defect 19);
// a handful of bundle files load in a third of that time. bin/bmbt-dbg.js uses the bundle
// when it is newer than the compiled files, and the compiled files otherwise.
//
// dist/bundle sits as deep as dist/cli, so paths made from import.meta.url (the package
// root) come out the same. Packages that load files of their own at run time (blessed's
// widgets, iced-x86's wasm) or are optional (react-devtools-core) stay outside.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['blessed', 'blessed-contrib', 'iced-x86', 'react-devtools-core'],
  // CommonJS packages inside an ES module bundle still call require() for Node's modules.
  banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
  // Beside each bundle file, for BMBT_STATS=profile (cli/time-breakdown.ts): a sample's
  // function is put in a phase by the module it comes from. No comment points to it, so
  // nothing reads it at run time.
  sourcemap: 'external',
  sourcesContent: false,
  logLevel: 'warning',
});
