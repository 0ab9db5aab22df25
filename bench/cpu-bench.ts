// npm run bench: guest MIPS of the project's CPU-bound guests on bmbt-dbg and, where
// qemu-system-i386 is installed, the same images under QEMU TCG side by side; plus the
// time from process start to the first guest output. Prints numbers; asserts nothing.
import { readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcMachine } from '../src/machine/pc-machine.js';
import { loadMultiboot } from '../src/boot/multiboot.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Entry {
  name: string;
  image: string;
  bench?: boolean;
  /** -cpu model (the SSE2 workload needs qemu32) */
  cpu?: string;
}

const samples: Entry[] = JSON.parse(readFileSync(join(ROOT, 'samples', 'samples.json'), 'utf8'));
const only = process.argv.slice(2);
const benches = samples.filter((s) => s.bench && (only.length === 0 || only.includes(s.name)));

function runOurs(image: string, cpu?: string, cpus = 1): { icount: number; ms: number; output: string } {
  let output = '';
  const m = new PcMachine({ serial: (b) => (output += String.fromCharCode(b)), ...(cpu ? { cpuModel: cpu } : {}), cpus });
  const path = join(ROOT, image);
  loadMultiboot(m.phys, m.cpu, readFileSync(path), { kernelName: path, cmdline: path, modules: [], ramSize: m.ramSize });
  const t0 = performance.now();
  for (;;) {
    const stop = m.run(100_000_000);
    if (stop.kind !== 'budget') break;
  }
  return { icount: m.cpu.icount, ms: performance.now() - t0, output };
}

function qemuAvailable(): boolean {
  return spawnSync('qemu-system-i386', ['--version']).status === 0;
}

function timeQemu(image: string, cpu = 'qemu32', cpus = 1): number {
  const t0 = performance.now();
  spawnSync('qemu-system-i386', [
    '-cpu', cpu, '-smp', String(cpus),
    '-kernel', join(ROOT, image), '-display', 'none', '-monitor', 'none', '-serial', 'null', '-no-reboot',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-m', '32',
  ], { stdio: 'ignore', timeout: 120_000 });
  return performance.now() - t0;
}

/** Time from process start until the first byte of guest output on stdout. */
function startupMs(): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'bmbt-dbg.js'), '--kernel', join(ROOT, 'samples/build/hello.elf')], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child.stdout.once('data', () => resolve(performance.now() - t0));
  });
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

async function main(): Promise<void> {
  const haveQemu = qemuAvailable();
  const qemuBase = haveQemu ? Math.min(timeQemu('samples/build/hello.elf'), timeQemu('samples/build/hello.elf')) : 0;
  console.log(`bmbt-dbg CPU benchmark (Node ${process.version})${haveQemu ? `, QEMU TCG startup ${qemuBase.toFixed(0)} ms subtracted` : ', qemu-system-i386 not found'}`);
  console.log(`${'workload'.padEnd(16)}${pad('Minsns', 9)}${pad('ms', 8)}${pad('MIPS', 8)}${haveQemu ? `${pad('QEMU ms', 9)}${pad('QEMU MIPS', 10)}${pad('ratio', 8)}` : ''}`);
  const ratios: number[] = [];
  const mipsAll: number[] = [];
  for (const b of benches) {
    const ours = runOurs(b.image, b.cpu);
    const mips = ours.icount / ours.ms / 1000;
    mipsAll.push(mips);
    let line = `${b.name.padEnd(16)}${pad((ours.icount / 1e6).toFixed(0), 9)}${pad(ours.ms.toFixed(0), 8)}${pad(mips.toFixed(0), 8)}`;
    if (haveQemu) {
      const q = Math.max(1, timeQemu(b.image, b.cpu) - qemuBase);
      const qMips = ours.icount / q / 1000;
      const ratio = mips / qMips;
      ratios.push(ratio);
      line += `${pad(q.toFixed(0), 9)}${pad(qMips.toFixed(0), 10)}${pad(ratio.toFixed(2) + 'x', 8)}`;
    }
    console.log(line);
  }
  const geo = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
  if (mipsAll.length) console.log(`geometric mean: ${geo(mipsAll).toFixed(0)} MIPS${ratios.length ? `, ${geo(ratios).toFixed(2)}x QEMU (lowest ${Math.min(...ratios).toFixed(2)}x)` : ''}`);
  // Issue 13's goal: a second CPU that never runs (here: never started, waiting for
  // SIPI) costs the first one at most 5%. Best of two alternating runs of each.
  console.log(`\n-smp 2 with the second CPU never started, against -smp 1 (best of 2 each)`);
  console.log(`${'workload'.padEnd(16)}${pad('MIPS 1', 9)}${pad('MIPS 2', 9)}${pad('2 / 1', 8)}${haveQemu ? pad('QEMU 2 / 1', 12) : ''}`);
  for (const b of benches) smpLine(b, haveQemu, qemuBase);
  // The same with the second CPU started, then halted for good (tests/guests/smp/halt.asm:
  // the AP halts with interrupts off, the BSP runs a 40-million-instruction loop).
  if (only.length === 0 || only.includes('smp-halt')) {
    console.log(`\n-smp 2 with the second CPU started and halted, against -smp 1 (best of 2 each)`);
    smpLine({ name: 'smp-halt', image: 'tests/guests/build/smp-halt.bin' }, haveQemu, qemuBase);
  }
  const starts: number[] = [];
  for (let i = 0; i < 5; i++) starts.push(await startupMs());
  starts.sort((a, b) => a - b);
  console.log(`startup to first guest output (hello, headless): median ${starts[2]!.toFixed(0)} ms, best ${starts[0]!.toFixed(0)} ms`);
}

/** One workload's MIPS with -smp 1 and -smp 2 (best of two alternating runs each), and QEMU's ratio. */
function smpLine(b: Entry, haveQemu: boolean, qemuBase: number): void {
  const one: number[] = [];
  const two: number[] = [];
  const q1: number[] = [];
  const q2: number[] = [];
  for (let i = 0; i < 2; i++) {
    for (const [n, out] of [[1, one], [2, two]] as const) {
      const r = runOurs(b.image, b.cpu, n);
      out.push(r.icount / r.ms / 1000);
    }
    if (haveQemu) {
      q1.push(Math.max(1, timeQemu(b.image, b.cpu, 1) - qemuBase));
      q2.push(Math.max(1, timeQemu(b.image, b.cpu, 2) - qemuBase));
    }
  }
  const m1 = Math.max(...one);
  const m2 = Math.max(...two);
  let line = `${b.name.padEnd(16)}${pad(m1.toFixed(0), 9)}${pad(m2.toFixed(0), 9)}${pad((m2 / m1).toFixed(3), 8)}`;
  // QEMU's speed ratio is the inverse of its time ratio.
  if (haveQemu) line += pad((Math.min(...q1) / Math.min(...q2)).toFixed(3), 12);
  console.log(line);
}

await main();
