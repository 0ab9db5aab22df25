// npm run bench:rr: what time travel costs, on the Linux boot of the corpus (npm run
// corpus; without it, on the intloop-timer sample):
//   - guest MIPS running N instructions under the debugger controller with reverse
//     execution's checkpoints on, against off (target: at most 10% slower);
//   - checkpoints: how many, bytes held, bytes per checkpoint after the first, time each;
//   - latency of reverse-stepi (from the last instructions of the run);
//   - latency of a reverse-continue across the last 100 M instructions (a history that
//     begins there, no breakpoint: all of it re-run), against the time it took forward.
//
//   npm run bench:rr                       # the Linux boot, N = 1,000 M instructions
//   npm run bench:rr -- --insns 300000000 --sample
// Prints numbers; asserts nothing.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGuest } from '../cli/main.js';
import { parseCli } from '../cli/options.js';
import { DebugController } from '../src/debug/controller.js';
import { enableHistory, type History } from '../src/replay/history.js';
import type { PcMachine } from '../src/machine/pc-machine.js';
import { CorpusError, ensureCorpus } from '../tests/corpus/fetch.js';
import { LINUX_APPEND, LINUX_MEMORY_MIB, CPU_MODEL } from '../tests/corpus/boot-run.js';

const REPO = join(fileURLToPath(import.meta.url), '..', '..', '..');
const USAGE = 'usage: npm run bench:rr -- [--insns N] [--runs N] [--sample] [--budget MiB]';
const SPAN = 100_000_000;

class UsageError extends Error {}

interface Options {
  insns: number;
  /** Runs of each forward measurement, alternating off and on; the fastest counts. */
  runs: number;
  sample: boolean;
  budgetMiB: number;
}

function parseArgs(argv: string[]): Options | 'help' {
  const o: Options = { insns: 1_000_000_000, runs: 3, sample: false, budgetMiB: 256 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--sample') o.sample = true;
    else if (a === '--insns' || a === '--budget' || a === '--runs') {
      const v = argv[++i] ?? '';
      if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`${a}: "${v}" is not a positive integer`);
      if (a === '--insns') o.insns = Number(v);
      else if (a === '--runs') o.runs = Number(v);
      else o.budgetMiB = Number(v);
    } else throw new UsageError(`unknown option ${a} (${USAGE})`);
  }
  if (o.insns <= SPAN) throw new UsageError(`--insns must be more than ${SPAN}`);
  return o;
}

function guestArgs(sample: boolean): { args: string[]; name: string } {
  if (!sample) {
    try {
      const c = ensureCorpus();
      return {
        name: 'Linux boot (direct, corpus)',
        args: ['-m', String(LINUX_MEMORY_MIB), '--cpu', CPU_MODEL, '--kernel', c.linux.vmlinuz, '--initrd', c.initramfs.path, '--append', LINUX_APPEND],
      };
    } catch (e) {
      if (!(e instanceof CorpusError)) throw e;
      console.log(`(the corpus is missing: ${e.message}; using the intloop-timer sample)`);
    }
  }
  return { name: 'intloop-timer sample', args: ['--kernel', join(REPO, 'samples', 'build', 'bench-intloop-timer.elf')] };
}

function machine(args: string[]): PcMachine {
  const opts = parseCli([...args, '-serial', 'null']);
  if (opts === 'help' || opts === 'version') throw new Error(opts);
  // The bench owns the machine it measures (it times the history's checkpoints directly).
  const { pc: m } = buildGuest(opts);
  return m;
}

/** Run to instruction `end` under the controller; wall ms. */
async function runTo(ctl: DebugController, m: PcMachine, end: number): Promise<number> {
  const t0 = performance.now();
  while (m.cpu.icount < end && ctl.state === 'stopped') {
    ctl.resume();
    // The controller stops at its budget (maxInsns).
    await ctl.waitForStop();
    if (ctl.lastStop.kind !== 'budget' && ctl.lastStop.kind !== 'interrupt') break;
  }
  return performance.now() - t0;
}

