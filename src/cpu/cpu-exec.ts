// The CPU loop, shaped like QEMU's cpu_exec: cpuHandleException, cpuHandleInterrupt,
// tbFind (-> tbGenCode), cpuLoopExecTb with direct chaining (tbAddJump).
import type { Cpu } from './cpu.js';
import { HF_CPL_MASK, HF_DR_EXEC, HF_TF, IRQ_HARD, IRQ_INIT, IRQ_NMI } from './cpu.js';
import { GUEST_EXCEPTION, IO_RESTART } from './cpu-exception.js';
import { ACCESS_FETCH } from './mmu.js';
import { FLAG_IF, FLAG_RF } from './lazy-flags.js';
import { INT_HARDWARE, deliverException, doInterrupt } from './protection.js';
import { Helpers } from './helpers.js';
import { makeRuntime, type Runtime } from './runtime.js';
import { MAX_TB_INSNS, redecodeTb, tbGenCode, tierUp } from './translate/translator.js';
import { TemplateCache } from './translate/threaded.js';
import type { Instr } from './instr.js';
import { EXIT_DEBUG, EXIT_INDIRECT, EXIT_LOOKUP, EXIT_STOP } from './translate/codegen.js';
import { SEG_CS } from './instr.js';
import { TbCache } from '../tb/tb-cache.js';
import type { TbStore } from '../tb/tb-store.js';
import { CF_NOBP, CF_SINGLE, type Region, type TranslationBlock } from '../tb/translation-block.js';
import { REGION_MAX_MEMBERS, REGION_MAX_SOURCE, buildRegion } from './translate/region.js';

/**
 * A first-tier TB (translate/threaded.ts) executed this many times is compiled as a
 * whole: by then its own function pays for its compilation. A function of our own runs
 * in V8's baseline tier (each property access an inline-cache call) until V8 optimises
 * it, slower than the first tier's optimised templates, so compiling earlier loses.
 * Measured on the direct Debian boot (process CPU time): 200 -> 106 s with regions at
 * 2000; with regions at 1 M: 1000 -> 73 s, 2000 -> 67-71 s, 5000 -> 70 s.
 */
export const TIER_UP = 2000;
/**
 * A TB executed this many times compiles its page's hot TBs into a region. A region is a
 * large function that V8 optimises, de-optimises at the first path it had not seen and
 * optimises again, on the compiler threads of a 2-core machine: at 2000 runs, regions cost
 * the direct Debian boot a third more CPU time and 60 MiB more peak RSS than they saved.
 * Only the hottest loops gain from them.
 */
const REGION_HOT = 1_000_000;
/** Members are TBs already compiled on their own (a region's code is theirs, joined). */
const REGION_MIN = TIER_UP;
import type { EventLog } from '../events/machine-events.js';

/**
 * Exceptions delivered with no instruction retired in between, beyond which each further
 * delivery counts as an instruction (a #PF, #DF, triple fault chain is 3).
 */
export const STORM_DELIVERIES = 256;
/** Instructions charged for each delivery of a storm: 1 µs of virtual time at 1 ns each. */
export const STORM_CHARGE = 1000;

/**
 * Under a wall deadline (Cpu.wallDeadline) the loop takes control back from translated
 * code every `chunk` instructions to read the clock; the chunk adapts to about half a
 * millisecond of guest work, between these bounds. The upper one bounds what a sudden
 * slowdown (a memset-fast REP phase, then helper-heavy code) costs before the next look.
 */
const CHUNK_MIN = 1000;
const CHUNK_MAX = 1 << 20;
/** Passes of the loop (exceptions, halts, I/O blocks, interrupts) between looks at the clock. */
const LOOP_POLL = 64;

/** What a TB keeps of its decoded instructions once compiled (see redecodeTb). */
const NO_INSTRS: readonly Instr[] = [];

export type ExecStop =
  | 'budget' // the instruction budget (or the next timer deadline) was reached
  | 'halted' // HLT and no interrupt can be taken now
  | 'breakpoint' // EIP is at a breakpoint
  | 'watchpoint' // a watchpoint was hit by the last instruction
  | 'triple-fault'
  | 'exit-request'; // someone asked the loop to stop (debugger, UI)

export interface RunOptions {
  /** Take no external interrupts (single-stepping, as QEMU does by default). */
  noIrq?: boolean;
  /** Run exactly one translated block. */
  oneBlock?: boolean;
  /** Translate and run one instruction at a time. */
  single?: boolean;
}

