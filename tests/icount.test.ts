// Guest time: by default 1 ns per retired instruction (QEMU's -icount shift=0), exactly;
// -icount shift=N gives 2^N ns, and RDTSC and device reads see the time of their own
// instruction, so the same guest reads the same TSC deltas as under QEMU's -icount;
// -icount shift=auto makes guest time follow wall time (the rate is a power of two,
// adjusted as QEMU does) and logs every rate it chooses.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, REPO } from './support/cli.js';
import { skipWithoutQemu } from './support/qemu.js';
import { assemble, skipWithoutNasm } from './support/nasm.js';
import { HEX_NIBBLE, HEX_PRINTER, multibootFlat, runBoth } from './support/same-command-line.js';
import { DebugController } from '../src/debug/controller.js';
import { VirtualClock, Timer } from '../src/time/virtual-clock.js';
import { IcountAuto } from '../src/machine/icount-auto.js';
import { PcMachine } from '../src/machine/pc-machine.js';
import { loadMultiboot } from '../src/boot/multiboot.js';

/** EAX as 8 hex digits and a newline on port 0xE9, then isa-debug-exit status 0. */
const PRINT_EAX_AND_EXIT = `
  mov ecx, 8
.p:
  rol eax, 4
  mov ebx, eax
  and al, 15
  add al, '0'
  cmp al, '9'
  jbe .d
  add al, 7
.d:
  out 0xe9, al
  mov eax, ebx
  dec ecx
  jnz .p
  mov al, 10
  out 0xe9, al
  mov al, 0
  out 0xf4, al
`;

/** RDTSC around 2000 loop instructions; the delta (low 32 bits) in hex on 0xE9; exit 0. */
const TSC_DELTA = `
start:
  cli
  rdtsc
  mov esi, eax
  mov ecx, 1000
.l:
  dec ecx
  jnz .l
  rdtsc
  sub eax, esi
${PRINT_EAX_AND_EXIT}`;

