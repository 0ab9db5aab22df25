// -d ITEMS -D FILE writes QEMU 7.2's log layouts. The same guest (tests/guests/qemu-log:
// #UD, INT n, a hardware interrupt, #PF, then a triple fault) runs with the same command
// line on QEMU and here, and the logs are compared line for line. The one value masked is
// CCD, QEMU's stale lazy-flags operand (decisions.md); everything else must be equal.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.js';
import { skipWithoutQemu } from './support/qemu.js';
import { skipWithoutNasm } from './support/nasm.js';
import { multibootFlat, runQemuCli } from './support/same-command-line.js';
import { PcMachine } from '../src/machine/pc-machine.js';
import { QemuLog } from '../src/debug/qemu-log.js';

const GUEST = 'tests/guests/build/qemu-log.elf';
const COMMON = ['-display', 'none', '-monitor', 'none', '-serial', 'none', '-nodefaults'];

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'bmbt-qlog-'));
}

/** QEMU's log of the guest's own part: from the first exception on (firmware comes before it). */
function guestPart(log: string): string {
  const i = log.indexOf('check_exception old: 0xffffffff new 0x6');
  if (i < 0) throw new Error(`no guest exception in the log:\n${log.slice(0, 2000)}`);
  return log.slice(i);
}

const maskCcd = (log: string): string => log.replace(/^(CCS=[0-9a-f]{8}) CCD=[0-9a-f]{8}/gm, '$1 CCD=xxxxxxxx');

