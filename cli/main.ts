// bmbt-dbg entry point: parse options, build the PC, load the guest, run it headless
// (or with the gdb server / terminal UI). User errors end as one line and status 2.
import { readFileSync, openSync, existsSync } from 'node:fs';
import { OutputSinks, writeAll, type SinkWriter } from './output-sinks.js';
import { fileURLToPath } from 'node:url';
import { dirname, join, basename } from 'node:path';
import { parseCli, type CliOptions, type Sink } from './options.js';
import { QemuLog } from '../src/debug/qemu-log.js';
import type { DebugconConfig } from '../src/machine/pc-machine.js';
import { UserError, systemErrorText } from '../src/user-error.js';
import { cpuModelHelp } from '../src/cpu/cpu-models.js';
import { PcMachine } from '../src/machine/pc-machine.js';
import { isBzImage, linuxProtocol } from '../src/boot/linux.js';
import { installDirectBoot } from '../src/boot/direct-boot.js';
import { prepareBiosKernelBoot, kernelNeedsFirmware } from '../src/boot/fw-cfg-boot.js';
import { isElf, parseElf32 } from '../src/boot/elf.js';
import { runHeadless } from './headless.js';
import { runGdbSession } from './gdb-session.js';
import { chooseUi } from './ui-choice.js';
import { FIRMWARE_DIRS, findFirmware, findFirmwarePath, kvmvapicRom } from './firmware.js';
import { applyTimeTravelOptions, type TimeTravel } from './time-travel.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_GUEST = join(PACKAGE_ROOT, 'samples', 'build', 'demo.elf');

function readInput(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new UserError(`${what} ${path}: no such file`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`${what} ${path}: ${systemErrorText(e)}`);
  }
}

/**
 * The BIOS for a kernel whose real-mode setup code must run (docs/decisions.md): Debian's
 * SeaBIOS, as QEMU would use, with a note saying so.
 */
function firmwareForSetupCode(kernelPath: string, kernel: Uint8Array): Uint8Array {
  const v = linuxProtocol(kernel);
  const what = v ? `Linux boot protocol ${v >> 8}.${(v & 0xff).toString().padStart(2, '0')}` : 'a Linux zImage';
  const path = findFirmwarePath('bios.bin');
  if (!path) throw new UserError(`${basename(kernelPath)}: ${what} needs its real-mode setup code run by firmware, and bios.bin is not in ${FIRMWARE_DIRS.join(', ')} (install seabios, or give --bios)`);
  process.stderr.write(`bmbt-dbg: ${basename(kernelPath)}: ${what}: its setup code runs under SeaBIOS (${path}) and linuxboot_dma.bin\n`);
  return readFileSync(path);
}

export interface Guest {
  machine: PcMachine;
  serial: SinkWriter;
  /** The --debugcon sink and those of -device isa-debugcon (flushed together). */
  debugcon: { flush(): void };
  name: string;
  symbols: { name: string; value: number; size: number; type: number }[];
  /** The -d log (flushed with the consoles; also at process exit). */
  log: LogWriter | null;
  /** --record / --replay, when given. */
  timeTravel?: TimeTravel;
}

/**
 * Where -d lines go (-D FILE, else stderr), buffered: `-d exec` writes a line per TB,
 * far too many for one system call each.
 */
export class LogWriter {
  private chunks: string[] = [];
  private size = 0;
  private readonly fd: number;
  constructor(path: string | null) {
    if (path === null) this.fd = 2;
    else {
      try {
        this.fd = openSync(path, 'w');
      } catch (e) {
        throw new UserError(`-D ${path}: ${systemErrorText(e)}`);
      }
    }
    process.on('exit', () => this.flush());
  }
  readonly write = (text: string): void => {
    this.chunks.push(text);
    this.size += text.length;
    if (this.size > 1 << 16) this.flush();
  };
  flush(): void {
    if (this.chunks.length === 0) return;
    const data = Buffer.from(this.chunks.join(''), 'latin1');
    this.chunks = [];
    this.size = 0;
    writeAll(this.fd, data, false);
  }
}

