// Machine snapshots (QEMU's savevm/loadvm, in memory): the complete guest-visible state
// of a PcMachine at a boundary between slices of the CPU loop. The CPU, the board's
// flags, every device and the virtual clock are plain records; guest RAM and video
// memory are page images shared with the snapshots before them (page-store.ts), so a
// snapshot costs the pages written since the last one.
//
// Translated code is not state: after a load, the TBs built from pages whose bytes the
// load changed are dropped, and the rest stay.
import type { ImageState, TrackedImage } from '../block/block-image.js';
import { driveName } from '../machine/pc-machine.js';
import { createHash } from 'node:crypto';
import type { PcMachine, BoardState } from '../machine/pc-machine.js';
import { loadCpuState, saveCpuState, type CpuState } from '../cpu/cpu-state.js';
import type { ClockState } from '../time/virtual-clock.js';
import { PageStore, type MemoryImage } from './page-store.js';
import type { PciBusState } from '../devices/pci/pci-bus.js';
import { PAGE_SHIFT } from '../memory/physical-memory.js';
import { UserError } from '../user-error.js';
import type { SmpState } from '../machine/smp.js';

/** Every device's record, by name. */
export interface DeviceStates {
  pic: ReturnType<PcMachine['pic']['saveState']>;
  lapic: ReturnType<PcMachine['lapic']['saveState']>;
  vapic: ReturnType<PcMachine['vapic']['saveState']>;
  ioapic: ReturnType<PcMachine['ioapic']['saveState']>;
  hpet: ReturnType<PcMachine['hpet']['saveState']>;
  pit: ReturnType<PcMachine['pit']['saveState']>;
  com1: ReturnType<PcMachine['com1']['saveState']>;
  debugcons: ReturnType<PcMachine['debugcons'][number]['saveState']>[];
  debugExits: ReturnType<PcMachine['debugExits'][number]['saveState']>[];
  vga: ReturnType<PcMachine['vga']['saveState']>;
  pam: ReturnType<PcMachine['pam']['saveState']>;
  pci: PciBusState;
  rtc: ReturnType<PcMachine['rtc']['saveState']>;
  fwCfg: ReturnType<PcMachine['fwCfg']['saveState']>;
  kbc: ReturnType<PcMachine['kbc']['saveState']>;
  port92: ReturnType<PcMachine['port92']['saveState']>;
  post: ReturnType<PcMachine['post']['saveState']>;
  testdev: ReturnType<NonNullable<PcMachine['testdev']>['saveState']> | null;
  isaDma?: ReturnType<PcMachine['isaDma']['saveState']>;
  fdc?: ReturnType<PcMachine['fdc']['saveState']> | null;
  hotplug?: ReturnType<PcMachine['hotplug']['saveState']>;
  /** The APs' local APICs (APIC IDs 1..N-1), with several CPUs. */
  apLapics?: ReturnType<PcMachine['lapic']['saveState']>[];
}

/** Everything but memory: plain JSON-able values. */
export interface MachineStateRecord {
  cpu: CpuState;
  /** The CPU loop's exception-storm count (it charges instructions: decisions.md 56). */
  loop: { stormIcount: number; stormDeliveries: number };
  board: BoardState;
  clock: ClockState;
  devices: DeviceStates;
  /**
   * With several CPUs: the others' saved states and the round robin's position (`cpu` is
   * the state of the CPU the engine held, `smp.current`).
   */
  smp?: SmpState;
}

export interface MachineSnapshot {
  /** The machine configuration it belongs to (machineFingerprint). */
  readonly fingerprint: string;
  readonly icount: number;
  /** Virtual time, ns. */
  readonly timeNs: number;
  readonly state: MachineStateRecord;
  readonly ram: MemoryImage;
  readonly vram: MemoryImage;
  /**
   * The drives' contents: per drive, the sectors changed in this run as they were
   * (src/block/block-image.ts). Empty maps for a snapshot read from a file.
   */
  readonly disks: ImageState[];
  /**
   * The medium in each drive (the machine's `drives`, in order) when it was taken: a
   * snapshot restores disk contents onto the media it saw, so it cannot be loaded after
   * the monitor changed one (null entries: an empty drive). Absent: read from a file.
   */
  readonly media?: (TrackedImage | null)[];
}

/** A snapshot that does not fit this machine: the user's mistake, with the reason. */
export class SnapshotMismatch extends UserError {}

/**
 * What a snapshot must agree on with the machine it is loaded into: RAM size, firmware
 * images, CPU model, the devices present and the instruction rate.
 */