describe.skipIf(skipWithoutQemu())('-d int,cpu_reset against QEMU', () => {
  it('-no-reboot: the exception, interrupt and triple-fault lines and their register dumps are QEMU\'s', async () => {
    const dir = tmp();
    const args = (log: string): string[] => ['-kernel', GUEST, ...COMMON, '-no-reboot', '-d', 'int,cpu_reset', '-D', log];
    const [q, o] = await Promise.all([runQemuCli(args(join(dir, 'qemu.log'))), runCli(args(join(dir, 'ours.log')))]);
    expect(q.code).toBe(0);
    expect(o.code).toBe(0);
    const qemu = guestPart(readFileSync(join(dir, 'qemu.log'), 'latin1'));
    const ours = readFileSync(join(dir, 'ours.log'), 'latin1');
    // The layouts the issue names, present in both.
    for (const re of [
      /^check_exception old: 0xffffffff new 0x6$/m,
      /^ {5}0: v=06 e=0000 i=0 cpl=0 IP=0008:[0-9a-f]{8} pc=[0-9a-f]{8} SP=0010:[0-9a-f]{8} env->regs\[R_EAX\]=[0-9a-f]{8}$/m,
      /^ {5}1: v=30 e=0000 i=1 /m,
      /^Servicing hardware INT=0x20\n {5}2: v=20 e=0000 i=0 /m,
      /^ {5}3: v=0e e=0000 i=0 .* CR2=40000000$/m,
      /^EIP=[0-9a-f]{8} EFL=[0-9a-f]{8} \[[-D][-O][-S][-Z][-A][-P][-C]\] CPL=0 II=0 A20=1 SMM=0 HLT=0$/m,
      /^CS =0008 00000000 ffffffff 00cf9b00 DPL=0 CS32 \[-RA\]$/m,
      /^FS =0018 00000000 0000ffff 00009300 DPL=0 DS16 \[-WA\]$/m,
      /^TR =0000 00000000 0000ffff 00008b00 DPL=0 TSS32-busy$/m,
      /^check_exception old: 0xd new 0xd\n {5}\d: v=08 e=0000/m,
      /^check_exception old: 0x8 new 0xd\nTriple fault\n$/m,
    ]) {
      expect(qemu).toMatch(re);
      expect(ours).toMatch(re);
    }
    expect(maskCcd(ours)).toBe(maskCcd(qemu));
    expect(o.stderr).toMatch(/guest reset \(triple fault\)/);
  }, 60_000);

  it('without -no-reboot: "Triple fault", then "CPU Reset (CPU 0)" with the state at the fault, FPU included', async () => {
    const dir = tmp();
    const args = (log: string): string[] => ['-kernel', GUEST, ...COMMON, '-d', 'cpu_reset', '-D', log];
    // QEMU reboots the guest for ever: stop it after a while; we stop by instruction count.
    const [, o] = await Promise.all([
      runQemuCli(args(join(dir, 'qemu.log')), { killAfterMs: 3000 }),
      runCli([...args(join(dir, 'ours.log')), '--max-insns', '5000']),
    ]);
    expect(o.code).toBe(124);
    const block = (log: string): string => {
      const i = log.indexOf('Triple fault\n');
      expect(i).toBeGreaterThanOrEqual(0);
      return log.slice(i).split("\n").slice(0, 2 + 27).join('\n');
    };
    const qemu = block(readFileSync(join(dir, 'qemu.log'), 'latin1'));
    const ours = block(readFileSync(join(dir, 'ours.log'), 'latin1'));
    expect(ours).toMatch(/^Triple fault\nCPU Reset \(CPU 0\)\nEAX=11111111 /);
    expect(ours).toMatch(/^FCW=037f FSW=0000 \[ST=0\] FTW=00 MXCSR=00001f80$/m);
    expect(ours).toMatch(/^XMM06=0{16} 0{16} XMM07=0{16} 0{16}$/m);
    expect(maskCcd(ours)).toBe(maskCcd(qemu));
  }, 60_000);

  it('-d in_asm,unimp: every instruction line of the guest is QEMU\'s (address, bytes, columns, AT&T text), and ILLOPC for UD2', async () => {
    const dir = tmp();
    const args = (log: string): string[] => ['-kernel', GUEST, ...COMMON, '-no-reboot', '-d', 'in_asm,unimp', '-D', log];
    await Promise.all([runQemuCli(args(join(dir, 'qemu.log'))), runCli(args(join(dir, 'ours.log')))]);
    const insns = (log: string): Map<number, string> => {
      const m = new Map<number, string>();
      for (const l of log.split('\n')) {
        const a = /^0x(001[0-9a-f]{5}):  /.exec(l);
        if (a) m.set(parseInt(a[1]!, 16), l);
      }
      return m;
    };
    const qemuLog = readFileSync(join(dir, 'qemu.log'), 'latin1');
    const oursLog = readFileSync(join(dir, 'ours.log'), 'latin1');
    const q = insns(qemuLog);
    const o = insns(oursLog);
    expect(o.size).toBeGreaterThan(100);
    expect([...o.entries()].sort((a, b) => a[0] - b[0])).toEqual([...q.entries()].sort((a, b) => a[0] - b[0]));
    // Blocks: separator, "IN: ", instructions, a blank line.
    expect(oursLog).toMatch(/^----------------\nIN: \n0x00100010:  fa {23}cli {6}\n0x00100011:  db e3 {20}fninit {3}\n0x00100013:  0f 01 15 [0-9a-f ]+ {5}lgdtl {4}0x[0-9a-f]+\n/m);
    expect(oursLog).toMatch(/^0x[0-9a-f]{8}:  c7 05 00 10 10 00 83 00  movl {5}\$0x83, 0x101000\n0x[0-9a-f]{8}:  00 00\n/m);
    const illopc = (log: string): string[] => log.split('\n').filter((l) => l.startsWith('ILLOPC'));
    expect(illopc(oursLog)).toEqual(['ILLOPC: 001000d7: 0f 0b']);
    expect(illopc(oursLog)).toEqual(illopc(qemuLog));
  }, 60_000);

  it.skipIf(skipWithoutNasm())('-d guest_errors: accesses where nothing is mapped, as QEMU reports them', async () => {
    const kernel = multibootFlat(`
start:
  mov eax, [0xe0000000]
  mov dword [0xe0000010], 1
  mov byte [0xe0000020], 2
  mov ax, [0xe0000030]
  lidt [null_idt]
  int3
null_idt:
  dw 0
  dd 0
`);
    const dir = tmp();
    const args = (log: string): string[] => ['-kernel', kernel, ...COMMON, '-no-reboot', '-d', 'guest_errors', '-D', log];
    await Promise.all([runQemuCli(args(join(dir, 'qemu.log'))), runCli(args(join(dir, 'ours.log')))]);
    const qemu = readFileSync(join(dir, 'qemu.log'), 'latin1');
    const ours = readFileSync(join(dir, 'ours.log'), 'latin1');
    expect(ours).toBe([
      "Invalid read at addr 0xE0000000, size 4, region '(null)', reason: rejected",
      "Invalid write at addr 0xE0000010, size 4, region '(null)', reason: rejected",
      "Invalid write at addr 0xE0000020, size 1, region '(null)', reason: rejected",
      "Invalid read at addr 0xE0000030, size 2, region '(null)', reason: rejected",
      '',
    ].join('\n'));
    expect(ours).toBe(qemu);
  }, 60_000);
});

