// A machine built in this process exactly as the command line builds it (cli/main.ts
// buildGuest), with its serial output collected, for tests that drive the machine itself.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuest } from '../../cli/main.js';
import { parseCli } from '../../cli/options.js';
import type { PcMachine } from '../../src/machine/pc-machine.js';
import { REPO } from './cli.js';

export const SEABIOS_BIN = '/usr/share/seabios/bios.bin';
export const haveSeabiosFiles = existsSync(SEABIOS_BIN) && existsSync('/usr/share/seabios/vgabios-stdvga.bin');

export interface GuestMachine {
  pc: PcMachine;
  /** Serial bytes so far, each with the instruction count at which the guest wrote it. */
  serial: { byte: number; icount: number }[];
  serialText(): string;
  debugconText(): string;
}

/**
 * `args` as on the command line; relative paths are the repository's. With
 * `stopOnSerial`, every serial byte ends the current run() right after the instruction
 * that wrote it (an 'exit-request' stop), so the state there can be looked at.
 */
export function guestMachine(args: string[], how: { stopOnSerial?: boolean } = {}): GuestMachine {
  const opts = parseCli([...args.map((a) => (a.startsWith('samples/') || a.startsWith('tests/') ? join(REPO, a) : a)), '-serial', 'null']);
  if (opts === 'help' || opts === 'version') throw new Error(opts);
  const serial: { byte: number; icount: number }[] = [];
  let debugcon = '';
  let machine: PcMachine | null = null;
  const g = buildGuest(opts, {
    serial: (b) => {
      serial.push({ byte: b, icount: machine ? machine.cpu.icount + machine.cpu.icountOff : 0 });
      if (how.stopOnSerial && machine) {
        machine.exec.exitRequest = true;
        machine.cpu.requestExit();
      }
    },
    debugcon: (b) => (debugcon += String.fromCharCode(b)),
  });
  machine = g.pc;
  return {
    pc: g.pc,
    serial,
    serialText: () => String.fromCharCode(...serial.map((s) => s.byte)),
    debugconText: () => debugcon,
  };
}

/**
 * Run until icount reaches `target`, the guest stops for good, or (halted, waiting) virtual
 * time passes `maxNs`; the stop kind ('waiting' for the last).
 */
export function runTo(m: PcMachine, target: number, opts: { slice?: number; maxNs?: number } = {}): string {
  const slice = opts.slice ?? 1_000_000;
  const maxNs = opts.maxNs ?? 60e9;
  for (;;) {
    const left = target - m.cpu.icount;
    if (left <= 0) return 'budget';
    if (m.clock.now() > maxNs) return 'waiting';
    const stop = m.run(Math.min(left, slice));
    if (stop.kind !== 'budget' && stop.kind !== 'exit-request') return stop.kind;
  }
}