export class CpuExec {
  readonly tbs: TbCache;
  readonly breakpoints = new Set<number>();
  readonly helpers: Helpers;
  private readonly runtimes: [Runtime, Runtime];
  private readonly templates: [TemplateCache, TemplateCache];
  /** New TBs start in the first tier (threaded.ts); off, every TB is compiled at once. */
  firstTier = true;
  /** The persistent translation cache (tb-store.ts), or null: translate everything. */
  store: TbStore | null = null;
  currentTb: TranslationBlock | null = null;
  currentRegion: Region | null = null;
  /** Resume from a breakpoint: the instruction there runs once without stopping. */
  skipBreakpointAt = -1;
  /** Asynchronous stop request (checked at TB boundaries). */
  exitRequest = false;
  /** A timer was armed before the current deadline (set by the board). */
  timersChanged = false;
  /** Last TB executed (for "current TB" displays). */
  lastTb: TranslationBlock | null = null;
  /** Called for every exception delivered (vector, error code, EIP of the fault). */
  onException: (vector: number, errorCode: number, eip: number) => void = () => {};
  onInterrupt: (vector: number, eip: number) => void = () => {};
  /** Told about every TB just translated (QEMU's -d in_asm); null when nobody listens. */
  onTbGenerated: ((tb: TranslationBlock) => void) | null = null;
  /**
   * Told about every TB entered from the loop or through a lookup, not through a direct
   * link (QEMU's -d exec "Trace" lines); null when nobody listens.
   */
  onTbEnter: ((tb: TranslationBlock) => void) | null = null;
  /** Every TB returns to the loop instead of chaining or looping in itself (QEMU's -d nochain). */
  noChain = false;
  /** The instruction count at the last exception delivery, and deliveries since then. */
  private stormIcount = -1;
  private stormDeliveries = 0;
  /** Bumped by every TLB flush: links to another page hold only within one generation. */
  private mapGen = 0;
  /**
   * The `end` of the current (or last) run(): cpu.deadline may be lower (a chunk's end, a
   * stop request), so a timer armed during the run is compared with this one.
   */
  runEnd = 0;
  /** Under a wall deadline: the instruction count where the current chunk ends, its size, when it began. */
  private chunkEnd = 0;
  private chunk = CHUNK_MIN;
  private chunkStart = 0;
  private loopPolls = 0;
  /** A device access stopped the last block before its instruction: run that one alone. */
  private ioRestart = false;
  /** Instructions found accessing devices from inside a block (TranslateOptions.ioPcs). */
  readonly ioPcs = new Set<number>();

  constructor(readonly cpu: Cpu, readonly events: EventLog | null, maxTbs?: number, maxTbBytes?: number) {
    this.tbs = new TbCache(events, maxTbs, maxTbBytes);
    this.tbs.icount = () => cpu.icount;
    this.helpers = new Helpers(cpu);
    this.runtimes = [makeRuntime(cpu, this.helpers, false), makeRuntime(cpu, this.helpers, true)];
    this.templates = [new TemplateCache(this.runtimes[0]), new TemplateCache(this.runtimes[1])];
    this.tbs.onPageUsed = (page) => cpu.mmu.protectCodePage(page);
    this.tbs.onPageEmpty = (page) => cpu.mmu.unprotectCodePage(page);
    cpu.onCodeWrite = (pa, size) => this.codeWrite(pa, size);
    cpu.onTlbFlushHook = () => {
      this.tbs.clearJmpCache();
      this.mapGen++;
    };
    cpu.onTlbFlushPageHook = (vpage) => {
      this.tbs.clearJmpCachePage(vpage);
      this.mapGen++;
    };
    // Guest instruction breakpoints (DR0-DR3) are compiled into the TBs translated with
    // HF_DR_EXEC: only those holding an address whose breakpoint changed are stale (QEMU
    // invalidates per breakpoint too). A kernel clears DR0-DR7 at every CPU bring-up,
    // which changes nothing.
    let drExec = guestExecBreakpoints(cpu);
    cpu.onDebugRegistersChanged = () => {
      const now = guestExecBreakpoints(cpu);
      for (const [lin, bits] of drExec) if (now.get(lin) !== bits) this.tbs.invalidateLinear(lin, 'debug registers changed', HF_DR_EXEC);
      for (const [lin, bits] of now) if (drExec.get(lin) !== bits) this.tbs.invalidateLinear(lin, 'debug registers changed', HF_DR_EXEC);
      drExec = now;
    };
  }