const ms = (x: number): string => `${x.toFixed(0)} ms`;
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;

async function main(): Promise<void> {
  let o: Options | 'help';
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bench:rr: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
  if (o === 'help') {
    console.log(USAGE);
    return;
  }
  const g = guestArgs(o.sample);
  console.log(`bench:rr — ${g.name}, ${o.insns.toLocaleString()} instructions, --rr-budget ${o.budgetMiB} MiB`);

  // Off (the controller alone) and on (the same run with history kept), alternately: the
  // host's load moves single runs by 10% and more; the fastest of each is compared.
  let tOff = Infinity;
  let tOn = Infinity;
  let on: PcMachine | null = null;
  let ctlOn: DebugController | null = null;
  let h: History | null = null;
  for (let run = 0; run < o.runs; run++) {
    const off = machine(g.args);
    tOff = Math.min(tOff, await runTo(new DebugController(off, { maxInsns: o.insns }), off, o.insns));
    on = machine(g.args);
    ctlOn = new DebugController(on, { maxInsns: o.insns });
    h = enableHistory(on, o.budgetMiB * 1048576) as History;
    tOn = Math.min(tOn, await runTo(ctlOn, on, o.insns));
  }
  const mipsOff = o.insns / tOff / 1000;
  const mipsOn = o.insns / tOn / 1000;
  const ckMs = h!.stats().checkpointMs;
  const st = h!.stats();
  const perCheckpoint = st.checkpoints > 1 ? (st.bytes - firstBytes(h!)) / (st.checkpoints - 1) : 0;
  console.log('\nrunning forward');
  console.log(`  checkpoints off   ${ms(tOff).padStart(10)}  ${mipsOff.toFixed(0).padStart(6)} MIPS  (fastest of ${o.runs})`);
  console.log(`  checkpoints on    ${ms(tOn).padStart(10)}  ${mipsOn.toFixed(0).padStart(6)} MIPS  (${((tOn / tOff - 1) * 100).toFixed(1)}% slower; taking checkpoints was ${((ckMs / tOn) * 100).toFixed(1)}% of the run)`);
  console.log(`  checkpoints       ${st.checkpointsTaken} taken, ${st.checkpoints} kept, ${mib(st.bytes)} held, ${(st.checkpointMs / Math.max(1, st.checkpointsTaken)).toFixed(1)} ms each, history from instruction ${st.begin.toLocaleString()}`);
  console.log(`  per checkpoint    ${mib(perCheckpoint)} after the first (${mib(firstBytes(h!))}, all memory in use)`);

  // reverse-stepi at the end of the run.
  const lat: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await ctlOn!.reverse('step');
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  console.log('\nreverse execution');
  console.log(`  reverse-stepi     median ${ms(lat[5]!)}, worst ${ms(lat[9]!)} (10 in a row from the end; target 200 ms)`);

  // reverse-continue across the last 100 M instructions: history that begins there.
  const rc = machine(g.args);
  const ctlRc = new DebugController(rc, { maxInsns: o.insns - SPAN });
  await runTo(ctlRc, rc, o.insns - SPAN);
  const ctlRc2 = new DebugController(rc, { maxInsns: o.insns });
  enableHistory(rc, o.budgetMiB * 1048576);
  const tFwd = await runTo(ctlRc2, rc, o.insns);
  const t = performance.now();
  const r = await ctlRc2.reverse('continue');
  const tRev = performance.now() - t;
  console.log(`  reverse-continue  ${ms(tRev)} across ${(rc.cpu.icount === o.insns - SPAN ? SPAN : o.insns - rc.cpu.icount).toLocaleString()} instructions back to ${r?.kind}; forward they took ${ms(tFwd)} (target: no more)`);
}

/** Bytes of the oldest checkpoint's memory (all memory in use then) plus its record. */
function firstBytes(h: History): number {
  return h.firstCheckpointBytes();
}

await main();
