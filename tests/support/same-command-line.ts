// One command line, two emulators: run `qemu-system-i386 ARGS` and `bmbt-dbg ARGS` and
// compare what a user sees (stdout, the exit status). Guests for it are flat Multiboot
// images (the a.out kludge, so both loaders take a nasm `-f bin` file) built at test time.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QEMU_BINARY } from './qemu.js';
import { runCli, type CliResult } from './cli.js';
import { assemble } from './nasm.js';

/** `killAfterMs`: a run that never ends by itself (QEMU rebooting a guest) is stopped then, and that is no error. */
export function runQemuCli(args: string[], opts: { input?: string; timeoutMs?: number; killAfterMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU_BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`qemu ${args.join(' ')} timed out; stdout so far: ${JSON.stringify(stdout)} stderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    const stopper = opts.killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGTERM'), opts.killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (stopper) clearTimeout(stopper);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export async function runBoth(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<{ qemu: CliResult; ours: CliResult }> {
  const [qemu, ours] = await Promise.all([runQemuCli(args, opts), runCli(args, opts)]);
  return { qemu, ours };
}

/** A flat Multiboot v1 kernel at 1 MiB from a 32-bit nasm body (entry at `start`). */
export function multibootFlat(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bmbt-mbflat-'));
  const image = assemble(`bits 32
org 0x100000
mb_header:
  dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
  dd mb_header, mb_header, 0, 0, start
${body}
`);
  const path = join(dir, 'kernel.bin');
  writeFileSync(path, image);
  return path;
}

/** Print AL as two hex digits and a space on port `port` (nasm macro text). */
export const HEX_PRINTER = `
%macro print_hex 1          ; print_hex PORT: AL as "xx "
  push eax
  push edx
  mov dx, %1
  mov ah, al
  shr al, 4
  call hex_nibble
  out dx, al
  mov al, ah
  and al, 15
  call hex_nibble
  out dx, al
  mov al, ' '
  out dx, al
  pop edx
  pop eax
%endmacro
`;

export const HEX_NIBBLE = `
hex_nibble:
  add al, '0'
  cmp al, '9'
  jbe .done
  add al, 7
.done:
  ret
`;
