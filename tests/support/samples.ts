// The sample manifest (samples/samples.json) and a machine booted from a sample.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PcMachine, type MachineConfig } from '../../src/machine/pc-machine.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';
import { REPO } from './cli.js';

export interface SampleEntry {
  name: string;
  image: string;
  description: string;
  serial: string | null;
  serialPattern?: string;
  debugcon: string | null;
  exitStatus: number | null;
  input: string | null;
  bench?: boolean;
  bootSector?: boolean;
  approxInsns?: number;
  /** -cpu model the sample needs (default: bmbt-dbg's) */
  cpu?: string;
}

export const SAMPLES: SampleEntry[] = JSON.parse(readFileSync(join(REPO, 'samples', 'samples.json'), 'utf8'));

export function sample(name: string): SampleEntry {
  const s = SAMPLES.find((e) => e.name === name);
  if (!s) throw new Error(`no sample ${name}`);
  return s;
}

export interface BootedSample {
  pc: PcMachine;
  serial: () => string;
  debugcon: () => string;
  symbols: Map<string, number>;
}

/** A machine with the sample loaded by the multiboot loader, ready at its entry point. */
export function bootSample(name: string, config: MachineConfig = {}): BootedSample {
  let serial = '';
  let debugcon = '';
  const machine = new PcMachine({
    ...(sample(name).cpu ? { cpuModel: sample(name).cpu } : {}),
    ...config,
    serial: (b) => (serial += String.fromCharCode(b)),
    debugcon: (b) => (debugcon += String.fromCharCode(b)),
  });
  const path = join(REPO, sample(name).image);
  const k = loadMultiboot(machine.phys, machine.cpu, readFileSync(path), { kernelName: path, cmdline: path, modules: [], ramSize: machine.ramSize });
  const symbols = new Map(k.symbols.map((s) => [s.name, s.value]));
  return { pc: machine, serial: () => serial, debugcon: () => debugcon, symbols };
}
