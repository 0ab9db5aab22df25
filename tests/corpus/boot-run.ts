// Running one corpus boot as a child process, as a user would: bmbt-dbg headless (serial
// console on stdout) or qemu-system-i386 (serial console in a file). Used by the corpus tests and by
// `npm run bench:linux`: it records the wall time at which each marker first appears on
// the console, the exit status, and the process's peak RSS (VmHWM from /proc, polled;
// the kernel keeps the high-water mark, so polling misses at most the growth of the last
// interval before exit).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

export interface RunBootOptions {
  markers: readonly string[];
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /**
   * The console goes to this file, not stdout (it is polled for the markers). QEMU's
   * UART drops a character after a few failed writes to a full pipe (measured: whole
   * words lost when the reader fell behind on a loaded machine); a file never fills.
   */
  consoleFile?: string;
}

export function runBoot(cmd: string, args: string[], opts: RunBootOptions): Promise<BootResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let out = '';
    let err = '';
    let peak = 0;
    let timedOut = false;
    const markerMs: Record<string, number> = {};
    const seen = (text: string, from: number): void => {
      const now = performance.now() - t0;
      for (const m of opts.markers) if (!(m in markerMs) && text.indexOf(m, from) >= 0) markerMs[m] = now;
    };
    const readConsole = (): void => {
      if (!opts.consoleFile || !existsSync(opts.consoleFile)) return;
      const text = readFileSync(opts.consoleFile, 'latin1');
      if (text.length === out.length) return;
      const from = Math.max(0, out.length - 64);
      out = text;
      seen(out, from);
    };
    const poll = setInterval(() => {
      if (child.pid) peak = Math.max(peak, vmHwmKiB(child.pid));
      readConsole();
    }, 25);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.setEncoding('latin1').on('data', (d: string) => {
      if (opts.consoleFile) return;
      // Search only the new text (and a marker's length before it, for a split marker).
      const from = Math.max(0, out.length - 64);
      out += d;
      seen(out, from);
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
      readConsole();
      resolve({ code, signal, out, err, markerMs, wallMs: performance.now() - t0, peakRssKiB: peak, timedOut });
    });
  });
}

/** Runs `f` with a fresh console file path, removed afterwards. */
export async function withConsoleFile<T>(f: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bmbt-corpus-'));
  try {
    return await f(join(dir, 'console.log'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
 * The CPU model of both sides: bmbt-dbg's default (decisions.md "CPU models are QEMU's"),
 * named on both command lines so that a change of default does not go unnoticed.
 */
export const CPU_MODEL = 'pentium2';

/** The RTC start bmbt-dbg uses (deterministic), given to QEMU so dates agree. */
export const RTC_BASE = '2024-01-01T00:00:00';

export type LinuxPath = 'bios' | 'direct';

/**
 * QEMU with the same PC as bmbt-dbg's board (the console in `consoleFile`; `icount` for
 * the comparisons, off for the bench, which measures QEMU as people run it):
 * -nodefaults drops the floppy drive, the CD-ROM, the parallel port and the NIC bmbt-dbg
 * does not have, -vga std puts back the VGA bmbt-dbg does have; -nographic sets fw_cfg's
 * "nographic" as bmbt-dbg does (SeaBIOS then mirrors its screen on COM1, on both).
 */
export function qemuLinuxArgs(c: Corpus, path: LinuxPath, o: { consoleFile: string; icount: boolean; cpu?: string; smp?: number }): string[] {
  return [
    ...(o.smp !== undefined ? ['-smp', String(o.smp)] : []),
    '-nodefaults', '-vga', 'std', '-nographic', '-serial', `file:${o.consoleFile}`, '-monitor', 'none', '-no-reboot',
    '-m', String(LINUX_MEMORY_MIB), '-cpu', o.cpu ?? CPU_MODEL, '-rtc', `base=${RTC_BASE}`,
    // Guest time from the instruction count, 1 ns each, and no sleeping while idle (time
    // jumps to the next timer): bmbt-dbg's clock. Without it the kernel's timing checks
    // (timer-through-IO-APIC, PM timer rate, TSC calibration) follow the host's load.
    ...(o.icount ? ['-icount', 'shift=0,sleep=off'] : []),
    ...(path === 'bios' ? ['-bios', c.seabios.bios] : []),
    '-kernel', c.linux.vmlinuz, '-initrd', c.initramfs.path, '-append', LINUX_APPEND,
  ];
}

/** bmbt-dbg, headless; `--bios` runs SeaBIOS and linuxboot_dma.bin, else the direct loader. */
export function bmbtLinuxArgs(c: Corpus, path: LinuxPath, cpu = CPU_MODEL, smp?: number): string[] {
  return [
    BMBT_BIN, ...(smp !== undefined ? ['-smp', String(smp)] : []), '--ui', 'none', '--serial', 'stdio', '-m', String(LINUX_MEMORY_MIB), '--cpu', cpu,
    ...(path === 'bios' ? ['--bios', c.seabios.bios] : []),
    '--kernel', c.linux.vmlinuz, '--initrd', c.initramfs.path, '--append', LINUX_APPEND,
  ];
}

/** Whether the long (Linux) cases run: in CI, or when asked for. */
export function fullCorpusRun(): boolean {
  return Boolean(process.env['CI']) || process.env['BMBT_FULL'] === '1';
}