export function machineFingerprint(m: PcMachine): string {
  const c = m.config;
  const digest = (b: Uint8Array | undefined): string | null => (b ? createHash('sha256').update(b).digest('hex').slice(0, 16) : null);
  return JSON.stringify({
    ramMiB: m.ramSize >>> 20,
    bios: digest(c.bios),
    vgaBios: digest(c.vgaBios),
    kvmvapicRom: digest(c.kvmvapicRom),
    cpu: m.cpu.model.name,
    serial: c.serialDevice !== false,
    vga: c.vga !== false,
    pcTestdev: c.pcTestdev === true,
    pciTestdev: c.pciTestdev === true,
    debugcons: m.debugcons.map((d) => d.port),
    debugExits: m.debugExits.map((d) => [d.iobase, d.iosize]),
    pci: m.pci.devices().map((d) => d.bdf),
    // Only with drives, so that snapshot files of drive-less machines keep their fingerprint.
    ...(c.drives?.length ? { drives: c.drives.map((d) => [d.bus, d.unit, d.media, d.image?.sectors ?? 0]) } : {}),
    icount: c.icountAuto ? 'auto' : m.clock.nsPerInsn,
    // Only with several CPUs, so that one-CPU snapshot files keep their fingerprint.
    ...(m.cpuCount > 1 ? { cpus: m.cpuCount } : {}),
  });
}

/** Explain how two fingerprints differ, in the user's terms. */
export function fingerprintDifference(have: string, want: string): string {
  let a: Record<string, unknown>;
  let b: Record<string, unknown>;
  try {
    a = JSON.parse(have) as Record<string, unknown>;
    b = JSON.parse(want) as Record<string, unknown>;
  } catch {
    return 'the machine configuration differs';
  }
  const diffs: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) diffs.push(`${k} ${JSON.stringify(b[k])} (this machine: ${JSON.stringify(a[k])})`);
  }
  return diffs.length ? `the snapshot is of another machine configuration: ${diffs.join(', ')}` : 'the machine configuration differs';
}

function saveDevices(m: PcMachine): DeviceStates {
  return {
    pic: m.pic.saveState(),
    lapic: m.lapic.saveState(),
    vapic: m.vapic.saveState(),
    ioapic: m.ioapic.saveState(),
    hpet: m.hpet.saveState(),
    pit: m.pit.saveState(),
    com1: m.com1.saveState(),
    debugcons: m.debugcons.map((d) => d.saveState()),
    debugExits: m.debugExits.map((d) => d.saveState()),
    vga: m.vga.saveState(),
    pam: m.pam.saveState(),
    pci: m.pci.saveState(),
    rtc: m.rtc.saveState(),
    fwCfg: m.fwCfg.saveState(),
    kbc: m.kbc.saveState(),
    port92: m.port92.saveState(),
    post: m.post.saveState(),
    testdev: m.testdev ? m.testdev.saveState() : null,
    isaDma: m.isaDma.saveState(),
    fdc: m.fdc.saveState(),
    hotplug: m.hotplug.saveState(),
    ...(m.lapics.length > 1 ? { apLapics: m.lapics.slice(1).map((a) => a.saveState()) } : {}),
  };
}

/**
 * Devices in an order that leaves every one as saved: the memory map first (PCI, PAM),
 * then the interrupt sources, whose loading may drive their lines, and last the
 * controllers those lines reach, which load their input levels as saved.
 */
function loadDevices(m: PcMachine, d: DeviceStates): void {
  m.pci.loadState(d.pci);
  m.pam.loadState(d.pam);
  m.vapic.loadState(d.vapic);
  m.vga.loadState(d.vga);
  m.fwCfg.loadState(d.fwCfg);
  m.port92.loadState(d.port92);
  m.post.loadState(d.post);
  d.debugcons.forEach((s, i) => m.debugcons[i]!.loadState(s));
  d.debugExits.forEach((s, i) => m.debugExits[i]!.loadState(s));
  if (m.testdev && d.testdev) m.testdev.loadState(d.testdev);
  if (d.isaDma) m.isaDma.loadState(d.isaDma);
  if (d.fdc) m.fdc.loadState(d.fdc);
  if (d.hotplug) m.hotplug.loadState(d.hotplug);
  m.pit.loadState(d.pit);
  m.rtc.loadState(d.rtc);
  m.com1.loadState(d.com1);
  m.kbc.loadState(d.kbc);
  m.hpet.loadState(d.hpet);
  m.ioapic.loadState(d.ioapic);
  m.pic.loadState(d.pic);
  m.lapic.loadState(d.lapic);
  d.apLapics?.forEach((s, i) => m.lapics[i + 1]!.loadState(s));
}

/** The non-memory state of a machine now (also the input of stateHash). */
export function saveMachineState(m: PcMachine): MachineStateRecord {
  return {
    cpu: saveCpuState(m.cpu), loop: m.exec.saveLoopState(), board: m.saveBoardState(), clock: m.clock.saveState(), devices: saveDevices(m),
    ...(m.smp !== null ? { smp: m.smp.saveState() } : {}),
  };
}

/** Takes and loads snapshots of one machine; owns the page stores of its memories. */
export class SnapshotEngine {
  readonly ram: PageStore;
  readonly vram: PageStore;
  readonly fingerprint: string;