  /** A write hit a page with translated code: drop the TBs it overlaps. */
  codeWrite(pa: number, size: number): void {
    const region = this.currentRegion;
    const hit = this.tbs.tbInvalidatePhysRange(pa, size, 'self-modifying code');
    if (hit.some((t) => t === this.currentTb || (region !== null && region.members.includes(t)))) this.cpu.stopAfterInsn = true;
  }

  /** Compile the hot TBs of `tb`'s page into one region function. */
  private formRegion(tb: TranslationBlock): void {
    // Guest instruction breakpoints live in TB prologues that regions do not carry.
    if (tb.flags & HF_DR_EXEC) return;
    const page = tb.phys >>> 12;
    const cands = this.tbs.onPage(page).filter((t) =>
      t.cflags === 0 && !t.io && t.flags === tb.flags && t.csBase === tb.csBase && t.phys2 < 0 &&
      (t.pc & ~0xfff) === (tb.pc & ~0xfff) && (t === tb || t.execCount >= REGION_MIN));
    if (cands.length < 2) return;
    cands.sort((a, b) => b.execCount - a.execCount);
    const members: TranslationBlock[] = [];
    let size = 0;
    for (const c of cands) {
      if (members.length >= REGION_MAX_MEMBERS || size + c.codeSize > REGION_MAX_SOURCE) break;
      members.push(c);
      size += c.codeSize;
    }
    if (members.length < 2 || !members.includes(tb)) return;
    const decoded: Instr[][] = [];
    for (const m of members) {
      const d = redecodeTb(m, this.cpu.model.edx, this.cpu.model.ecx);
      if (d === null) return;
      decoded.push(d);
    }
    for (const m of members) if (m.region) this.tbs.dissolve(m.region);
    const user = (tb.flags & HF_CPL_MASK) === 3;
    const region = buildRegion(members, decoded, this.runtimes[user ? 1 : 0]);
    members.forEach((m, i) => {
      m.region = region;
      m.regionIndex = i;
    });
    this.tbs.stats.regionsBuilt++;
  }

  /** The loop's own guest-visible state (an exception storm's count), for snapshots. */
  saveLoopState(): { stormIcount: number; stormDeliveries: number } {
    return { stormIcount: this.stormIcount, stormDeliveries: this.stormDeliveries };
  }

  loadLoopState(s: { stormIcount: number; stormDeliveries: number }): void {
    this.stormIcount = s.stormIcount;
    this.stormDeliveries = s.stormDeliveries;
    this.ioRestart = false;
  }

  /** QEMU's tb_find: jump cache, then the physical hash table, then translate. */
  tbFind(cflags: number): TranslationBlock {
    return this.tbLookup(cflags, true)!;
  }

  /** tbFind, or null where it would translate (`translate` false). */
  private tbLookup(cflags: number, translate: boolean): TranslationBlock | null {
    const cpu = this.cpu;
    const csBase = cpu.segBase[SEG_CS]! >>> 0;
    const pc = (csBase + cpu.eip) >>> 0;
    const flags = cpu.hflags;
    const tbs = this.tbs;
    if (cflags === 0) {
      const tb = tbs.jmpLookup(pc);
      if (tb !== null && tb.valid && tb.pc === pc && tb.csBase === csBase && tb.flags === flags && tb.cflags === 0) {
        tbs.stats.jmpCacheHits++;
        return tb;
      }
    }
    const user = (flags & HF_CPL_MASK) === 3;
    const phys = cpu.mmu.translate(pc, ACCESS_FETCH, user);
    let tb = tbs.lookup(phys, pc, csBase, flags, cflags);
    if (tb !== null && tb.phys2 >= 0) {
      // A TB spanning two pages is valid only while the second page maps where it did.
      let second = -1;
      const cr2 = cpu.cr2;
      try {
        second = cpu.mmu.translate(((pc & ~0xfff) + 0x1000) >>> 0, ACCESS_FETCH, user) & ~0xfff;
      } catch (e) {
        // Not mapped any more: retranslate, which ends the TB before the page and lets the
        // instruction that needs it fault in its own right.
        if (e !== GUEST_EXCEPTION) throw e;
        cpu.cr2 = cr2;
      }
      if (second !== tb.phys2) {
        tbs.invalidate(tb, 'second page remapped');
        tb = null;
      }
    }
    if (tb === null) {
      if (!translate) return null;
      tb = this.translateNew(cflags, flags);
    }
    if (cflags === 0) tbs.setJmpCache(tb);
    return tb;
  }

