// The one door into the machine for every front end (the terminal UI, the dashboard, the
// gdb server, the monitor): queries that return plain, serialisable records (numbers,
// strings, arrays, plain objects: nothing that holds the machine, a live TB or a CPU
// flag) and commands. DebugController implements it on a machine in this thread; the
// same records can cross a worker boundary as messages.
import type { RegisterSnapshot, RegisterWrite } from './registers.js';
import type { MachineEvent, MachineEventKind } from '../events/machine-events.js';
import type { TextScreen, VgaInfo } from '../devices/vga.js';
import type { DualPicInfo } from '../devices/pic8259.js';

// The record types of the events and devices, for front ends (they import src/debug only).
export type { MachineEvent, MachineEventKind } from '../events/machine-events.js';
export type { TextScreen, VgaInfo } from '../devices/vga.js';
export type { DualPicInfo } from '../devices/pic8259.js';
export type { RegisterSnapshot, RegisterWrite, FpuState, SegmentState } from './registers.js';

export type RunState = 'stopped' | 'running' | 'exited';

export type StopReason =
  | { kind: 'initial' }
  | { kind: 'breakpoint'; pc: number; hw: boolean; id: number }
  | { kind: 'watchpoint'; watch: WatchKind; addr: number; id: number; oldValue?: number[] }
  /** `idle`: the CPU is halted and nothing woke it, so the step did not run an instruction. */
  | { kind: 'step'; idle?: boolean }
  | { kind: 'interrupt'; by: string }
  /** The run is over: isa-debug-exit (code), an ACPI power-off, or a reset under -no-reboot. */
  | { kind: 'exited'; code: number; why?: 'power-off' | 'reset'; cause?: string }
  | { kind: 'halted' }
  | { kind: 'triple-fault' }
  /** -no-shutdown: the guest powered off, or reset under -no-reboot; the machine is paused for good. */
  | { kind: 'shutdown'; cause: string }
  | { kind: 'budget' }
  /** The guest waits for input, and the front end says no more will come (headless, stdin at its end). */
  | { kind: 'idle' }
  | { kind: 'killed' }
  /** Reverse execution reached the oldest point history holds (gdb's replaylog:begin). */
  | { kind: 'history-begin' };

export type WatchKind = 'watch' | 'rwatch' | 'awatch';

/** Reverse execution's history, as `info history` shows it. */
export interface HistoryRecord {
  /** The oldest instruction count one can go back to. */
  begin: number;
  /** Where the present is, while the machine is in the past; null at the present. */
  present: number | null;
  checkpoints: number;
  checkpointsTaken: number;
  /** Time spent taking checkpoints, ms. */
  checkpointMs: number;
  /** Bytes the checkpoints hold, and the budget (--rr-budget). */
  bytes: number;
  budget: number;
  /** Inputs logged since the oldest checkpoint. */
  events: number;
}

/** A named snapshot (savevm), as `info snapshots` lists it. */
export interface SnapshotRecord {
  name: string;
  /** Wall-clock time it was taken (ms since the epoch). */
  date: number;
  icount: number;
  /** Virtual time, ns. */
  timeNs: number;
  /** What it holds: its non-zero memory pages and its records, bytes. */
  size: number;
  /** Of another machine configuration: listed and kept, not loadable here. */
  foreign: boolean;
}

/** A point in the event stream: events pushed so far, per ring. */
export type EventCursor = Record<string, number>;

export interface Breakpoint {
  id: number;
  addr: number;
  hw: boolean;
  /** Who set it: 'gdb', 'ui', ... (they all share one list). */
  owner: string;
}

export interface Watchpoint {
  id: number;
  addr: number;
  len: number;
  kind: WatchKind;
}

/** One CPU of the board (-smp): gdb's threads, the UI's CPU selector. */
export interface CpuRecord {
  /** 0-based; gdb's thread id is index + 1. */
  index: number;
  apicId: number;
  /** 'wait-for-sipi': an AP not started yet (after RESET or INIT). */
  state: 'running' | 'halted' | 'wait-for-sipi';
  /** Instructions this CPU retired. */
  icount: number;
  pc: number;
}

export interface TargetStatus {
  state: RunState;
  lastStop: StopReason;
  /** Linear address of the next instruction (CS base + EIP). */
  pc: number;
  icount: number;
  /** Guest speed of the last running period, instructions per second / 1e6. */
  mips: number;
  halted: boolean;
  /** Operand size of the code at the PC. */
  codeBits: 16 | 32;
  /** The last POST code written to port 0x80, or null. */
  postCode: number | null;
  a20: boolean;
}

/** One TB, as lists show it. */
export interface TbSummary {
  id: number;
  /** Linear address of the first instruction. */
  pc: number;
  phys: number;
  size: number;
  ninsns: number;
  execCount: number;
  translatedAt: number;
  /** A one-instruction TB (single step, budget edge, interrupt shadow). */
  single: boolean;
  linksIn: number;
  linksOut: number;
  inRegion: boolean;
  valid: boolean;
}