describe('-d exec, cpu, nochain', () => {
  it('"Trace 0:" for every TB entered from the loop (all of them with nochain), with its cs_base/pc/flags/cflags; "cpu" dumps before each', async () => {
    const dir = tmp();
    const log = join(dir, 'exec.log');
    const r = await runCli(['-kernel', GUEST, ...COMMON, '-no-reboot', '-d', 'in_asm,exec,cpu,nochain', '-D', log]);
    expect(r.code).toBe(0);
    const text = readFileSync(log, 'latin1');
    const traces = [...text.matchAll(/^Trace 0: 0x[0-9a-f]+ \[00000000\/([0-9a-f]{8})\/[0-9a-f]{8}\/[0-9a-f]{8}\] \n/gm)].map((m) => parseInt(m[1]!, 16));
    const blocks = new Set([...text.matchAll(/^IN: \n0x([0-9a-f]{8}):/gm)].map((m) => parseInt(m[1]!, 16)));
    expect(traces.length).toBeGreaterThan(20);
    for (const pc of traces) expect(blocks.has(pc)).toBe(true);
    // set_gate is called 4 times; with nochain each call is a trace line.
    const setGate = parseInt(/calll {4}0x([0-9a-f]+)/.exec(text)![1]!, 16);
    expect(traces.filter((pc) => pc === setGate).length).toBe(4);
    // "cpu": a register dump right after each Trace line.
    expect(text).toMatch(/^Trace 0: [^\n]*\nEAX=[0-9a-f]{8} EBX=/m);
  });

  it('exec without nochain logs chaining as "Linking TBs" and no longer traces chained blocks; nochain traces them all', async () => {
    const dir = tmp();
    const count = async (items: string): Promise<{ traces: number; links: number }> => {
      const log = join(dir, `${items}.log`);
      await runCli(['--kernel', 'samples/build/bench-intloop.elf', '--max-insns', '200000', '-d', items, '-D', log]);
      const text = readFileSync(log, 'latin1');
      return { traces: text.match(/^Trace 0: /gm)?.length ?? 0, links: text.match(/^Linking TBs 0x[0-9a-f]+ index [01] -> 0x[0-9a-f]+$/gm)?.length ?? 0 };
    };
    const chained = await count('exec');
    const unchained = await count('exec,nochain');
    expect(chained.links).toBeGreaterThan(0);
    expect(unchained.links).toBe(0);
    expect(unchained.traces).toBeGreaterThan(10 * chained.traces);
  });
});

describe('logging costs nothing while off', () => {
  it('no hook is installed without -d, and each item installs only its own', () => {
    const m = new PcMachine();
    const hooks = () => ({
      int: m.cpu.intTrace !== null, reset: m.onBeforeReset !== null, gen: m.exec.onTbGenerated !== null,
      enter: m.exec.onTbEnter !== null, unassigned: m.phys.onUnassigned !== null, nochain: m.exec.noChain,
    });
    expect(hooks()).toEqual({ int: false, reset: false, gen: false, enter: false, unassigned: false, nochain: false });
    const l = new QemuLog(m, ['int'], () => {});
    expect(hooks()).toEqual({ int: true, reset: false, gen: false, enter: false, unassigned: false, nochain: false });
    l.detach();
    expect(hooks()).toEqual({ int: false, reset: false, gen: false, enter: false, unassigned: false, nochain: false });
    new QemuLog(m, ['in_asm', 'exec', 'guest_errors'], () => {});
    expect(hooks()).toEqual({ int: false, reset: false, gen: true, enter: true, unassigned: true, nochain: false });
  });
});