  /**
   * tb_gen_code and the TB's insertion. A function of its own: the closures it hands the
   * translator would make every call of tbLookup (30 M in a Linux boot, nearly all hits in
   * the jump cache) allocate their context, 1.3 GB of garbage a boot.
   */
  private translateNew(cflags: number, flags: number): TranslationBlock {
    const cpu = this.cpu;
    const tbs = this.tbs;
    const tb = tbGenCode(cpu, cflags, {
      breakpoints: this.breakpoints,
      drExec: flags & HF_DR_EXEC ? guestExecBreakpoints(cpu) : null,
      runtime: (u) => this.runtimes[u ? 1 : 0],
      newId: () => tbs.newId(),
      noSelfLoop: this.noChain,
      ioPcs: this.ioPcs,
      templates: (u) => (this.firstTier ? this.templates[u ? 1 : 0] : null),
      store: this.store,
    });
    if (tb.fromStore) {
      tbs.stats.storeHits++;
      // (-d in_asm / unimp read the instructions of a TB as it is made)
      if (this.onTbGenerated !== null) tb.decoded = redecodeTb(tb, cpu.model.edx, cpu.model.ecx) ?? NO_INSTRS;
    }
    tbs.insert(tb);
    this.onTbGenerated?.(tb);
    // Translating takes tens of microseconds: code that does little else (self-modifying
    // loops) must not hold a stop request for a slice of it.
    if (cpu.wallDeadline !== Infinity) cpu.checkWall();
    tb.decoded = NO_INSTRS;
    return tb;
  }

  /** cpu_handle_interrupt: deliver a pending external interrupt if IF allows it. */
  private handleInterrupt(): boolean {
    const cpu = this.cpu;
    if (cpu.interruptRequest & IRQ_INIT) {
      // INIT is taken before NMI and INTR (QEMU's order); the CPU restarts at its reset vector.
      cpu.interruptRequest &= ~(IRQ_INIT | IRQ_NMI);
      cpu.onInit();
      return true;
    }
    if (cpu.interruptRequest & IRQ_NMI && !cpu.nmiBlocked && !cpu.inhibitIrq) {
      // NMI: vector 2, not maskable by IF; further NMIs wait for the handler's IRET.
      cpu.interruptRequest &= ~IRQ_NMI;
      cpu.nmiBlocked = true;
      cpu.halted = false;
      this.events?.emit({ kind: 'irq-deliver', icount: cpu.icount, vector: 2, eip: cpu.eip, ...cpuOf(cpu) });
      this.onInterrupt(2, cpu.eip);
      cpu.intTrace?.deliver(2, 0, false, cpu.eip);
      try {
        doInterrupt(cpu, 2, INT_HARDWARE, 0, false, cpu.eip);
      } catch (e) {
        if (e !== GUEST_EXCEPTION) throw e;
        return this.handleException();
      }
      return true;
    }
    if (!(cpu.interruptRequest & IRQ_HARD) || !(cpu.eflags & FLAG_IF) || cpu.inhibitIrq || !cpu.intc) return true;
    const vector = cpu.intc.acknowledge();
    cpu.halted = false;
    const eip = cpu.eip;
    this.events?.emit({ kind: 'irq-deliver', icount: cpu.icount, vector, eip, ...cpuOf(cpu) });
    this.onInterrupt(vector, eip);
    const trace = cpu.intTrace;
    if (trace !== null) {
      trace.hardwareInterrupt(vector);
      trace.deliver(vector, 0, false, eip);
    }
    try {
      doInterrupt(cpu, vector, INT_HARDWARE, 0, false, cpu.eip);
    } catch (e) {
      if (e !== GUEST_EXCEPTION) throw e;
      return this.handleException();
    }
    return true;
  }

