// Random code (issue 16): guests of random bytes and of random valid instruction mixes
// (random bytes kept where iced-x86 decodes an instruction of the CPU model's sets), in
// real and in flat protected mode, with and without working interrupt vectors. Each
// must end by its instruction budget, a halt, an exit or power-off port, or a triple
// fault (exceptions on the way are the guest's business): never by a hang of the loop or
// an exception out of the emulator. All in one process, one machine per mode, reset
// between guests (the way a front end's reset goes).
//
// Seeded: BMBT_RANDOM_SEED=N repeats a run, BMBT_RANDOM_GUESTS=N runs N guests; 10,000 in
// CI (CI set) or with BMBT_FULL=1, fewer in a local `npm test` (the figure is printed);
// BMBT_RANDOM_SLOW=1 says what each guest cut by its time budget was doing.
import { describe, expect, it } from 'vitest';
import { PcMachine, type MachineStop } from '../../src/machine/pc-machine.js';
import { enterFlatProtectedMode } from '../../src/boot/multiboot.js';
import { SEG_CS } from '../../src/cpu/instr.js';
import { DESC_A, DESC_B, DESC_CODE, DESC_G, DESC_P, DESC_R, DESC_S } from '../../src/cpu/segment.js';
import { iced } from '../support/iced.js';
import { rng } from '../gdb/fuzz-packets.js';

const FULL = Boolean(process.env.CI) || process.env.BMBT_FULL === '1';
const GUESTS = process.env.BMBT_RANDOM_GUESTS ? Number(process.env.BMBT_RANDOM_GUESTS) : FULL ? 10_000 : 500;
const SEED = process.env.BMBT_RANDOM_SEED ? Number(process.env.BMBT_RANDOM_SEED) : 0x16c0de;
/** Instructions a guest may retire. */
const BUDGET = 10_000;
/** Guest time a halted guest may wait (its timers may wake it): then it counts as halted. */
const HALT_NS = 50_000_000;
/**
 * Wall time a guest may take (the CPU loop itself returns by then: Cpu.wallDeadline). A
 * guest still retiring instructions or moving its clock then ends by this time budget
 * ('slow': code that is all translation, such as a sled of device accesses that makes
 * every instruction a block of its own); one that moved neither is a hang.
 */
const GUEST_MS = 500;

const CODE_REAL = 0x10000;
const CODE_PM = 0x100000;
const IDT_PM = 0x2000;
const GDT_PM = 0x1000;
const CODE_LIMIT_PM = 0x3fffff;
const DATA_PM = 0x200000;

/** The instruction sets of the default CPU model (pentium2) and its x87. */
const SETS = new Set(['INTEL8086', 'INTEL186', 'INTEL286', 'INTEL386', 'INTEL486', 'FPU', 'FPU287', 'FPU387', 'CMOV', 'CPUID', 'CX8', 'MMX', 'MSR', 'TSC', 'SEP', 'FXSR', 'MULTIBYTENOP', 'PAUSE', 'RDPMC']);
const FEATURE_NAMES = new Map<number, string>(Object.entries(iced.CpuidFeature).filter(([k]) => isNaN(Number(k))).map(([k, v]) => [v as number, k]));

type Mode = 'real' | 'protected';
type End = 'budget' | 'slow' | 'halt' | 'triple-fault' | 'exit' | 'power-off' | 'hang' | 'crash';

/** Random bytes decoded by iced-x86, kept where they make an instruction of SETS. */
function validMix(rand: () => number, bitness: 16 | 32, size: number): Uint8Array {
  const out: number[] = [];
  while (out.length < size) {
    const bytes = Uint8Array.from({ length: 15 }, () => Math.floor(rand() * 256));
    const dec = new iced.Decoder(bitness, bytes, iced.DecoderOptions.None);
    const ins = dec.decode();
    try {
      if (ins.code === iced.Code.INVALID) continue;
      const feats = ins.cpuidFeatures();
      if (!Array.from(feats).every((f) => SETS.has(FEATURE_NAMES.get(f) ?? ''))) continue;
      out.push(...bytes.subarray(0, ins.length));
    } finally {
      ins.free();
      dec.free();
    }
  }
  return Uint8Array.from(out);
}

class Batch {
  readonly ends = new Map<End, number>();
  exceptions = 0;
  triple = 0;
  worstMs = 0;
  readonly failures: string[] = [];
  private readonly m: PcMachine;

  constructor(readonly mode: Mode) {
    this.m = new PcMachine({ memoryMiB: 8 });
    // Where the guests may jump, HLT (zeroed memory would be a sled of ADD [BX+SI],AL
    // that runs its whole budget as blocks to translate): conventional memory in real
    // mode; in protected mode the 4 MiB the code segment reaches (past its limit a jump
    // faults).
    const hlt = new Uint8Array(this.mode === 'real' ? 0xa0000 - 0x500 : CODE_LIMIT_PM + 1 - 0x500).fill(0xf4);
    this.m.phys.load(0x500, hlt);
  }