/** One TB in full: guest bytes, generated code, links and history. */
export interface TbDetailRecord extends TbSummary {
  /** Made from the persistent translation cache, not translated in this run. */
  fromStore: boolean;
  csBase: number;
  flags: number;
  cflags: number;
  phys2: number;
  codeBits: 16 | 32;
  bytes: number[];
  source: string;
  links: { out: ({ id: number; pc: number } | null)[]; in: { id: number; pc: number }[] };
  region: { index: number; members: number } | null;
  /**
   * With several CPUs: the CPUs that entered this TB from the CPU loop, and those that
   * entered its region (whose members run inside it); empty with one CPU.
   */
  cpus: number[];
  regionCpus: number[];
  invalidatedAt: number;
  invalidationReason: string;
  /** Invalidations of TBs at the same address (oldest first, the last 20). */
  history: InvalidationRecord[];
}

export interface InvalidationRecord {
  id: number;
  pc: number;
  phys: number;
  icount: number;
  reason: string;
  execCount: number;
}

export interface TbCacheStats {
  live: number;
  limit: number;
  /** Bytes the live TBs hold (generated code and guest bytes), and the bound on them. */
  liveBytes: number;
  byteLimit: number;
  translations: number;
  bytesTranslated: number;
  insnsTranslated: number;
  lookups: number;
  jmpCacheHits: number;
  hashHits: number;
  chainsMade: number;
  invalidations: number;
  flushes: number;
  regionsBuilt: number;
  regionsDissolved: number;
  /** First-tier TBs compiled as a whole because they kept running; live TBs still in the first tier. */
  tierUps: number;
  firstTier: number;
  /** TBs taken from the persistent translation cache (made in an earlier run). */
  storeHits: number;
  /** The persistent translation cache (--tb-cache), or null when it is off. */
  store: { file: string; loaded: number; rejected: string | null; added: number } | null;
  /** TBs by how often they ran, dropped ones too (0, 1, 2-9, 10-99, ...). */
  runHistogram: number[];
  /** Links between live TBs, TBs in regions, guest bytes cached, executions. */
  linksLive: number;
  inRegions: number;
  bytesCached: number;
  executions: number;
}

export interface PageMappingRecord {
  linear: number;
  physical: number;
  size: number;
  writable: boolean;
  user: boolean;
  global: boolean;
}

export interface TlbRecord {
  paging: boolean;
  pae: boolean;
  pse: boolean;
  cr3: number;
  a20: boolean;
  mappings: PageMappingRecord[];
  validEntries: number;
  fills: number;
  flushes: number;
}

export interface IrqRecord {
  pic: DualPicInfo;
  cpuIf: boolean;
  halted: boolean;
}

/** An IDE command as the debugger shows it: channel 0 (IRQ 14) or 1 (IRQ 15), drive, when, what. */
export interface IdeCommandView {
  channel: number;
  unit: number;
  /** Instruction count at which the guest gave it (-1: not known, a snapshot from before this was kept). */
  icount: number;
  /** "READ DMA lba 100 count 8, status 0x50". */
  text: string;
}

/** Devices whose state `deviceInfo` returns (each a plain record). */
export const DEVICE_NAMES = ['pic', 'pit', 'serial', 'rtc', 'lapic', 'ioapic', 'pci', 'fw_cfg', 'pam', 'vga', 'hpet', 'kbc', 'post', 'block'] as const;
export type DeviceName = (typeof DEVICE_NAMES)[number];

export type ControllerEvent =
  | { type: 'stop'; reason: StopReason }
  | { type: 'resume'; by: string }
  | { type: 'breakpoints' }
  /** A run slice ended (about every 10 ms while the guest runs): output can leave now. */
  | { type: 'slice' };

export type ControllerListener = (e: ControllerEvent) => void;

