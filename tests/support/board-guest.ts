// Runs a board test guest (tests/guests/board, a multiboot ELF that prints on COM1 and
// exits through isa-debug-exit at 0xF4) three ways: QEMU 7.2 (through SeaBIOS, as
// `-kernel` always is there), bmbt-dbg with the same SeaBIOS, and bmbt-dbg booting it
// directly. Each run gives the COM1 text and the exit status. QEMU runs with
// `-icount shift=0`: 1 ns per instruction, as bmbt-dbg's default clock, so its timers
// fire at exact instruction counts and the output does not depend on the host's load.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli } from './cli.js';
import { QEMU_BINARY } from './qemu.js';

export const SEABIOS = '/usr/share/seabios/bios.bin';
export const haveSeabios = existsSync(SEABIOS);

export interface GuestRun {
  code: number | null;
  out: string;
}

export function boardElf(name: string): string {
  return join(REPO, 'tests/guests/build', `board-${name}.elf`);
}

/** QEMU 7.2's output, committed (tests/guests/board/expected, `make expected`). */
export function expectedOutput(name: string): string {
  return readFileSync(join(REPO, 'tests/guests/board/expected', `${name}.txt`), 'latin1');
}

/** SeaBIOS's serial console (QEMU -nographic) precedes the guest's output: cut it off. */
export function guestPart(out: string, firstLine: string): string {
  const i = out.indexOf(firstLine);
  return i < 0 ? out : out.slice(i);
}

export function runQemuGuest(name: string, extra: string[] = [], timeoutMs = 60_000): Promise<GuestRun> {
  return new Promise((resolve, reject) => {
    let out = '';
    const q = spawn(QEMU_BINARY, [
      '-icount', 'shift=0', '-kernel', boardElf(name), '-serial', 'stdio', '-display', 'none', '-monitor', 'none', '-net', 'none', '-no-reboot',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...extra,
    ], { stdio: ['ignore', 'pipe', 'ignore'] });
    const t = setTimeout(() => q.kill('SIGKILL'), timeoutMs);
    q.stdout.setEncoding('latin1').on('data', (d: string) => (out += d));
    q.on('error', reject);
    q.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

/** `bios`: through SeaBIOS (true: Debian's bios.bin; a path: that build). */
export async function runOursGuest(name: string, opts: { bios?: boolean | string; args?: string[]; timeoutMs?: number } = {}): Promise<GuestRun> {
  const args = ['--kernel', boardElf(name), ...(opts.bios ? ['--bios', typeof opts.bios === 'string' ? opts.bios : SEABIOS] : []), ...(opts.args ?? [])];
  const r = await runCli(args, { timeoutMs: opts.timeoutMs ?? 120_000 });
  return { code: r.code, out: r.stdout };
}