  constructor(readonly machine: PcMachine) {
    this.ram = new PageStore({ bytes: machine.phys.u8, dirty: machine.phys.dirty });
    this.vram = new PageStore({ bytes: machine.vga.vram, dirty: machine.vga.vramDirty });
    this.fingerprint = machineFingerprint(machine);
  }

  /** Bytes of memory pages held by the snapshots alive. */
  get pageBytes(): number {
    return this.ram.bytes + this.vram.bytes;
  }

  /** A snapshot of the machine now; release() it when it is no longer needed. */
  take(): MachineSnapshot {
    const m = this.machine;
    const state = saveMachineState(m);
    const ram = this.ram.capture();
    const vram = this.vram.capture();
    this.ram.retain(ram);
    this.vram.retain(vram);
    // From now on every write is to a clean page: hold the TLB's write entries back.
    m.cpu.mmu.holdBackWriteEntries();
    const media = m.drives.map((d) => d.image);
    const disks = media.map((img) => img?.saveState() ?? new Map<number, Uint8Array>());
    return { fingerprint: this.fingerprint, icount: m.cpu.icount, timeNs: m.clock.now(), state, ram, vram, disks, media };
  }

  /** Another holder of `s` (each holder releases it once). */
  retain(s: MachineSnapshot): void {
    this.ram.retain(s.ram);
    this.vram.retain(s.vram);
  }

  release(s: MachineSnapshot): void {
    this.ram.release(s.ram);
    this.vram.release(s.vram);
  }

  /** Put the machine in the state `s` holds. Throws SnapshotMismatch for another machine's. */
  restore(s: MachineSnapshot): void {
    if (s.fingerprint !== this.fingerprint) throw new SnapshotMismatch(fingerprintDifference(this.fingerprint, s.fingerprint));
    if (s.ram.store !== this.ram) throw new Error('snapshot of another machine object');
    const m = this.machine;
    const st = s.state;
    const media = s.media ?? m.drives.map((d) => d.image);
    m.drives.forEach((d, i) => {
      if (media[i] !== d.image) throw new SnapshotMismatch(`the medium in ${driveName(d)} was changed after this snapshot (eject/change), so it cannot be loaded`);
    });
    m.events.muted = true;
    try {
      m.clock.loadState(st.clock);
      m.loadBoardState(st.board);
      loadDevices(m, st.devices);
      m.drives.forEach((d, i) => d.image?.loadState(s.disks[i] ?? new Map()));
      const changed = this.ram.restore(s.ram);
      this.vram.restore(s.vram);
      this.dropStaleCode(changed);
      loadCpuState(m.cpu, st.cpu);
      if (m.smp !== null && st.smp) m.smp.loadState(st.smp);
      m.exec.loadLoopState(st.loop);
      m.clock.checkTimers(st.clock);
      m.exec.exitRequest = false;
      m.exec.timersChanged = false;
      m.exec.skipBreakpointAt = -1;
    } finally {
      m.events.muted = false;
    }
  }

  /** Drop the TBs on physical pages whose backing bytes a load changed. */
  private dropStaleCode(changed: number[]): void {
    if (changed.length === 0) return;
    const m = this.machine;
    const set = new Uint8Array(this.ram.pageCount);
    for (const p of changed) set[p] = 1;
    const code = m.cpu.mmu.codePages;
    for (let p = 0; p < code.length; p++) {
      if (code[p] === 0) continue;
      const off = m.phys.readOffset(p);
      if (off >= 0 && set[off >>> PAGE_SHIFT]) m.exec.tbs.tbInvalidatePhysRange(p << PAGE_SHIFT >>> 0, 1 << PAGE_SHIFT, 'snapshot loaded');
    }
  }
}

const ENGINES = new WeakMap<PcMachine, SnapshotEngine>();

/** The machine's snapshot engine (one per machine: it owns the dirty-page baseline). */
export function snapshotEngine(m: PcMachine): SnapshotEngine {
  let e = ENGINES.get(m);
  if (!e) ENGINES.set(m, (e = new SnapshotEngine(m)));
  return e;
}

/**
 * A digest of the machine's state: every register, device and timer, and (with `memory`)
 * guest RAM and video memory. Two runs in the same state have the same hash.
 */
export function stateHash(m: PcMachine, opts: { memory?: boolean } = {}): string {
  const h = createHash('sha256');
  const st = saveMachineState(m);
  // The TLB is a cache of the page tables: compare what it maps, not its fill order.
  const { tlb: _tlb, ...cpu } = st.cpu;
  const smp = st.smp ? { ...st.smp, cpus: st.smp.cpus.map((c) => ({ ...c, saved: c.saved === null ? null : { ...c.saved, tlb: null } })) } : undefined;
  h.update(JSON.stringify({ ...st, cpu, ...(smp ? { smp } : {}) }));
  if (opts.memory) {
    h.update(m.phys.u8);
    h.update(m.vga.vram);
  }
  return h.digest('hex').slice(0, 32);
}