const ARGS = ['-display', 'none', '-monitor', 'none', '-serial', 'none', '-nodefaults', '-debugcon', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'];

describe.skipIf(skipWithoutQemu() || skipWithoutNasm())('-icount shift=N against QEMU', () => {
  it('RDTSC deltas over the same instructions are QEMU\'s for shift 0, 3 and 10', async () => {
    const kernel = multibootFlat(TSC_DELTA);
    for (const shift of [0, 3, 10]) {
      const { qemu, ours } = await runBoth(['-kernel', kernel, ...ARGS, '-icount', `shift=${shift}`]);
      // cli, the first RDTSC's successors: 2003 instructions from one RDTSC to the next.
      expect(qemu.stdout).toBe(`${(2003 * 2 ** shift).toString(16).toUpperCase().padStart(8, '0')}\n`);
      expect(ours.stdout).toBe(qemu.stdout);
      expect(ours.code).toBe(qemu.code);
    }
  }, 60_000);
});

/** RDTSC around REP MOVSB x100 and a REP STOSB with ECX = 0: the count of a REP instruction. */
const REP_COUNT = `
start:
  cli
  mov esi, 0x200000
  mov edi, 0x300000
  mov ecx, 100
  cld
  rdtsc
  mov ebx, eax
  rep movsb
  xor ecx, ecx
  rep stosb
  rdtsc
  sub eax, ebx
${PRINT_EAX_AND_EXIT}`;

/**
 * REP MOVSB (ECX = 3) with EFLAGS.TF set; the #DB handler counts traps with the saved EIP
 * on the REP, on the instruction after it, and in all. Prints the three counts.
 */
const REP_TF = `
${HEX_PRINTER}
start:
  cli
  mov esp, 0x90000
  mov eax, db_handler
  mov [idt + 8], ax
  shr eax, 16
  mov [idt + 14], ax
  mov ax, cs
  mov [idt + 10], ax
  mov word [idt + 12], 0x8e00
  lidt [idtr]
  mov esi, 0x200000
  mov edi, 0x300000
  mov ecx, 3
  cld
  pushfd
  or dword [esp], 0x100
  popfd
rep_insn:
  rep movsb
after_rep:
  nop
  pushfd
  and dword [esp], ~0x100
  popfd
  mov al, [on_rep]
  print_hex 0xe9
  mov al, [on_next]
  print_hex 0xe9
  mov al, [total]
  print_hex 0xe9
  mov al, 10
  out 0xe9, al
  mov al, 0
  out 0xf4, al
db_handler:
  push eax
  mov eax, [esp + 4]
  cmp eax, rep_insn
  jne .o
  inc dword [on_rep]
.o:
  cmp eax, after_rep
  jne .p
  inc dword [on_next]
.p:
  inc dword [total]
  pop eax
  iretd
${HEX_NIBBLE}
align 8
on_rep: dd 0
on_next: dd 0
total: dd 0
idtr: dw 0x7f
  dd idt
align 8
idt: times 16 dq 0
`;

describe.skipIf(skipWithoutQemu() || skipWithoutNasm())('REP string instructions count as QEMU counts them (decisions.md 6)', () => {
  it('one instruction per iteration and one for the pass that finds ECX zero', async () => {
    const { qemu, ours } = await runBoth(['-kernel', multibootFlat(REP_COUNT), ...ARGS, '-icount', 'shift=0']);
    // rdtsc, mov, rep movsb (100 + 1), xor, rep stosb (1)
    expect(qemu.stdout).toBe('00000069\n');
    expect(ours.stdout).toBe(qemu.stdout);
  });

  it('with EFLAGS.TF, one #DB per iteration and none for a final pass (QEMU without -icount)', async () => {
    const { qemu, ours } = await runBoth(['-kernel', multibootFlat(REP_TF), ...ARGS]);
    // Two traps on the REP (ECX 2, 1), one after it (the last iteration completes it),
    // then the NOP, PUSHFD, AND and POPFD.
    expect(qemu.stdout).toBe('02 01 07 \n');
    expect(ours.stdout).toBe(qemu.stdout);
  });
});

describe.skipIf(skipWithoutNasm())('stepping a REP string instruction in the debugger', () => {
  it('stepi runs one iteration and the last one completes it, as QEMU\'s gdb stub without -icount', async () => {
    // Measured on QEMU 7.2 (gdb stepi over rep movsb, ECX = 3): EIP stays on the REP
    // with ECX 2 and 1, then moves on with ECX 0: three steps, no fourth for ECX = 0.
    const image = assemble(`bits 32
org 0x100000
mb: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
    dd mb, mb, 0, 0, start
start:
  mov esi, 0x200000
  mov edi, 0x300000
  mov ecx, 3
  cld
  rep movsb
  nop
`);
    const m = new PcMachine({});
    loadMultiboot(m.phys, m.cpu, image, { kernelName: 'rep', cmdline: '', modules: [], ramSize: m.ramSize });
    const ctl = new DebugController(m, {});
    const seen: Array<[number, number]> = [];
    for (let i = 0; i < 8; i++) {
      await ctl.stepInstruction();
      seen.push([m.cpu.eip, m.cpu.regs[1]!]);
    }
    const rep = 0x100020 + 16; // after the header and 16 bytes of MOVs and CLD
    expect(seen.slice(3, 8)).toEqual([[rep, 3], [rep, 2], [rep, 1], [rep + 2, 0], [rep + 3, 0]]);
  });
});

describe('the rate', () => {
  it.skipIf(skipWithoutNasm())('--ns-per-insn N is -icount shift=log2(N); the default is shift=0', async () => {
    const kernel = multibootFlat(TSC_DELTA);
    expect((await runCli(['-kernel', kernel, ...ARGS])).stdout).toBe('000007D3\n');
    expect((await runCli(['-kernel', kernel, ...ARGS, '--ns-per-insn', '8'])).stdout).toBe('00003E98\n');
    expect((await runCli(['-kernel', kernel, ...ARGS, '-icount', '3'])).stdout).toBe('00003E98\n');
  });

  it('a rate change keeps virtual time continuous; armed deadlines keep their virtual time', () => {
    let icount = 1000;
    const clock = new VirtualClock(() => icount, 1);
    const fired: number[] = [];
    const t = new Timer(clock, 't', (now) => fired.push(now));
    t.arm(5000);
    expect(clock.now()).toBe(1000);
    clock.setNsPerInsn(8);
    expect(clock.now()).toBe(1000);
    expect(clock.nextDeadlineIcount()).toBe(1000 + 500); // 4000 ns left at 8 ns per instruction
    icount = 1500;
    expect(clock.now()).toBe(5000);
    clock.runDue();
    expect(fired).toEqual([5000]);
    clock.setNsPerInsn(1);
    icount = 1600;
    expect(clock.now()).toBe(5100);
  });
});

describe('-icount shift=auto', () => {
  it('sets the rate from the measured speed: down at once, up one step per period, not while paused', () => {
    let wall = 0;
    let icount = 0;
    const clock = new VirtualClock(() => icount, 1);
    const auto = new IcountAuto(clock, () => icount, () => wall);
    const shifts: number[] = [];
    auto.onChange = (c) => shifts.push(c.shift);
    const period = (insns: number, runningMs = 25): void => {
      auto.enter();
      wall += runningMs * 1e6;
      icount += insns;
      auto.leave();
      auto.adjust();
    };
    auto.adjust();
    expect(shifts).toEqual([3]);
    expect(clock.nsPerInsn).toBe(8);
    // A slow guest, 40 MIPS: 25 ns per instruction keeps up with wall time; the rate
    // climbs one power of two per period, then settles (it may overshoot by one step to
    // make up the time lost on the way).
    for (let i = 0; i < 12; i++) period(1e6);
    expect(shifts.slice(0, 3)).toEqual([3, 4, 5]);
    for (let i = 1; i < shifts.length; i++) expect(shifts[i]! - shifts[i - 1]!).toBeLessThanOrEqual(1);
    expect(Math.abs(auto.aheadNs())).toBeLessThan(150e6);
    // Now 2000 MIPS: back to 1 ns per instruction at once.
    period(50e6);
    expect(auto.shift).toBe(0);
    // Idle periods (no instructions) leave the rate alone.
    const before = shifts.length;
    wall += 200e6;
    auto.adjust();
    expect(shifts.length).toBe(before);
    // Paused in a debugger: wall time does not count.
    auto.pause();
    const ahead = auto.aheadNs();
    wall += 10e9;
    expect(auto.aheadNs()).toBe(ahead);
    auto.resume();
    expect(auto.aheadNs()).toBe(ahead);
    // A halted guest may skip only to where wall time is.
    expect(auto.idleLimitNs() - clock.now()).toBe(-auto.aheadNs());
  });

  it.skipIf(skipWithoutNasm())('guest time follows wall time: a guest spinning on RDTSC for 2^29 ns takes about that long', async () => {
    // Spin until the TSC passes 2^29 (about 0.54 s of guest time), then exit.
    const image = assemble(`bits 32
org 0x100000
mb: dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
    dd mb, mb, 0, 0, start
start:
  rdtsc
  cmp eax, 0x20000000
  jb start
  mov al, 0
  out 0xf4, al
`);
    const m = new PcMachine({ icountAuto: true });
    loadMultiboot(m.phys, m.cpu, image, { kernelName: 'spin', cmdline: '', modules: [], ramSize: m.ramSize });
    const t0 = performance.now();
    for (;;) {
      const s = m.run(2_000_000);
      if (s.kind === 'exit') break;
      await new Promise((r) => setImmediate(r));
    }
    const wallMs = performance.now() - t0;
    const guestMs = m.clock.now() / 1e6;
    expect(guestMs).toBeGreaterThan(536);
    expect(wallMs).toBeGreaterThan(guestMs * 0.4);
    expect(wallMs).toBeLessThan(guestMs * 2.5 + 200);
    expect(m.icountAuto!.changes[0]!.shift).toBe(3);
  }, 30_000);

  it('a halted guest waits in wall time for its timer: 100 PIT ticks at 1 kHz take at least 100 ms', async () => {
    const m = new PcMachine({ icountAuto: true });
    const path = join(REPO, 'samples', 'build', 'timer.elf');
    loadMultiboot(m.phys, m.cpu, readFileSync(path), { kernelName: path, cmdline: path, modules: [], ramSize: m.ramSize });
    const t0 = performance.now();
    for (;;) {
      const s = m.run(1_000_000);
      if (s.kind === 'exit') break;
      if (s.kind === 'budget' && s.waitNs !== undefined) await new Promise((r) => setTimeout(r, Math.max(1, s.waitNs! / 1e6)));
    }
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
    expect(m.clock.now() / 1e6).toBeGreaterThanOrEqual(100);
  });

  it('the command line logs every rate chosen (on stderr without -D) so a run can be repeated with shift=N', async () => {
    const r = await runCli(['--kernel', 'samples/build/timer.elf', '-icount', 'shift=auto', '-serial', 'null']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^icount: shift=3 \(8 ns per instruction\) from instruction 0$/m);
  });
});
