// Runs the CPU probe guest (tests/guests/cpu-probe) on QEMU 7.2 and on bmbt-dbg with the same
// CPU model and command line, and returns what it printed on the debug console (port 0xE9).
//
// Both run the guest the same way QEMU does with -kernel: SeaBIOS first, then the kernel
// through fw_cfg and QEMU's multiboot option ROM, so MSRs the firmware writes (the MTRRs,
// the APIC's LINT0/LINT1) start out the same. `direct: true` boots bmbt-dbg without a BIOS
// (multiboot loader) instead.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { prepareBiosKernelBoot } from '../../src/boot/fw-cfg-boot.js';
import { loadMultiboot } from '../../src/boot/multiboot.js';
import { QEMU_BINARY } from './qemu.js';
import { REPO } from './cli.js';

export const PROBE_ELF = join(REPO, 'tests/guests/build/cpu-probe.elf');
export const SEABIOS = '/usr/share/seabios/bios.bin';
const VGABIOS = '/usr/share/seabios/vgabios-stdvga.bin';
const MULTIBOOT_ROM = ['/usr/share/qemu/multiboot_dma.bin', process.env.BMBT_FIRMWARE_DIR && join(process.env.BMBT_FIRMWARE_DIR, 'multiboot_dma.bin')];
const MIB = 64;

/** SeaBIOS and QEMU's multiboot option ROM are installed (seabios, qemu-system-data). */
export function haveFirmware(): boolean {
  return existsSync(SEABIOS) && existsSync(VGABIOS) && MULTIBOOT_ROM.some((p) => p && existsSync(p));
}

export interface ProbeRun {
  out: string;
  /** isa-debug-exit code the guest wrote (bmbt) or QEMU's exit status. */
  status: number | null;
}

/** QEMU 7.2: `-cpu MODEL -kernel cpu-probe.elf -append PROBES`, debug console to a file. */
export function probeOnQemu(model: string, probes: string, timeoutMs = 60_000, elf = PROBE_ELF): Promise<ProbeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bmbt-probe-'));
  const log = join(dir, 'debugcon.txt');
  return new Promise((resolve, reject) => {
    const q = spawn(QEMU_BINARY, [
      '-cpu', model, '-m', String(MIB), '-kernel', elf, '-append', probes, '-debugcon', `file:${log}`,
      '-display', 'none', '-monitor', 'none', '-serial', 'none', '-net', 'none', '-no-shutdown',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
    ], { stdio: 'ignore' });
    const t = setTimeout(() => q.kill('SIGKILL'), timeoutMs);
    q.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    q.on('close', (code) => {
      clearTimeout(t);
      const out = existsSync(log) ? readFileSync(log, 'latin1') : '';
      rmSync(dir, { recursive: true, force: true });
      resolve({ out, status: code });
    });
  });
}

/** bmbt-dbg in process: the same board size, firmware and hand-over (or a direct boot). */
export function probeOnBmbt(model: string, probes: string, opts: { direct?: boolean; maxInsns?: number; elf?: string } = {}): ProbeRun & { machine: PcMachine } {
  let out = '';
  const elf = opts.elf ?? PROBE_ELF;
  const kernel = readFileSync(elf);
  const machine = new PcMachine({
    memoryMiB: MIB, cpuModel: model,
    // SeaBIOS's log on port 0x402 is not the guest's output (QEMU's default board drops it).
    debugcons: [{ port: 0xe9, output: (b) => (out += String.fromCharCode(b)) }, { port: 0x402, output: () => {} }],
    ...(opts.direct ? {} : { bios: readFileSync(SEABIOS), vgaBios: readFileSync(VGABIOS) }),
  });
  if (opts.direct) {
    loadMultiboot(machine.phys, machine.cpu, kernel, { kernelName: elf, cmdline: `${elf} ${probes}`, modules: [], ramSize: machine.ramSize });
  } else {
    const rom = MULTIBOOT_ROM.find((p) => p && existsSync(p))!;
    prepareBiosKernelBoot(machine.fwCfg, {
      kernelName: elf, kernel, cmdline: probes, initrds: [], ramSize: machine.ramSize, optionRom: () => readFileSync(rom),
    });
  }
  const budget = opts.maxInsns ?? 3_000_000_000;
  let status: number | null = null;
  for (let done = 0; done < budget; done += 20_000_000) {
    const stop = machine.run(20_000_000);
    if (stop.kind === 'exit') {
      status = stop.code;
      break;
    }
    if (stop.kind === 'halted-forever' || stop.kind === 'power-off') break;
  }
  // QEMU's isa-debug-exit status is (code << 1) | 1.
  return { out, status, machine }; // the machine reports QEMU's status ((code << 1) | 1)
}

/** Lines that differ, as "qemu: X / bmbt: Y" (positions compared, then the lengths). */
export function lineDiff(qemu: string, bmbt: string, ignore: (line: string) => boolean = () => false): string[] {
  const a = qemu.split('\n').filter((l) => !ignore(l));
  const b = bmbt.split('\n').filter((l) => !ignore(l));
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) out.push(`qemu: ${a[i] ?? '(none)'}  /  bmbt: ${b[i] ?? '(none)'}`);
  }
  return out;
}
