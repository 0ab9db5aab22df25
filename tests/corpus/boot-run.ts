// Running one corpus boot as a child process, as a user would: bmbt-dbg headless or
// qemu-system-i386, serial console on stdout. Used by the corpus tests and by
// `npm run bench:linux`: it records the wall time at which each marker first appears on
// the console, the exit status, and the process's peak RSS (VmHWM from /proc, polled;
// the kernel keeps the high-water mark, so polling misses at most the growth of the last
// interval before exit).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Corpus } from './fetch.js';

/** The checkout: this file runs from tests/corpus (vitest) and from dist/tests/corpus (the bench). */
function findRepo(from: string): string {
  for (let d = from; d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'bin', 'bmbt-dbg.js'))) return d;
  }
  throw new Error(`no bmbt-dbg checkout above ${from}`);
}

export const REPO = findRepo(import.meta.dirname);
export const BMBT_BIN = join(REPO, 'bin', 'bmbt-dbg.js');
export const QEMU_BIN = process.env['QEMU_I386'] ?? 'qemu-system-i386';

export interface BootResult {
  /** exit status, or null when killed */
  code: number | null;
  signal: string | null;
  /** the serial console (stdout), latin1 */
  out: string;
  err: string;
  /** ms from spawn to the first appearance of each marker that appeared */
  markerMs: Record<string, number>;
  wallMs: number;
  /** peak resident set size in KiB (0 if /proc could not be read) */
  peakRssKiB: number;
  timedOut: boolean;
}

function vmHwmKiB(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function runBoot(cmd: string, args: string[], opts: { markers: readonly string[]; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<BootResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let out = '';
    let err = '';
    let peak = 0;
    let timedOut = false;
    const markerMs: Record<string, number> = {};
    const poll = setInterval(() => {
      if (child.pid) peak = Math.max(peak, vmHwmKiB(child.pid));
    }, 25);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.setEncoding('latin1').on('data', (d: string) => {
      // Search only the new text (and a marker's length before it, for a split marker).
      const from = Math.max(0, out.length - 64);
      out += d;
      const now = performance.now() - t0;
      for (const m of opts.markers) if (!(m in markerMs) && out.indexOf(m, from) >= 0) markerMs[m] = now;
      if (child.pid) peak = Math.max(peak, vmHwmKiB(child.pid));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 1 << 20) err += d;
      if (child.pid) peak = Math.max(peak, vmHwmKiB(child.pid));
    });
    child.on('error', (e) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, signal, out, err, markerMs, wallMs: performance.now() - t0, peakRssKiB: peak, timedOut });
    });
  });
}

/** The Linux command line of every corpus boot. */
export const LINUX_APPEND = [
  'console=ttyS0',
  // A panic reboots at once; with -no-reboot QEMU then exits instead of waiting forever.
  'panic=-1',
  // The kernel's load address is random otherwise (it differs between any two QEMU runs):
  // turning randomisation off beats normalising every address in /proc/iomem.
  'nokaslr',
].join(' ');

export const LINUX_MEMORY_MIB = 128;

/**
 * The QEMU CPU model to compare with: the one bmbt-dbg implements by default (family 6
 * model 5 stepping 2, "Pentium II (Deschutes)", src/cpu/cpuid-msr.ts). When bmbt-dbg
 * learns `-cpu` (issue 9), both sides get the same `-cpu` and this becomes QEMU's default.
 */
export const QEMU_CPU = 'pentium2';

/** The RTC start bmbt-dbg uses (deterministic), given to QEMU so dates agree. */
export const RTC_BASE = '2024-01-01T00:00:00';

export type LinuxPath = 'bios' | 'direct';

/**
 * QEMU with the same PC as bmbt-dbg's board: -nodefaults drops the floppy drive, the
 * CD-ROM, the parallel port and the NIC bmbt-dbg does not have, -vga std puts back the
 * VGA bmbt-dbg does have; -nographic sets fw_cfg's "nographic" as bmbt-dbg does (SeaBIOS
 * then mirrors its screen on COM1, on both).
 */
export function qemuLinuxArgs(c: Corpus, path: LinuxPath): string[] {
  return [
    '-nodefaults', '-vga', 'std', '-nographic', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
    '-m', String(LINUX_MEMORY_MIB), '-cpu', QEMU_CPU, '-rtc', `base=${RTC_BASE}`,
    ...(path === 'bios' ? ['-bios', c.seabios.bios] : []),
    '-kernel', c.linux.vmlinuz, '-initrd', c.initramfs.path, '-append', LINUX_APPEND,
  ];
}

/** bmbt-dbg, headless; `--bios` runs SeaBIOS and linuxboot_dma.bin, else the direct loader. */
export function bmbtLinuxArgs(c: Corpus, path: LinuxPath): string[] {
  return [
    BMBT_BIN, '--ui', 'none', '--serial', 'stdio', '-m', String(LINUX_MEMORY_MIB),
    ...(path === 'bios' ? ['--bios', c.seabios.bios] : []),
    '--kernel', c.linux.vmlinuz, '--initrd', c.initramfs.path, '--append', LINUX_APPEND,
  ];
}

/** Whether the long (Linux) cases run: in CI, or when asked for. */
export function fullCorpusRun(): boolean {
  return Boolean(process.env['CI']) || process.env['BMBT_FULL'] === '1';
}