  /** Guest `i`: its bytes and start state from the seed, then run to its end. */
  run(i: number, seed: number): void {
    const rand = rng(seed);
    const m = this.m;
    const random = rand() < 0.5;
    const pm = this.mode === 'protected';
    const body = random ? Uint8Array.from({ length: 256 }, () => Math.floor(rand() * 256)) : validMix(rand, pm ? 32 : 16, 256);
    // After the body a jump back to its start (the guest loops: chained blocks, regions),
    // and the rest of the page HLT (zeroed memory would be a sled of ADD [BX+SI],AL
    // whose every 64 instructions are a block to translate).
    const code = new Uint8Array(0x1000).fill(0xf4);
    code.set(body);
    const back = -(body.length + (pm ? 5 : 3));
    code.set([0xe9, back & 0xff, (back >> 8) & 0xff, ...(pm ? [(back >> 16) & 0xff, (back >> 24) & 0xff] : [])], body.length);
    const vectors = rand() < 0.5;
    m.reset(`random guest ${i}`);
    const before = m.events.count('exception');
    // Code, data and the vectors on clean pages (writePhysical drops the TBs they held).
    if (pm) {
      m.writePhysical(CODE_PM, code);
      m.writePhysical(DATA_PM, Uint8Array.from({ length: 0x1000 }, () => Math.floor(rand() * 256)));
      enterFlatProtectedMode(m.phys, m.cpu, CODE_PM, GDT_PM);
      // CS reaches 4 MiB (a wild jump past it is a #GP, not a run through unassigned
      // memory, which reads as zeros): in the GDT, for far jumps and IRETs, and loaded.
      const gdt = new DataView(new ArrayBuffer(8));
      gdt.setUint32(0, (CODE_LIMIT_PM >>> 12) & 0xffff, true);
      gdt.setUint32(4, 0x00c09b00 | ((CODE_LIMIT_PM >>> 12) & 0xf0000), true);
      m.writePhysical(GDT_PM + 8, new Uint8Array(gdt.buffer));
      m.cpu.setSegmentRaw(SEG_CS, 0x08, 0, CODE_LIMIT_PM, DESC_P | DESC_S | DESC_CODE | DESC_R | DESC_A | DESC_B | DESC_G);
      m.cpu.updateHflags();
      // Working vectors: 32 interrupt gates to an IRET at the end of the code (a fault
      // with an error code returns somewhere random: fine); else no IDT (triple faults).
      const idt = new Uint8Array(256 * 8);
      const handler = CODE_PM + 0xff0;
      m.writePhysical(handler, Uint8Array.of(0xcf)); // IRETD
      for (let v = 0; v < 256; v++) idt.set([handler & 0xff, (handler >> 8) & 0xff, 0x08, 0, 0, 0x8e, (handler >>> 16) & 0xff, handler >>> 24], v * 8);
      m.writePhysical(IDT_PM, idt);
      m.cpu.idtBase = IDT_PM;
      m.cpu.idtLimit = vectors ? idt.length - 1 : 0;
      for (const r of [3, 5, 6, 7]) m.cpu.regs[r] = DATA_PM + Math.floor(rand() * 0x800);
      m.cpu.regs[4] = DATA_PM + 0xf00;
    } else {
      // Code at 1000:0000, data and stack segments of their own (a store through DS, ES
      // or SS does not rewrite the code, which would make most guests translation work).
      m.writePhysical(0, new Uint8Array(0x400));
      m.writePhysical(CODE_REAL, code);
      // The IVT: every vector into the code (working vectors), or a limit of 0 (as after
      // LIDT with a zero limit: an interrupt is a triple fault).
      m.cpu.idtLimit = vectors ? 0x3ff : 0;
      if (vectors) {
        const ivt = new Uint8Array(0x400);
        for (let v = 0; v < 256; v++) ivt.set([Math.floor(rand() * body.length), 0, CODE_REAL >> 4 & 0xff, CODE_REAL >> 12], v * 4);
        m.writePhysical(0, ivt);
      }
      for (const [s, base] of [[0, 0x20000], [2, 0x30000], [3, 0x20000], [4, 0x40000], [5, 0x40000]] as const) m.cpu.loadSegmentReal(s, base >> 4);
      m.cpu.loadSegmentReal(SEG_CS, CODE_REAL >> 4);
      m.cpu.eip = 0;
      for (const r of [3, 5, 6, 7]) m.cpu.regs[r] = Math.floor(rand() * 0x10000);
      m.cpu.regs[4] = 0xfff0;
      m.cpu.setA20(true);
    }
    for (const r of [0, 1, 2]) m.cpu.regs[r] = Math.floor(rand() * 0x100000000) | 0;
    const end = this.finish(i, seed);
    this.ends.set(end, (this.ends.get(end) ?? 0) + 1);
    this.exceptions += m.events.count('exception') - before;
  }

