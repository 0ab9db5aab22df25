// For the UI's tests: a sample guest booted by the multiboot loader (as the CLI does),
// under a DebugController with the guest's symbols, its serial output collected; SeaBIOS
// on the PC board; raw 32-bit code as `--load` runs it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { enterFlatProtectedMode, loadMultiboot } from '../../src/boot/multiboot.js';
import { DebugController } from '../../src/debug/controller.js';
import { REPO } from './cli.js';
import { sample } from './samples.js';

export interface SampleController {
  ctl: DebugController;
  serial: () => string;
  /** Extra listener for serial bytes (a UiSession's console). */
  onSerial: (f: (b: number) => void) => void;
  symbol: (name: string) => number;
}

export function sampleController(name: string): SampleController {
  let serial = '';
  let tap: ((b: number) => void) | null = null;
  const machine = new PcMachine({
    serial: (b) => {
      serial += String.fromCharCode(b);
      tap?.(b);
    },
  });
  const path = join(REPO, sample(name).image);
  const k = loadMultiboot(machine.phys, machine.cpu, readFileSync(path), { kernelName: path, cmdline: path, modules: [], ramSize: machine.ramSize });
  const ctl = new DebugController(machine, { symbols: k.symbols });
  return {
    ctl,
    serial: () => serial,
    onSerial: (f) => (tap = f),
    symbol: (n) => {
      const v = ctl.lookupSymbol(n);
      if (v === null) throw new Error(`no symbol ${n} in ${name}`);
      return v;
    },
  };
}

/** Run until `pred` holds (the guest keeps running in slices), then pause. */
export async function runUntil(ctl: DebugController, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  if (ctl.state === 'stopped') ctl.resume('test');
  while (!pred()) {
    if (ctl.state !== 'running') break;
    if (Date.now() - t0 > timeoutMs) throw new Error('runUntil: timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
  if (ctl.state === 'running') await ctl.pause('test');
}

/** Strip ANSI escapes from a frame. */
export function plain(frame: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (frame ?? '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

export const SEABIOS = '/usr/share/seabios/bios.bin';
export const VGABIOS = '/usr/share/seabios/vgabios-stdvga.bin';
export const haveSeabios = (): boolean => existsSync(SEABIOS) && existsSync(VGABIOS);

/**
 * Debian's SeaBIOS on the i440FX board with the std VGA's BIOS (as `--bios` loads them),
 * under a DebugController, its debug port (0x402) collected.
 */
export function biosController(): { ctl: DebugController; debugcon: () => string } {
  let log = '';
  const machine = new PcMachine({ memoryMiB: 128, bios: readFileSync(SEABIOS), vgaBios: readFileSync(VGABIOS), debugcon: (b) => (log += String.fromCharCode(b)) });
  return { ctl: new DebugController(machine), debugcon: () => log };
}

/**
 * A raw 32-bit guest (flat protected mode, as `--load FILE@ADDR --entry ADDR` runs it)
 * on the board without a BIOS: the VGA starts in text mode 3.
 */
export function rawController(code: Uint8Array, addr = 0x100000, cpuModel?: string): DebugController {
  const machine = new PcMachine(cpuModel ? { cpuModel } : {});
  machine.phys.load(addr, code);
  enterFlatProtectedMode(machine.phys, machine.cpu, addr);
  return new DebugController(machine);
}
