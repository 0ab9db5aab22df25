// npm run bench:gdb: the gdb server measured, and QEMU's stub beside it where
// qemu-system-i386 is installed. Prints numbers; asserts nothing.
//   1. stepi round trips per second, from the real gdb (a command file of N `stepi`s,
//      timed against the same session with none);
//   2. memory read throughput: gdb's `dump binary memory` of 1 MiB, and raw `m` packets;
//   3. a 1 M-iteration guest loop (bench-intloop, 20 instructions an iteration) with and
//      without a breakpoint on an unrelated address of the same 4 KiB page.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcMachine } from '../src/machine/pc-machine.js';
import { loadMultiboot } from '../src/boot/multiboot.js';
import { DebugController } from '../src/debug/controller.js';
import { RspClient } from '../tests/support/rsp-client.js';
import { freePort, qemuArgs } from '../tests/support/qemu.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUGGY = join(ROOT, 'samples', 'build', 'buggy.elf');
const INTLOOP = join(ROOT, 'samples', 'build', 'bench-intloop.elf');
const TMP = mkdtempSync(join(tmpdir(), 'bmbt-gdb-bench-'));
const STEPS = 2000;

const have = (cmd: string, arg = '--version'): boolean => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const haveGdb = have('gdb');
const haveQemu = have('qemu-system-i386');

interface Stub {
  port: number;
  stop(): Promise<void>;
}

