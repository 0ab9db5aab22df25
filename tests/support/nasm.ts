// Test guests written in assembly: nasm (installed by .ci/run) assembles them to flat
// binaries at test time, so each test keeps its guest's source next to what it checks.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let nasmOk: boolean | undefined;
export function haveNasm(): boolean {
  nasmOk ??= spawnSync('nasm', ['-v'], { stdio: 'ignore' }).status === 0;
  return nasmOk;
}

/** Skip where nasm is missing, except in CI (there a missing nasm must fail). */
export function skipWithoutNasm(): boolean {
  if (haveNasm() || process.env['CI']) return false;
  console.warn('[nasm] nasm not found: tests with assembled guests are skipped (apt-get install nasm)');
  return true;
}

/** `nasm -f bin` of `source`; throws with nasm's messages when it does not assemble. */
export function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'bmbt-nasm-'));
  try {
    writeFileSync(join(dir, 'guest.asm'), source);
    const r = spawnSync('nasm', ['-f', 'bin', '-o', join(dir, 'guest.bin'), join(dir, 'guest.asm')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nasm failed: ${r.stderr || r.error?.message}`);
    return new Uint8Array(readFileSync(join(dir, 'guest.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