  private finish(i: number, seed: number): End {
    const m = this.m;
    const start = m.cpu.icount;
    const t0 = performance.now();
    const ns0 = m.clock.now();
    try {
      for (;;) {
        m.cpu.wallDeadline = t0 + GUEST_MS;
        const icount = m.cpu.icount;
        const ns = m.clock.now();
        let stop: MachineStop;
        try {
          stop = m.run(Math.max(1, start + BUDGET - m.cpu.icount));
        } finally {
          m.cpu.wallDeadline = Infinity;
        }
        this.worstMs = Math.max(this.worstMs, performance.now() - t0);
        if (m.cpu.wallExpired) {
          m.cpu.wallExpired = false;
          if (m.cpu.icount !== icount || m.clock.now() !== ns) {
            if (process.env.BMBT_RANDOM_SLOW) {
              const inv = m.exec.tbs.invalidated.slice(-3).map((r) => r.reason);
              console.log(`slow ${this.mode} guest ${i} seed 0x${seed.toString(16)}: ${m.cpu.icount - start} insns, eip ${m.cpu.eip.toString(16)} cs ${m.cpu.segSel[SEG_CS]!.toString(16)}, ${m.events.count('exception')} exc, ${m.exec.tbs.stats.translations} tr, ${m.exec.tbs.stats.invalidations} inv ${JSON.stringify(inv)}`);
            }
            return 'slow';
          }
          this.fail(i, seed, `no instruction and no time in ${GUEST_MS} ms (eip ${m.cpu.eip.toString(16)})`);
          return 'hang';
        }
        switch (stop.kind) {
          case 'budget':
            if (m.cpu.icount - start >= BUDGET) return 'budget';
            if (m.clock.now() - ns0 > HALT_NS) return 'halt';
            continue;
          case 'halted-forever':
          case 'idle':
            return 'halt';
          case 'triple-fault':
          case 'guest-reset':
            return 'triple-fault';
          case 'exit':
            return 'exit';
          case 'power-off':
            return 'power-off';
          case 'exit-request':
            // A reset the guest asked for (port 0xCF9, the keyboard controller): it runs on.
            continue;
          default:
            this.fail(i, seed, `stopped by ${stop.kind}`);
            return 'crash';
        }
      }
    } catch (e) {
      this.fail(i, seed, `the emulator threw: ${(e as Error)?.stack ?? String(e)}`);
      return 'crash';
    }
  }

  private fail(i: number, seed: number, what: string): void {
    if (this.failures.length < 10) this.failures.push(`${this.mode} guest ${i} (seed 0x${seed.toString(16)}): ${what}`);
  }
}

describe('random code', () => {
  it(`${GUESTS} guests of random bytes and valid instruction mixes (seed 0x${SEED.toString(16)}) end by budget, halt, exit or triple fault, never a hang or a crash`, () => {
    console.log(`[random-code] seed 0x${SEED.toString(16)} (BMBT_RANDOM_SEED=0x${SEED.toString(16)} repeats it), ${GUESTS} guests` +
      (FULL || process.env.BMBT_RANDOM_GUESTS ? '' : ' (local run: 10000 with CI=true or BMBT_FULL=1, any number with BMBT_RANDOM_GUESTS=N)'));
    const t0 = performance.now();
    const seeds = rng(SEED);
    const batches = { real: new Batch('real'), protected: new Batch('protected') };
    for (let i = 0; i < GUESTS; i++) {
      const seed = Math.floor(seeds() * 0x100000000);
      batches[i % 2 ? 'protected' : 'real'].run(i, seed);
    }
    const ends: Record<string, number> = {};
    let exceptions = 0;
    let worst = 0;
    for (const b of Object.values(batches)) {
      for (const [k, n] of b.ends) ends[`${b.mode} ${k}`] = n;
      exceptions += b.exceptions;
      worst = Math.max(worst, b.worstMs);
    }
    const hangs = Object.entries(ends).filter(([k]) => k.endsWith('hang')).reduce((a, [, n]) => a + n, 0);
    const crashes = Object.entries(ends).filter(([k]) => k.endsWith('crash')).reduce((a, [, n]) => a + n, 0);
    console.log(`[random-code] ${JSON.stringify({ guests: GUESTS, ends, exceptions, hangs, crashes, worstGuestMs: Math.round(worst), seconds: Math.round((performance.now() - t0) / 1000) })}`);
    expect([...batches.real.failures, ...batches.protected.failures]).toEqual([]);
    expect(hangs).toBe(0);
    expect(crashes).toBe(0);
    // Both modes had guests ending each common way.
    for (const k of ['real budget', 'real triple-fault', 'protected budget', 'protected triple-fault']) expect(ends[k], k).toBeGreaterThan(0);
  }, 30 * 60_000);
});