async function listening(port: number): Promise<void> {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (let i = 0; i < 400; i++) {
    const t = readFileSync('/proc/net/tcp', 'utf8');
    if (t.split('\n').some((l) => l.includes(hex) && / 0A /.test(l))) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

function killer(p: ChildProcess): () => Promise<void> {
  return async () => {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };
}

async function startOurs(kernel: string): Promise<Stub> {
  const p = spawn(process.execPath, [join(ROOT, 'bin', 'bmbt-dbg.js'), '--gdb', '127.0.0.1:0', '--ui', 'none', '--serial', 'none', '--kernel', kernel], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  for (let i = 0; i < 500; i++) {
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
    if (m) return { port: Number(m[1]), stop: killer(p) };
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`bmbt-dbg did not start: ${err}`);
}

async function startQemu(kernel: string, extra: string[] = []): Promise<Stub> {
  const port = await freePort();
  const p = spawn('qemu-system-i386', qemuArgs(port, { kernel, extraArgs: extra }), { stdio: 'ignore' });
  await listening(port);
  return { port, stop: killer(p) };
}

/** Seconds gdb itself measured (with its Python) around `body`, after `prefix`. */
function gdbTime(port: number, prefix: string, body: string): Promise<number> {
  const file = join(TMP, `s${Math.random().toString(36).slice(2)}.gdb`);
  writeFileSync(file, `${prefix}python import time; __t0 = time.perf_counter()\n${body}python print("ELAPSED %.6f" % (time.perf_counter() - __t0))\n`);
  return new Promise((resolve, reject) => {
    const g = spawn('gdb', ['-nx', '-batch', '-ex', `target remote 127.0.0.1:${port}`, '-x', file, BUGGY], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    g.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    g.on('error', reject);
    g.on('exit', () => {
      const m = /ELAPSED ([\d.]+)/.exec(out);
      if (m) resolve(Number(m[1]));
      else reject(new Error(`gdb did not finish the timed script: ${out.slice(-500)}`));
    });
  });
}

/** Best of `reps` sessions, each on a fresh stub. */
async function timed(start: () => Promise<Stub>, prefix: string, body: string, reps = 2): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const s = await start();
    best = Math.min(best, await gdbTime(s.port, prefix, body));
    await s.stop();
  }
  return best;
}

const PREFIX = 'set pagination off\nset confirm off\nbreak main\ncontinue\ndelete\n';

async function stepiRate(start: () => Promise<Stub>): Promise<number> {
  const sec = await timed(start, PREFIX, 'stepi\n'.repeat(STEPS));
  return STEPS / sec;
}

async function dumpRate(start: () => Promise<Stub>): Promise<number> {
  const out = join(TMP, 'dump.bin');
  const sec = await timed(start, PREFIX, `dump binary memory ${out} 0x100000 0x200000\n`);
  return 1 / sec; // MiB/s
}

/** `m` packets of `chunk` bytes over a bare socket (acks sent, replies checked by length). */
async function rawReadRate(start: () => Promise<Stub>, chunk: number): Promise<number> {
  const s = await start();
  const sock = net.connect({ port: s.port, host: '127.0.0.1' });
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  let buf = '';
  let want: ((reply: string) => void) | null = null;
  sock.setEncoding('latin1').on('data', (d: string) => {
    buf += d;
    for (;;) {
      const st = buf.indexOf('$');
      const end = buf.indexOf('#', st);
      if (st < 0 || end < 0 || buf.length < end + 3) break;
      const reply = buf.slice(st + 1, end);
      buf = buf.slice(end + 3);
      if (ack) sock.write('+');
      want?.(reply);
    }
  });
  const req = (p: string): Promise<string> => new Promise((resolve) => {
    want = resolve;
    let cs = 0;
    for (let i = 0; i < p.length; i++) cs = (cs + p.charCodeAt(i)) & 0xff;
    sock.write(`$${p}#${cs.toString(16).padStart(2, '0')}`);
  });
  // As gdb: no acknowledgements where the stub offers QStartNoAckMode.
  let ack = true;
  if ((await req('qSupported:multiprocess+')).includes('QStartNoAckMode+') && (await req('QStartNoAckMode')) === 'OK') ack = false;
  const total = 4 << 20;
  const t0 = performance.now();
  for (let off = 0; off < total; off += chunk) {
    const r = await req(`m${(0x100000 + (off % 0x100000)).toString(16)},${chunk.toString(16)}`);
    if (r.length !== chunk * 2) throw new Error(`m reply of ${r.length} chars`);
  }
  const ms = performance.now() - t0;
  sock.destroy();
  await s.stop();
  return total / 1048576 / (ms / 1000);
}

/** The intloop guest for `insns` instructions, optionally with a breakpoint at `bp`. */
async function hotLoop(insns: number, bp: number | null): Promise<number> {
  const m = new PcMachine({});
  loadMultiboot(m.phys, m.cpu, readFileSync(INTLOOP), { kernelName: INTLOOP, cmdline: INTLOOP, modules: [], ramSize: m.ramSize });
  const ctl = new DebugController(m, { maxInsns: insns });
  if (bp !== null) ctl.addBreakpoint(bp);
  const t0 = performance.now();
  const stop = await ctl.continue();
  const ms = performance.now() - t0;
  if (stop.kind !== 'budget') throw new Error(`the loop stopped early: ${stop.kind}`);
  return ms;
}

/** QEMU running the whole intloop (400 M instructions) under its stub, optionally with a breakpoint. */
async function qemuHotLoop(bp: number | null): Promise<number> {
  const s = await startQemu(INTLOOP, ['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04']);
  const c = await RspClient.connect(s.port);
  await c.qSupported();
  if (bp !== null) await c.insertBreakpoint(bp);
  const intloop = 0x100b50;
  await c.insertBreakpoint(intloop); // start timing at the loop, after the BIOS
  await c.cont();
  await c.removeBreakpoint(intloop);
  const t0 = performance.now();
  void c.cont().catch(() => undefined);
  await c.waitClosed(600_000);
  const ms = performance.now() - t0;
  await s.stop();
  return ms;
}

const f1 = (v: number): string => v.toFixed(1);
const f0 = (v: number): string => v.toFixed(0);

async function main(): Promise<void> {
  console.log(`bmbt-dbg gdb server benchmark (Node ${process.version}; gdb ${haveGdb ? 'found' : 'missing'}, QEMU ${haveQemu ? 'found' : 'missing'})`);
  const ours = () => startOurs(BUGGY);
  const qemu = () => startQemu(BUGGY);
  if (haveGdb) {
    const a = await stepiRate(ours);
    const b = haveQemu ? await stepiRate(qemu) : NaN;
    console.log(`stepi round trips from gdb (${STEPS} stepi):     bmbt-dbg ${f0(a)}/s${haveQemu ? `   QEMU ${f0(b)}/s   ratio ${(a / b).toFixed(2)}` : ''}`);
    const d = await dumpRate(ours);
    const e = haveQemu ? await dumpRate(qemu) : NaN;
    console.log(`gdb dump binary memory (1 MiB):              bmbt-dbg ${f1(d)} MiB/s${haveQemu ? `   QEMU ${f1(e)} MiB/s` : ''}`);
  }
  const r800 = await rawReadRate(ours, 0x800);
  const q800 = haveQemu ? await rawReadRate(qemu, 0x800) : NaN;
  const r2000 = await rawReadRate(ours, 0x2000);
  console.log(`m packets of 0x800 bytes (4 MiB):            bmbt-dbg ${f1(r800)} MiB/s${haveQemu ? `   QEMU ${f1(q800)} MiB/s` : ''}`);
  console.log(`m packets of 0x2000 bytes (ours only):       bmbt-dbg ${f1(r2000)} MiB/s (QEMU refuses m over 0x800)`);

  // The loop is intloop() at 0x100b50; memcmp at 0x100ae0 is on the same page and never runs.
  const insns = 20_000_000 + 20_000;
  const unrelated = 0x100ae0;
  await hotLoop(insns, null); // warm up V8
  let without = Infinity;
  let withBp = Infinity;
  for (let i = 0; i < 7; i++) {
    without = Math.min(without, await hotLoop(insns, null));
    withBp = Math.min(withBp, await hotLoop(insns, unrelated));
  }
  console.log(`1 M-iteration loop (20 M insns), no breakpoint:          ${f0(without)} ms`);
  console.log(`same loop, breakpoint at 0x${unrelated.toString(16)} (same page, not reached): ${f0(withBp)} ms   slowdown ${(withBp / without).toFixed(2)}x (target < 1.5x)`);
  if (haveQemu && !process.argv.includes('--no-qemu-loop')) {
    const qa = await qemuHotLoop(null);
    const qb = await qemuHotLoop(unrelated);
    console.log(`QEMU, whole intloop (20 M iterations) under its stub:     ${f0(qa)} ms; with the same breakpoint ${f0(qb)} ms   slowdown ${(qb / qa).toFixed(1)}x`);
  }
}

await main();
