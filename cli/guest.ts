// The guest of one run, as the command line asks for it: the files read, the firmware
// found (boot policy itself is src/boot/guest-boot.ts), the machine built with its
// consoles and logs, and the debugger controller on it for the front ends.
import { readFileSync, openSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { CliOptions } from './options.js';
import { OutputSinks, writeAll, type SinkWriter } from './output-sinks.js';
import { QemuLog } from '../src/debug/qemu-log.js';
import type { DebugconConfig } from '../src/machine/pc-machine.js';
import { PcMachine } from '../src/machine/pc-machine.js';
import { UserError, systemErrorText } from '../src/user-error.js';
import { installGuest, planFirmware, type FirmwareFiles, type GuestSpec, type NamedBytes } from '../src/boot/guest-boot.js';
import { DebugController, type ControllerOptions } from '../src/debug/controller.js';
import { FIRMWARE_DIRS, findFirmwarePath } from './firmware.js';
import { applyTimeTravelOptions, type TimeTravel } from './time-travel.js';
import { openDrives, closeImagesOnSignals } from './drives.js';
import type { TbStore } from '../src/tb/tb-store.js';
import { onTerminatingSignal } from './signal-exit.js';

const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_GUEST = join(PACKAGE_ROOT, 'samples', 'build', 'demo.elf');

/** Firmware files from Debian's packages (BMBT_FIRMWARE_DIR first). */
const FIRMWARE: FirmwareFiles = {
  find(name) {
    const path = findFirmwarePath(name);
    return path ? { name: path, bytes: readFileSync(path) } : null;
  },
  where: FIRMWARE_DIRS.join(', '),
};

function readInput(path: string, what: string): Uint8Array {
  if (!existsSync(path)) throw new UserError(`${what} ${path}: no such file`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(`${what} ${path}: ${systemErrorText(e)}`);
  }
}

export interface Guest {
  pc: PcMachine;
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
  const sinks = new OutputSinks();
  const serial = sinks.writer(opts.serial, { console: true });
  const debugcon = sinks.writer(opts.debugcon);
  const file = (path: string, what: string): NamedBytes => ({ name: path, bytes: readInput(path, what) });
  // Nothing to boot asked for: the embedded demo.
  const nothing = !opts.kernel && !opts.bios && !opts.bootSector && opts.loads.length === 0 && opts.drives.length === 0;
  const spec: GuestSpec = {
    kernel: opts.kernel ? file(opts.kernel, 'kernel') : nothing ? file(DEFAULT_GUEST, 'kernel') : null,
    initrds: opts.initrd.map((p) => file(p, 'initrd')),
    append: opts.append,
    bios: opts.bios ? file(opts.bios, 'BIOS') : null,
    bootSector: opts.bootSector ? file(opts.bootSector, 'boot sector') : null,
    loads: opts.loads.map((l) => ({ ...file(l.path, 'image'), addr: l.addr })),
    entry: opts.entry,
    drives: opts.drives.length > 0,
  };
  const plan = planFirmware(spec, FIRMWARE);
  const tap = (put: (b: number) => void, extra?: (b: number) => void): ((b: number) => void) =>
    extra ? (b) => { put(b); extra(b); } : put;
  // The images last: every other input is checked before one is opened (and locked).
  const drives = openDrives(opts.drives, opts.snapshot);
  const devs = debugconDevices(opts, sinks, tap(debugcon.put, taps.debugcon));
  const allDebugcons = { flush: (): void => [debugcon, ...devs.writers].forEach((w) => w.flush()) };
  const machine = new PcMachine({
    memoryMiB: opts.memoryMiB, serial: tap(serial.put, taps.serial), bios: plan.bios, vgaBios: plan.vgaBios, kvmvapicRom: plan.kvmvapicRom,
    nsPerInsn: opts.nsPerInsn, cpuModel: opts.cpuModel ?? undefined, icountAuto: opts.icountAuto, cpus: opts.cpus,
    serialDevice: opts.serialDevice, vga: opts.vga, debugcons: devs.configs, debugExits: opts.debugExits,
    pcTestdev: opts.pcTestdev, pciTestdev: opts.pciTestdev, noReboot: opts.noReboot,
    drives, bootOrder: opts.bootOrder ?? undefined,
  });
  closeImagesOnSignals(machine);
  // -d/-D: QEMU's log; and with -icount shift=auto, every rate chosen (to -D, else stderr).
  const log = opts.log.items.length > 0 || (opts.log.file !== null) || opts.icountAuto ? new LogWriter(opts.log.file) : null;
  if (log && opts.log.items.length > 0) new QemuLog(machine, opts.log.items, log.write);
  for (const n of plan.notes) {
    // kvmvapic's note goes to the -d log when there is one.
    if (n.log && log) log.write(`bmbt-dbg: ${n.text}\n`);
    else process.stderr.write(`bmbt-dbg: ${n.text}\n`);
  }
  if (log && machine.icountAuto) {
    machine.icountAuto.onChange = (c) => {
      const where = `${c.aheadNs >= 0 ? 'ahead of' : 'behind'} wall time by ${(Math.abs(c.aheadNs) / 1e6).toFixed(1)} ms`;
      log.write(`icount: shift=${c.shift} (${2 ** c.shift} ns per instruction) from instruction ${c.icount}${c.icount > 0 ? `, guest ${where}` : ''}\n`);
      if (opts.log.file === null) log.flush();
    };
  }
  saveAtExit(machine.useTbStore(opts.tbCache));
  const booted = installGuest(machine, spec, FIRMWARE);
  const timeTravel = applyTimeTravelOptions(machine, opts);
  return { pc: machine, serial, debugcon: allDebugcons, name: booted.name, symbols: booted.symbols, log, timeTravel };
}

/** Stores whose machines are still alive, written at exit (a store dropped before is lost: it is a cache). */
const openStores = new Set<WeakRef<TbStore>>();
let exitHooked = false;

function saveAtExit(store: TbStore | null): void {
  if (store === null) return;
  // Written at exit however the run ends (power-off, quit, a signal: signal-exit.ts turns
  // SIGINT, SIGTERM and SIGHUP into an exit where nothing else handles them).
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const ref of openStores) ref.deref()?.save();
    });
    onTerminatingSignal(() => {});
  }
  for (const ref of openStores) if (ref.deref() === undefined) openStores.delete(ref);
  openStores.add(new WeakRef(store));
}

/** The debugger controller on a guest: the one place the front ends get the machine from. */
export function guestController(guest: Guest, opts: ControllerOptions = {}): DebugController {
  return new DebugController(guest.pc, { symbols: guest.symbols, ...opts });
}