export interface DebugTarget {
  /** Stops, resumes, breakpoint changes and slice ends; returns the unsubscribe function. */
  subscribe(l: ControllerListener): () => void;
  // ---- state
  status(): TargetStatus;
  /** The selected CPU's registers (see selectCpu). */
  registers(): RegisterSnapshot;
  /** Every CPU of the board (one with one CPU). */
  cpus(): CpuRecord[];
  /**
   * The CPU that registers, register writes, linear memory and steps apply to (0-based).
   * A stop selects the CPU that stopped.
   */
  selectedCpu(): number;
  /** Select a CPU while the guest is stopped; false for no such CPU or while it runs. */
  selectCpu(index: number): boolean;
  /** Linear (default) or physical memory; null when any byte is unmapped. */
  readMemory(addr: number, len: number, physical?: boolean): Uint8Array | null;
  /** The physical address of a linear one through the page tables (no side effects), or null. */
  translate(linear: number): number | null;
  breakpoints(): readonly Breakpoint[];
  watchpoints(): readonly Watchpoint[];
  symbolAt(addr: number): { name: string; offset: number } | null;
  /** Data symbols (ELF objects) first: for watchpoints and memory. */
  dataSymbolAt(addr: number): { name: string; offset: number } | null;
  lookupSymbol(name: string): number | null;
  // ---- the translation cache
  tbStats(): TbCacheStats;
  /** Live TBs (all of them, or those whose code covers `linear`). */
  tbs(linear?: number): TbSummary[];
  tbDetail(id: number): TbDetailRecord | null;
  /** The TB that last ran, if still live. */
  lastTb(): TbSummary | null;
  invalidations(): InvalidationRecord[];
  // ---- events, interrupts, devices
  /** Events of the given kinds, oldest first (bounded rings). */
  events(kinds: readonly MachineEventKind[], max?: number): MachineEvent[];
  /** How many events of the kind happened since the start (also those the rings dropped). */
  eventCount(kind: MachineEventKind): number;
  /** Events pushed so far into the ring that holds `kind` (changes whenever it gets one). */
  eventSerial(kind: MachineEventKind): number;
  /**
   * Events of `kinds` that came after `since` (a cursor from an earlier call; null: from
   * now on), oldest first, as far as the rings still hold them, and the cursor for the
   * next call.
   */
  eventsSince(kinds: readonly MachineEventKind[], since: EventCursor | null): { events: MachineEvent[]; cursor: EventCursor };
  irq(): IrqRecord;
  /** The last commands given to each IDE channel (16 per channel), oldest first. */
  ideCommands(): IdeCommandView[];
  tlb(max?: number): TlbRecord;
  deviceInfo(name: DeviceName): unknown;
  vgaText(): TextScreen;
  // ---- commands
  resume(by?: string): void;
  /** Continue and wait for the stop. */
  continue(by?: string): Promise<StopReason>;
  /** Wait for the current run (if any) to stop. */
  waitForStop(): Promise<StopReason>;
  /** Input arrived for a guest that may be waiting for it. */
  kick(): void;
  pause(by?: string): Promise<StopReason>;
  stepInstruction(n?: number, by?: string): Promise<StopReason>;
  stepBlock(n?: number, by?: string): Promise<StopReason>;
  addBreakpoint(addr: number, opts?: { hw?: boolean; owner?: string; id?: number }): Breakpoint;
  removeBreakpoint(addr: number, hw?: boolean): boolean;
  removeBreakpointById(id: number): boolean;
  addWatchpoint(addr: number, len: number, kind: WatchKind, id?: number): Watchpoint;
  removeWatchpoint(addr: number, len: number, kind: WatchKind): boolean;
  setRegister(name: string, value: number): Promise<boolean>;
  /** A register wider than 32 bits, as little-endian bytes (the x87 registers). */
  setRegisterBytes(name: string, bytes: Uint8Array): Promise<boolean>;
  /** Several registers as one change, in order: all of them, or (false) none. */
  setRegisters(writes: readonly RegisterWrite[]): Promise<boolean>;
  writeMemory(addr: number, data: Uint8Array, physical?: boolean): Promise<boolean>;
  serialInput(bytes: Uint8Array | readonly number[]): void;
  /** Bytes from the PS/2 keyboard, as the guest reads them (set 1 scan codes, BIOSes' translation). */
  keyboardInput(bytes: Uint8Array | readonly number[]): void;
  tbFlush(reason: string): number;
  reset(by?: string): Promise<void>;
  /** Wake a guest suspended to RAM (ACPI S3); false when it is not suspended. */
  wakeup(): boolean;
  /**
   * The monitor's `eject [-f] DEV` (QEMU's device names: ide1-cd0, floppy0). Rejects with
   * a UserError carrying QEMU's message (a locked tray, a disk that is not removable).
   */
  ejectMedium(device: string, force: boolean, by?: string): Promise<void>;
  /** `change DEV FILE [FORMAT]`: the image FILE in the drive (the old medium closed). */
  changeMedium(device: string, file: string, format: string | undefined, by?: string): Promise<void>;
  // ---- time travel
  /** The named snapshots (savevm), oldest first. */
  snapshots(): SnapshotRecord[];
  /** Where they are kept across runs (--snapshot-file), or null. */
  snapshotFile(): string | null;
  /**
   * savevm: a snapshot of the machine now as `name` (replacing one of that name); a
   * running guest is stopped for the moment and runs on. Rejects with the reason when
   * the snapshot file cannot be written.
   */
  saveSnapshot(name: string, by?: string): Promise<SnapshotRecord>;
  /**
   * loadvm: the machine takes the state of snapshot `name`; rejects with the reason (no
   * such snapshot, another machine configuration) and the machine stays as it was.
   */
  loadSnapshot(name: string, by?: string): Promise<SnapshotRecord>;
  /** delvm; false when there is no such snapshot. */
  deleteSnapshot(name: string): boolean;
  /** Whether the machine keeps history to go back in (reverse execution). */
  canReverse(): boolean;
  /**
   * Back one instruction ('step') or to the last breakpoint or watchpoint hit
   * ('continue'); the stop is reported like any other. Null without history.
   */
  reverse(what: 'step' | 'continue', by?: string): Promise<StopReason | null>;
  /**
   * To where the instruction count first reaches `icount`: back in history, through the
   * recorded future, or on into a new one. The stop says where (history-begin when
   * `icount` is before it). Null without history.
   */
  goto(icount: number, by?: string): Promise<StopReason | null>;
  /** Null without history. */
  history(): HistoryRecord | null;
  kill(by?: string): Promise<void>;
}
