// QEMU's VGA text screen, read through its monitor (pmemsave of 0xB8000), for guests that
// print through the BIOS rather than on a serial port.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QEMU_BINARY } from './qemu.js';

/** The 80x25 text screen in `dump` (character/attribute pairs) as 25 lines of text. */
export function textOf(dump: Uint8Array): string {
  const rows: string[] = [];
  for (let r = 0; r < 25; r++) {
    let l = '';
    for (let c = 0; c < 80; c++) {
      const ch = dump[(r * 80 + c) * 2] ?? 0;
      l += ch >= 32 && ch < 127 ? String.fromCharCode(ch) : ' ';
    }
    rows.push(l.trimEnd());
  }
  return rows.join('\n');
}

/**
 * Run QEMU with `args` and read its text screen every half second until it shows `want`
 * (or `timeoutMs` passes); returns the last screen.
 */
export async function qemuScreenUntil(args: string[], want: string, timeoutMs = 30_000): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'bmbt-vga-'));
  const q = spawn(QEMU_BINARY, ['-display', 'none', '-monitor', 'stdio', '-serial', 'none', '-accel', 'tcg', ...args], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  let screen = '';
  try {
    const start = Date.now();
    for (let n = 0; Date.now() - start < timeoutMs; n++) {
      await new Promise((r) => setTimeout(r, 500));
      const file = join(dir, `screen${n}.bin`);
      q.stdin.write(`pmemsave 0xb8000 4000 "${file}"\n`);
      for (let i = 0; i < 20 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 50));
      if (existsSync(file)) screen = textOf(readFileSync(file));
      if (screen.includes(want)) break;
    }
  } finally {
    q.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  return screen;
}