  /** cpu_handle_exception: deliver cpu.pending; false on a triple fault. */
  private handleException(): boolean {
    const cpu = this.cpu;
    const p = cpu.pending;
    if (p.eip !== -1) {
      cpu.eip = p.eip;
      p.eip = -1;
    }
    // An exception whose handler faults at once (a #UD vector pointing at UD2, a real-mode
    // stack that wraps without ever reaching a double fault) retires no instruction, ever:
    // past a streak no real guest makes, each delivery is charged STORM_CHARGE
    // instructions (about what it costs us to deliver one), so the budget, the virtual
    // clock, timers and the slice ends where stop requests are served still come round.
    if (cpu.icount === this.stormIcount) {
      if (++this.stormDeliveries > STORM_DELIVERIES) {
        if (this.stormDeliveries === STORM_DELIVERIES + 1) {
          this.events?.emit({ kind: 'exception-storm', icount: cpu.icount, vector: p.vector, eip: cpu.eip, deliveries: this.stormDeliveries });
        }
        cpu.icount += STORM_CHARGE;
      }
    } else this.stormDeliveries = 1;
    this.stormIcount = cpu.icount;
    this.events?.emit({ kind: 'exception', icount: cpu.icount, vector: p.vector, errorCode: p.hasErrorCode ? p.errorCode : -1, eip: cpu.eip, ...cpuOf(cpu) });
    this.onException(p.vector, p.errorCode, cpu.eip);
    cpu.halted = false;
    return deliverException(cpu, p.vector, p.errorCode, p.hasErrorCode);
  }

  /**
   * Run translated code until icount reaches `end` or something stops the loop. Timer
   * deadlines are the caller's business: it passes the nearest one as `end`.
   */
  run(end: number, opts: RunOptions = {}): ExecStop {
    const cpu = this.cpu;
    let blocks = 0;
    this.runEnd = end;
    // A step (one instruction, one block) is short and must complete: a replayed stepi
    // that stopped for the clock would not be the one recorded.
    const wall = cpu.wallDeadline !== Infinity && !opts.single && !opts.oneBlock;
    if (wall) {
      this.chunkStart = performance.now();
      this.chunkEnd = cpu.icount + this.chunk;
    }
    for (;;) {
      if (this.exitRequest) {
        this.exitRequest = false;
        return 'exit-request';
      }
      // The caller's wall-clock time is up (cpu.wallExpired stays set for it to see).
      if (wall && this.wallUp()) return 'exit-request';
      if (this.timersChanged) {
        // A device armed a timer sooner than `end`: let the machine recompute it.
        this.timersChanged = false;
        return 'budget';
      }
      if (cpu.icount >= end) return 'budget';
      if (opts.oneBlock && blocks > 0) return 'budget';
      cpu.deadline = wall && this.chunkEnd < end ? this.chunkEnd : end;
      cpu.stopAfterInsn = false;
      if (cpu.interruptRequest && !opts.noIrq) {
        if (!this.handleInterrupt()) return 'triple-fault';
      }
      if (cpu.halted) return 'halted';
      let cflags = opts.single || this.ioRestart ? CF_SINGLE : 0;
      this.ioRestart = false;
      // The instruction in an STI / MOV SS shadow runs alone, and the loop comes back here
      // right after it, so an interrupt that became deliverable is taken at once.
      const shadow = cpu.inhibitIrq;
      if (shadow) {
        cflags |= CF_SINGLE;
        cpu.inhibitIrq = false;
      }
      if (this.skipBreakpointAt !== -1) {
        if (this.skipBreakpointAt === cpu.pc) cflags |= CF_SINGLE | CF_NOBP;
        this.skipBreakpointAt = -1;
      }
      const trap = (cpu.hflags & HF_TF) !== 0;
      // RF suppresses the guest's instruction breakpoints for one instruction.
      const rf = (cpu.eflags & FLAG_RF) !== 0;
      if (trap || rf) cflags |= CF_SINGLE;
      cpu.stepping = trap || opts.single === true;
      // MOV SS / POP SS hold debug traps back until after the next instruction.
      cpu.inhibitDebug = false;
      blocks++;
      try {
        // Near the end of the budget a block is run only if it is already translated and
        // fits; otherwise one instruction at a time (translating a full block there would
        // be wasted: the next pass starts one instruction further on).
        const left = end - cpu.icount;
        let tb = cflags & CF_SINGLE || left >= MAX_TB_INSNS ? this.tbFind(cflags) : this.tbLookup(cflags, false);
        if (tb === null || (!(cflags & CF_SINGLE) && tb.ninsns > left)) tb = this.tbFind(CF_SINGLE);
        this.onTbEnter?.(tb);
        // A one-instruction TB (single step, TF, RF, interrupt shadow, budget edge) must not
        // chain on: the loop has work to do right after that instruction.
        const code = opts.oneBlock || this.noChain || tb.cflags & CF_SINGLE ? this.execOne(tb) : this.execChain(tb);
        this.currentTb = null;
        if (code === EXIT_DEBUG) return 'breakpoint';
        if (rf) cpu.eflags &= ~FLAG_RF;
        // Single-step trap after the instruction (SDM vol. 3, 17.3.1.4).
        if (trap) cpu.dbTrapPending |= 0x4000;
        if (cpu.dbTrapPending !== 0 && !cpu.inhibitDebug) {
          cpu.dr[6] = cpu.dr[6]! | cpu.dbTrapPending;
          cpu.dbTrapPending = 0;
          this.events?.emit({ kind: 'exception', icount: cpu.icount, vector: 1, errorCode: -1, eip: cpu.eip, ...cpuOf(cpu) });
          if (!deliverException(cpu, 1, 0, false)) return 'triple-fault';
        }
        if (code === EXIT_STOP && cpu.watchHit) return 'watchpoint';
      } catch (e) {
        this.currentTb = null;
        if (e === IO_RESTART) {
          // From now on this instruction is a block of its own (the blocks holding it go).
          cpu.dbTrapPending = 0;
          this.ioRestart = true;
          const pc = cpu.pc;
          if (!this.ioPcs.has(pc)) {
            this.ioPcs.add(pc);
            this.tbs.invalidateLinear(pc, 'device access inside the block');
          }
          continue;
        }
        if (e !== GUEST_EXCEPTION) throw e;
        // A faulting instruction completes no access: its data breakpoint hits are void.
        cpu.dbTrapPending = 0;
        if (!this.handleException()) return 'triple-fault';
        if (cpu.watchHit) return 'watchpoint';
      }
    }
  }

