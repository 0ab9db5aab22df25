// What names a translator build for the persistent translation cache (tb-store.ts): a
// hash of the emulator's own code files as they run. Any change to the decoder, the
// generators, the runtime they call or anything else in the core gives another name, so a
// cache file written by another build is never read (a hash of a few source files would
// miss a helper whose meaning changed under the same generated call).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/**
 * The build's name: SHA-256 of every code file of the core (src/ or dist/src/, or the
 * bundle this module was bundled into), by path and content.
 */
export function translatorVersion(): string {
  if (cached !== null) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/bundle/<chunk>.js holds the core among the rest; otherwise this is <root>/tb/.
  const root = basename(here) === 'bundle' ? here : join(here, '..');
  const h = createHash('sha256');
  for (const f of codeFiles(root)) {
    h.update(relative(root, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  cached = h.digest('hex');
  return cached;
}

function codeFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(m?js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.map')) out.push(p);
    }
  };
  walk(dir);
  return out;
}