/**
 * The isa-debugcon devices of a run: -device isa-debugcon ones, then our built-in ones
 * (0xE9, and 0x402 for SeaBIOS's log, both to --debugcon) on the ports they left free.
 * Where one overlaps pc-testdev (0xE8-0xEB), QEMU's later device answers: -debugcon is
 * created after every -device, a -device isa-debugcon in command-line order; our built-in
 * 0xE9 console without -debugcon is not QEMU's and yields to pc-testdev.
 */
function debugconDevices(opts: CliOptions, sinks: OutputSinks, builtIn: (b: number) => void): { configs: DebugconConfig[]; writers: SinkWriter[] } {
  const writers: SinkWriter[] = [];
  const configs: DebugconConfig[] = opts.debugcons.map((d) => {
    const w = sinks.writer(d.sink);
    writers.push(w);
    return { port: d.iobase, output: w.put, readback: d.readback, overPcTestdev: d.afterPcTestdev };
  });
  const taken = new Set(configs.map((c) => c.port));
  for (const port of opts.builtinDebugcons) {
    if (!taken.has(port)) configs.push({ port, output: builtIn, overPcTestdev: opts.debugcon.kind !== 'none' });
  }
  return { configs, writers };
}

/** Extra listeners for the guest's output bytes (the terminal UI's console and log). */
export interface GuestTaps {
  serial?: (byte: number) => void;
  debugcon?: (byte: number) => void;
}

/** The guest of the command line, booted, and put in the state time-travel options ask for. */
export function buildGuest(opts: CliOptions, taps: GuestTaps = {}): Guest {
  const guest = bootGuest(opts, taps);
  guest.timeTravel = applyTimeTravelOptions(guest.machine, opts);
  return guest;
}