  /**
   * Under a wall deadline, at the top of every pass of the loop: reads the clock at the
   * end of a chunk of instructions and every LOOP_POLL passes; true once time is up.
   */
  private wallUp(): boolean {
    const cpu = this.cpu;
    if (cpu.wallExpired) return true;
    if (cpu.icount >= this.chunkEnd) {
      const now = performance.now();
      const took = now - this.chunkStart;
      if (took < 0.25) this.chunk = Math.min(this.chunk * 2, CHUNK_MAX);
      else if (took > 1) this.chunk = Math.max(this.chunk >> 2, CHUNK_MIN);
      this.chunkStart = now;
      this.chunkEnd = cpu.icount + this.chunk;
      return cpu.checkWall();
    }
    if (++this.loopPolls >= LOOP_POLL) {
      this.loopPolls = 0;
      return cpu.checkWall();
    }
    return false;
  }

  private execOne(tb: TranslationBlock): number {
    this.currentTb = tb;
    this.lastTb = tb;
    const n = ++tb.execCount;
    const cpu = this.cpu;
    tb.cpus |= 1 << (cpu.smpIndex & 31);
    cpu.ioExact = tb.ninsns <= 1;
    try {
      return tb.fn();
    } finally {
      cpu.ioExact = true;
      if (n === TIER_UP && tb.tier === 0 && tb.valid) this.tierUp(tb);
    }
  }

  /** A first-tier TB compiled as a whole (see TIER_UP). */
  private tierUp(tb: TranslationBlock): void {
    const user = (tb.flags & HF_CPL_MASK) === 3;
    if (tierUp(this.cpu, tb, this.runtimes[user ? 1 : 0], this.noChain)) this.tbs.stats.tierUps++;
  }

  /** cpu_loop_exec_tb with chaining: follow direct links without leaving this loop. */
  private execChain(first: TranslationBlock): number {
    const cpu = this.cpu;
    cpu.ioExact = false;
    try {
      return this.chain(first);
    } finally {
      cpu.ioExact = true;
    }
  }

