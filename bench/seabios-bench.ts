// npm run bench:seabios: wall time from starting the process to SeaBIOS's "No bootable
// device." on its debug port (0x402), for `bmbt-dbg --bios` and for qemu-system-i386 with
// the same firmware, run alternately. bmbt-dbg runs with the translation cache off (every
// TB translated) and warm (a --tb-cache directory of the bench's own, filled by a first
// run). Also the in-process time (the machine built and run, without Node's start-up),
// cold and warm. Prints numbers; asserts nothing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcMachine } from '../src/machine/pc-machine.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIOS = process.env['BMBT_SEABIOS'] ?? '/usr/share/seabios/bios.bin';
const VGABIOS = join(dirname(BIOS), 'vgabios-stdvga.bin');
const DONE = 'No bootable device.';
const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);

/**
 * Milliseconds from spawn until `DONE` appears on the child's stdout; the child is then
 * ended with SIGTERM (bmbt-dbg writes its translation cache) and waited for.
 */
function timeToDone(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} did not reach "${DONE}" in 60 s`));
    }, 60_000);
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (!out.includes(DONE)) return;
      const ms = performance.now() - t0;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      child.on('close', () => resolve(ms));
      child.kill('SIGTERM');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function inProcess(): { ms: number; instructions: number } {
  let log = '';
  const t0 = performance.now();
  const m = new PcMachine({
    memoryMiB: 128, bios: readFileSync(BIOS), vgaBios: existsSync(VGABIOS) ? readFileSync(VGABIOS) : undefined,
    debugcon: (b) => (log += String.fromCharCode(b)),
  });
  for (let i = 0; i < 10_000 && !log.includes(DONE); i++) {
    const s = m.run(1_000_000);
    if (s.kind !== 'budget' && s.kind !== 'idle') break;
  }
  return { ms: performance.now() - t0, instructions: m.cpu.icount };
}

async function main(): Promise<void> {
  if (!existsSync(BIOS)) {
    console.log(`SeaBIOS not found at ${BIOS} (apt-get install seabios, or set BMBT_SEABIOS)`);
    return;
  }
  const haveQemu = spawnSync('qemu-system-i386', ['--version'], { stdio: 'ignore' }).status === 0;
  const ours: number[] = [];
  const oursWarm: number[] = [];
  const qemu: number[] = [];
  const cacheDir = mkdtempSync(join(tmpdir(), 'bmbt-bench-seabios-tb-'));
  const bmbt = (cache: string): Promise<number> =>
    timeToDone(process.execPath, [join(ROOT, 'bin', 'bmbt-dbg.js'), '--bios', BIOS, '--ui', 'none', '--debugcon', 'stdio', '--serial', 'none', '--tb-cache', cache]);
  // (fills the cache; killed at the output, the run still saves it at exit)
  await bmbt(cacheDir);
  for (let i = 0; i < RUNS; i++) {
    ours.push(await bmbt('off'));
    oursWarm.push(await bmbt(cacheDir));
    if (haveQemu) {
      qemu.push(await timeToDone('qemu-system-i386', [
        '-bios', BIOS, '-net', 'none', '-nographic', '-m', '128', '-monitor', 'none', '-serial', 'null',
        '-chardev', 'stdio,id=dbg,signal=off', '-device', 'isa-debugcon,iobase=0x402,chardev=dbg',
      ]));
    }
  }
  const fmt = (xs: number[]): string => `median ${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  console.log(`SeaBIOS to "${DONE}", process start to output, ${RUNS} runs each:`);
  rmSync(cacheDir, { recursive: true, force: true });
  console.log(`  bmbt-dbg, cache off   ${fmt(ours)}`);
  console.log(`  bmbt-dbg, cache warm  ${fmt(oursWarm)}`);
  if (haveQemu) {
    console.log(`  qemu-system-i386      ${fmt(qemu)}`);
    console.log(`  ratio, cache off      ${(median(ours) / median(qemu)).toFixed(2)}x (issue 10 target <= 2x)`);
    console.log(`  ratio, cache warm     ${(median(oursWarm) / median(qemu)).toFixed(2)}x`);
  } else {
    console.log('  qemu-system-i386  not installed');
  }
  const cold = inProcess();
  const warm = inProcess();
  console.log(`in process: cold ${cold.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(0)} ms, ${(cold.instructions / 1e6).toFixed(1)} M guest instructions`);
}

await main();
