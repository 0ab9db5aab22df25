// The SMP test guest (tests/guests/smp): its image and its symbols, from the map nasm
// writes beside it (tests/guests/build/smp.map), so that tests name the guest's code by
// label and survive changes to it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './cli.js';

export const SMP_GUEST = 'tests/guests/build/smp.bin';

let symbols: Map<string, number> | null = null;

/** The address of a label of smp.asm (`ap_main`, `isr_ping`, `ap_main.idle` ...). */
export function smpSymbol(name: string): number {
  if (symbols === null) {
    symbols = new Map();
    const map = readFileSync(join(REPO, 'tests/guests/build/smp.map'), 'latin1');
    // "Real              Virtual           Name" rows of the section's symbols.
    for (const m of map.matchAll(/^ +([0-9A-F]+) +[0-9A-F]+ +(\S+)$/gm)) symbols.set(m[2]!, parseInt(m[1]!, 16));
  }
  const a = symbols.get(name);
  if (a === undefined) throw new Error(`smp.asm has no label ${name}`);
  return a;
}