function bootGuest(opts: CliOptions, taps: GuestTaps): Guest {
  const sinks = new OutputSinks();
  const serial = sinks.writer(opts.serial, { console: true });
  const debugcon = sinks.writer(opts.debugcon);
  let bios = opts.bios ? readInput(opts.bios, 'BIOS') : undefined;
  const kernelBytes = opts.kernel ? readInput(opts.kernel, 'kernel') : undefined;
  if (!bios && opts.kernel && kernelNeedsFirmware(kernelBytes!)) bios = firmwareForSetupCode(opts.kernel, kernelBytes!);
  // The std VGA's option ROM, as QEMU loads it (vgabios-stdvga.bin), when there is a BIOS.
  const vgaBios = bios ? findFirmware('vgabios-stdvga.bin', false) ?? undefined : undefined;
  const vapic = bios ? kvmvapicRom() : null;
  const tap = (put: (b: number) => void, extra?: (b: number) => void): ((b: number) => void) =>
    extra ? (b) => { put(b); extra(b); } : put;
  const devs = debugconDevices(opts, sinks, tap(debugcon.put, taps.debugcon));
  const allDebugcons = { flush: (): void => [debugcon, ...devs.writers].forEach((w) => w.flush()) };
  const machine = new PcMachine({
    memoryMiB: opts.memoryMiB, serial: tap(serial.put, taps.serial), bios, vgaBios, kvmvapicRom: vapic?.rom ?? undefined,
    nsPerInsn: opts.nsPerInsn, cpuModel: opts.cpuModel ?? undefined, icountAuto: opts.icountAuto,
    serialDevice: opts.serialDevice, vga: opts.vga, debugcons: devs.configs, debugExits: opts.debugExits,
    pcTestdev: opts.pcTestdev, pciTestdev: opts.pciTestdev, noReboot: opts.noReboot,
  });
  // -d/-D: QEMU's log; and with -icount shift=auto, every rate chosen (to -D, else stderr).
  const log = opts.log.items.length > 0 || (opts.log.file !== null) || opts.icountAuto ? new LogWriter(opts.log.file) : null;
  if (log && opts.log.items.length > 0) new QemuLog(machine, opts.log.items, log.write);
  // One note, in the -d log when there is one, when kvmvapic.bin is missing.
  if (vapic?.note) {
    if (log) log.write(vapic.note);
    else process.stderr.write(vapic.note);
  }
  if (log && machine.icountAuto) {
    machine.icountAuto.onChange = (c) => {
      const where = `${c.aheadNs >= 0 ? 'ahead of' : 'behind'} wall time by ${(Math.abs(c.aheadNs) / 1e6).toFixed(1)} ms`;
      log.write(`icount: shift=${c.shift} (${2 ** c.shift} ns per instruction) from instruction ${c.icount}${c.icount > 0 ? `, guest ${where}` : ''}\n`);
      if (opts.log.file === null) log.flush();
    };
  }
  let name = 'bios';
  let symbols: Guest['symbols'] = [];
  if (opts.bootSector) {
    const data = readInput(opts.bootSector, 'boot sector');
    installDirectBoot(machine, { kind: 'boot-sector', data, name: opts.bootSector });
    name = basename(opts.bootSector);
  } else if (opts.loads.length > 0) {
    const images = opts.loads.map((l) => ({ name: l.path, addr: l.addr, data: readInput(l.path, 'image') }));
    installDirectBoot(machine, { kind: 'load', images, entry: opts.entry! });
    name = basename(opts.loads[0]!.path);
  } else if (opts.kernel && bios) {
    // With a BIOS, the kernel goes through fw_cfg and QEMU's option ROMs, as under QEMU.
    const kernel = kernelBytes!;
    const initrds = opts.initrd.map((p) => ({ name: p, data: readInput(p, 'initrd') }));
    prepareBiosKernelBoot(machine.fwCfg, {
      kernelName: opts.kernel, kernel, cmdline: opts.append, initrds, ramSize: machine.ramSize,
      optionRom: (n) => findFirmware(n, true)!,
    });
    name = basename(opts.kernel);
    if (isElf(kernel)) symbols = parseElf32(kernel, opts.kernel).symbols;
  } else if (opts.kernel || !opts.bios) {
    // No firmware: the loader runs now and again after every reset (src/boot/direct-boot.ts).
    const path = opts.kernel ?? DEFAULT_GUEST;
    const kernel = kernelBytes ?? readInput(path, 'kernel');
    name = basename(path);
    if (isBzImage(kernel)) {
      // A Linux bzImage without a BIOS: the 32-bit boot protocol, directly.
      if (opts.initrd.length > 1) throw new UserError('a Linux kernel takes one --initrd');
      const initrd = opts.initrd.length ? readInput(opts.initrd[0]!, 'initrd') : null;
      installDirectBoot(machine, { kind: 'linux', image: kernel, options: { name: path, cmdline: opts.append, initrd, ramSize: machine.ramSize } });
      return { machine, serial, debugcon: allDebugcons, name, symbols, log };
    }
    const modules = opts.initrd.map((p) => ({ name: p, data: readInput(p, 'initrd') }));
    const cmdline = opts.append ? `${path} ${opts.append}` : path;
    const k = installDirectBoot(machine, { kind: 'multiboot', kernel, options: { kernelName: path, cmdline, modules, ramSize: machine.ramSize } });
    if (k && 'symbols' in k) symbols = k.symbols;
  }
  return { machine, serial, debugcon: allDebugcons, name, symbols, log };
}

export async function main(argv: string[]): Promise<number> {
  const opts = parseCli(argv);
  if (opts === 'help') return 0;
  if (opts === 'version') {
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
    process.stdout.write(`bmbt-dbg ${pkg.version} (an x86-32 PC, QEMU 7.2's command line)\n`);
    return 0;
  }
  if (opts.cpuModel === 'help') {
    process.stdout.write(cpuModelHelp());
    return 0;
  }
  // The terminal UI and the dashboard, when there is a terminal for them (cli/tui-session.ts).
  const ui = chooseUi(opts);
  if (ui === 'tui') return (await import('./tui-session.js')).runTuiSession(opts);
  if (ui === 'dashboard') return (await import('./dashboard.js')).runDashboard(opts);
  const guest = buildGuest(opts);
  // --gdb without the terminal UI: the gdb server on the debugger controller.
  if (opts.gdb) return runGdbSession(guest, opts);
  return runHeadless(guest, opts);
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`bmbt-dbg: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`bmbt-dbg: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 70;
  }
}