  private chain(first: TranslationBlock): number {
    const cpu = this.cpu;
    // (CPUs change turns between runs of the loop, never inside a chain)
    const cpuBit = 1 << (cpu.smpIndex & 31);
    let tb = first;
    for (;;) {
      let code: number;
      const rg = tb.region;
      if (rg !== null) {
        this.currentTb = tb;
        this.currentRegion = rg;
        tb.execCount++;
        tb.cpus |= cpuBit;
        rg.cpus |= cpuBit;
        try {
          code = rg.fn(tb.regionIndex);
        } finally {
          this.currentRegion = null;
        }
        tb = rg.members[rg.last]!;
      } else {
        this.currentTb = tb;
        const n = ++tb.execCount;
        tb.cpus |= cpuBit;
        code = tb.fn();
        if (n === TIER_UP && tb.tier === 0 && tb.valid) this.tierUp(tb);
        else if (n === REGION_HOT && tb.valid && tb.cflags === 0) this.formRegion(tb);
      }
      if (cpu.icount >= cpu.deadline || cpu.stopAfterInsn) {
        this.lastTb = tb;
        return cpu.stopAfterInsn && code !== EXIT_DEBUG ? EXIT_STOP : code;
      }
      let next: TranslationBlock;
      let lookedUp = true;
      if (code <= 1) {
        let gen: number;
        if (code === 0) {
          next = tb.jmp0!;
          gen = tb.gen0;
        } else {
          next = tb.jmp1!;
          gen = tb.gen1;
        }
        if (next === null || !next.valid || (gen !== -1 && gen !== this.mapGen)) {
          next = this.tbFind(0);
          // A link within the page holds as long as the source TB runs (as QEMU's); one to
          // another page holds until the next TLB flush may have moved that page (QEMU
          // looks such jumps up every time, through the jump cache).
          if (tb.valid) this.tbs.tbAddJump(tb, code, next, (next.pc & ~0xfff) === (tb.pc & ~0xfff) ? -1 : this.mapGen);
        } else lookedUp = false;
      } else if (code === EXIT_INDIRECT || (code === EXIT_LOOKUP && this.mayChainOn())) {
        next = this.tbFind(0);
      } else {
        this.lastTb = tb;
        return code;
      }
      if (next.ninsns > cpu.deadline - cpu.icount) {
        this.lastTb = tb;
        return code;
      }
      if (lookedUp && this.onTbEnter !== null) this.onTbEnter(next);
      tb = next;
    }
  }

  /**
   * After a TB that asked for a lookup (I/O, a completed REP string, INVLPG, IRET...), the
   * chain may go on when the loop has nothing to do before the next TB: no interrupt or
   * stop request pending, no interrupt shadow, not halted, no single-step or RF.
   */
  private mayChainOn(): boolean {
    const cpu = this.cpu;
    return cpu.interruptRequest === 0 && !cpu.halted && !cpu.inhibitIrq && (cpu.hflags & HF_TF) === 0 &&
      (cpu.eflags & FLAG_RF) === 0 && cpu.dbTrapPending === 0 && !this.exitRequest && !this.timersChanged;
  }

  /** Drop all translations (breakpoint changes need only invalidateLinear). */
  tbFlush(reason: string): void {
    this.tbs.flush(reason);
  }

  addBreakpoint(lin: number): void {
    lin >>>= 0;
    if (this.breakpoints.has(lin)) return;
    this.breakpoints.add(lin);
    this.tbs.invalidateLinear(lin, 'breakpoint inserted');
  }

  removeBreakpoint(lin: number): void {
    lin >>>= 0;
    if (!this.breakpoints.delete(lin)) return;
    this.tbs.invalidateLinear(lin, 'breakpoint removed');
  }
}

/** The `cpu` field of an event: only with several CPUs. */
function cpuOf(cpu: Cpu): { cpu?: number } {
  return cpu.smpIndex < 0 ? {} : { cpu: cpu.smpIndex };
}

/** Linear address -> DR6 bits of the enabled instruction breakpoints in DR0-DR3. */
export function guestExecBreakpoints(cpu: Cpu): Map<number, number> {
  const out = new Map<number, number>();
  const d7 = cpu.dr[7]!;
  for (let i = 0; i < 4; i++) {
    if (!((d7 >> (2 * i)) & 3) || ((d7 >>> (16 + 4 * i)) & 3) !== 0) continue;
    const a = cpu.dr[i]! >>> 0;
    out.set(a, (out.get(a) ?? 0) | (1 << i));
  }
  return out;
}
