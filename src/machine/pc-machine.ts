// The PC board, wired top to bottom like BMBT's qemu_init: memory map, port space,
// interrupt controller, timers, serial, debug ports, CPU, then reset.
import { PhysicalMemory } from '../memory/physical-memory.js';
import { IoBus } from '../devices/io-bus.js';
import { Cpu, IRQ_HARD, IRQ_INIT, IRQ_NMI, type WatchHit } from '../cpu/cpu.js';
import { CPU_MODELS, defaultCpuModel, findCpuModel } from '../cpu/cpu-models.js';
import { firmwareResume } from '../boot/firmware-resume.js';
import { CpuExec, type RunOptions } from '../cpu/cpu-exec.js';
import { FLAG_IF } from '../cpu/lazy-flags.js';
import { EventLog } from '../events/machine-events.js';
import { VirtualClock } from '../time/virtual-clock.js';
import { DualPic } from '../devices/pic8259.js';
import { Pit8254 } from '../devices/pit8254.js';
import { Uart16550 } from '../devices/uart16550.js';
import { DebugCon } from '../devices/debugcon.js';
import { IsaDebugExit } from '../devices/isa-debug-exit.js';
import { LocalApic, connectLocalApic } from '../devices/local-apic.js';
import { IoApic, isaIrqLine } from '../devices/io-apic.js';
import { Hpet } from '../devices/hpet.js';
import type { IrqLine } from '../devices/device.js';
import { Vga } from '../devices/vga.js';
import { PamController, PAM_SEGMENT_COUNT, type LegacyRomWindow } from '../devices/pci/pam.js';
import { PciBus } from '../devices/pci/pci-bus.js';
import { I440fx } from '../devices/pci/i440fx.js';
import { Piix3Isa } from '../devices/pci/piix3-isa.js';
import { Piix3Ide } from '../devices/pci/piix3-ide.js';
import { Piix4Pm } from '../devices/pci/piix4-pm.js';
import { StdVgaPci } from '../devices/pci/std-vga.js';
import { Mc146818Rtc } from '../devices/mc146818-rtc.js';
import { FwCfg, FW_CFG_IRQ0_OVERRIDE, FW_CFG_MAX_CPUS, FW_CFG_NB_CPUS, FW_CFG_RAM_SIZE, E820_RAM } from '../devices/fw-cfg.js';
import { I8042 } from '../devices/i8042.js';
import { Port92 } from '../devices/port92.js';
import { PostPort } from '../devices/post-port.js';
import { PcTestdev, pcTestdevPorts } from '../devices/pc-testdev.js';
import { PciTestdev } from '../devices/pci/pci-testdev.js';
import { KvmVapic } from '../devices/kvmvapic.js';
import { SEG_CS } from '../cpu/instr.js';
import { UserError } from '../user-error.js';
import { buildAcpiTables, type AcpiBuild } from '../acpi/tables.js';
import { serveAcpiTables } from '../acpi/fw-cfg-acpi.js';
import { buildSmbiosTables, serveSmbiosTables, type SmbiosBuild } from '../smbios/tables.js';
import { cpuidLeaf } from '../cpu/cpuid-msr.js';
import { IcountAuto } from './icount-auto.js';
import { MAX_CPUS, Smp } from './smp.js';
import { OverlayBackend, SECTOR_SIZE, type TrackedImage } from '../block/block-image.js';
import { guessGeometry } from '../block/geometry.js';
import type { IdeDriveConfig } from '../devices/ide/ide-channel.js';
import { IsaDma } from '../devices/isa-dma.js';
import { TbStore } from '../tb/tb-store.js';
import { translatorVersion } from '../tb/translator-version.js';
import { AcpiHotplug } from '../devices/acpi-hotplug.js';
import { EMPTY_FLOPPY_DRIVE, Fdc, floppyFormat, type FloppyDriveConfig } from '../devices/fdc.js';

/** One drive, for `info block`. */
export interface BlockDeviceInfo {
  /** QEMU's name: ide0-hd0, ide1-cd0, floppy0. */
  name: string;
  /** The image ('' without a medium). */
  file: string;
  /** A medium is in the drive (QEMU: "[not inserted]" when not). */
  inserted: boolean;
  /** CD-ROMs and floppies: the tray (a floppy drive's is always closed) and its lock. */
  removable: { locked: boolean; trayOpen: boolean } | null;
  format: 'raw';
  media: 'disk' | 'cdrom';
  readOnly: boolean;
  sectors: number;
  attached: string;
  /** -snapshot: sectors held in the overlay (null without one). */
  snapshotOverlaySectors: number | null;
  stats: { readSectors: number; writtenSectors: number; flushes: number };
  /** Writes not yet flushed (fsync) to the file. */
  dirty: boolean;
  geometry: { cylinders: number; heads: number; sectors: number; translation: string } | null;
  /** The last commands the drive was given (IDE). */
  recent: { command: number; lba: number; count: number; status: number; packet?: number }[];
}

/** A drive of the board (QEMU's -hda..-hdd, -fda/-fdb, -drive). */
export interface DriveConfig {
  bus: 'ide' | 'floppy';
  /** IDE unit: 0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave; floppy: 0 A:, 1 B:. */
  unit: number;
  /** A CD-ROM only on IDE (an ATAPI drive). */
  media: 'disk' | 'cdrom';
  /** The medium; null: an empty drive (a CD-ROM or a floppy drive). */
  image: TrackedImage | null;
  /** -snapshot: the guest's writes stay in memory (a medium put in by `change` too). */
  snapshot?: boolean;
}

/** QEMU's name of a drive: ide0-hd0, ide1-cd0, floppy0. */
export function driveName(d: { bus: 'ide' | 'floppy'; unit: number; media: 'disk' | 'cdrom' }): string {
  return d.bus === 'floppy' ? `floppy${d.unit}` : `ide${d.unit >> 1}-${d.media === 'cdrom' ? 'cd' : 'hd'}${d.unit & 1}`;
}

/** An isa-debugcon: its port, readback value and where its bytes go. */
export interface DebugconConfig {
  port: number;
  output: (byte: number) => void;
  readback?: number;
  /**
   * Created after pc-testdev (QEMU: -debugcon, or -device isa-debugcon after -device
   * pc-testdev): where their ports overlap, this console answers.
   */
  overPcTestdev?: boolean;
}

export interface MachineConfig {
  /** Guest RAM in MiB (default 32). */
  memoryMiB?: number;
  /** Virtual nanoseconds per retired instruction (default 1: a 1 GHz, 1-IPC machine). */
  nsPerInsn?: number;
  /** Serial (COM1) output, one byte at a time. */
  serial?: (byte: number) => void;
  /** Debug console (port 0xE9) output. */
  debugcon?: (byte: number) => void;
  /** A BIOS image mapped at the top of 4 GiB (its last 128 KiB also below 1 MiB). */
  bios?: Uint8Array;
  /** The VGA BIOS offered as the VGA's PCI option ROM (with a BIOS). */
  vgaBios?: Uint8Array;
  /**
   * QEMU's kvmvapic.bin, offered to the BIOS as fw_cfg "genroms/kvmvapic.bin" as QEMU's
   * pc machine does (with a BIOS only; without it the kvmvapic device still exists).
   */
  kvmvapicRom?: Uint8Array;
  /** QEMU's pc-testdev (ports 0xE0-0xEB, 0x2000-0x2017, MMIO 0xFF000000), as -device pc-testdev. */
  pcTestdev?: boolean;
  /** QEMU's pci-testdev in slot 3, as -device pci-testdev. */
  pciTestdev?: boolean;
  /** Maximum number of cached TBs before a flush. */
  maxTbs?: number;
  /** Maximum bytes the cached TBs hold (generated code and guest bytes) before a flush. */
  maxTbBytes?: number;
  /** QEMU's -cpu model name (pentium, pentium2, pentium3, qemu32); default pentium2. */
  cpuModel?: string;
  /** A UART at 0x3F8 (COM1); false: none, as QEMU with -serial none or -nodefaults. */
  serialDevice?: boolean;
  /** The VGA (ports 0x3B0-0x3DF, 0xA0000); false: none, as QEMU with -nodefaults or -vga none. */
  vga?: boolean;
  /**
   * isa-debugcon devices. Default: 0xE9 (none with pc-testdev, which claims 0xE8-0xEB)
   * and 0x402 (SeaBIOS's log port), both writing to `debugcon`. One on a pc-testdev port
   * exists only with `overPcTestdev`.
   */
  debugcons?: DebugconConfig[];
  /** isa-debug-exit devices (default: one at 0xF4, 4 ports, as our samples expect). */
  debugExits?: { iobase: number; iosize: number }[];
  /**
   * QEMU's -no-reboot: a guest-requested reset or a triple fault does not reset the
   * machine; run() returns a 'guest-reset' stop with the state left as it was.
   */
  noReboot?: boolean;
  /** -icount shift=auto: the rate follows wall-clock time (src/machine/icount-auto.ts). */
  icountAuto?: boolean;
  /** Drives and their media. */
  drives?: DriveConfig[];
  /** QEMU's -boot order letters (a floppy, c disk, d CD-ROM, n network), default "cad". */
  bootOrder?: string;
  /** QEMU's -smp: the number of CPUs, 1-8 (default 1). */
  cpus?: number;
}

export interface MachineRunOptions extends RunOptions {
  /**
   * Guest time a halted CPU may skip in this call when no timer is due sooner (default:
   * the instruction budget's worth, at least 1 ms). A run loop with short slices gives
   * more, so that guest time does not crawl while the guest waits for a timer.
   */
  haltedNs?: number;
  /**
   * A halted CPU skips time up to exactly here, not further (a replay reaching the point
   * where an input went in); overrides haltedNs and a step's wait.
   */
  untilNs?: number;
}

export type MachineStop =
  | { kind: 'budget'; halted?: boolean; waitNs?: number } // waitNs: wall time until the next timer (-icount auto)
  | { kind: 'breakpoint'; pc: number }
  | { kind: 'watchpoint'; hit: WatchHit }
  | { kind: 'idle' } // halted with interrupts enabled, nothing scheduled: waiting for input
  | { kind: 'halted-forever' } // halted with interrupts disabled: nothing can wake it
  | { kind: 'exit'; code: number } // isa-debug-exit
  | { kind: 'power-off' } // ACPI S5
  | { kind: 'triple-fault' } // the machine was reset
  | { kind: 'guest-reset'; cause: string } // a reset request or triple fault under noReboot (not reset)
  | { kind: 'exit-request' };

export interface BoardState {
  pendingReset: string | null;
  poweredOff: boolean;
  suspended: boolean;
  wakeReason: 'rtc' | 'other' | null;
  exitCode: number | null;
  resets: number;
}

/**
 * An input from outside the guest (a front end, the user): what record/replay and the
 * reverse debugger's history log. Registers written by a debugger are one 'cpu' event.
 */
export type ExternalInput =
  | { kind: 'serial'; bytes: number[] }
  | { kind: 'keyboard'; bytes: number[] }
  | { kind: 'wakeup' }
  | { kind: 'reset'; cause: string }
  | { kind: 'memory'; pas: number[]; data: number[] }
  | { kind: 'cpu' };

/**
 * Sees every run() of the machine (record/replay, the reverse debugger's history): it
 * calls `inner` to run, and may run differently (a replay stops where inputs arrive).
 */
export interface RunObserver {
  run(maxInsns: number, opts: MachineRunOptions, inner: (maxInsns: number, opts: MachineRunOptions) => MachineStop): MachineStop;
}

const BIOS_ALIAS_SIZE = 128 * 1024;
const LEGACY_ROM_SIZE = 128 * 1024;

export class PcMachine {
  readonly events = new EventLog();
  readonly phys: PhysicalMemory;
  readonly io = new IoBus();
  readonly cpu: Cpu;
  readonly exec: CpuExec;
  readonly clock: VirtualClock;
  readonly pic: DualPic;
  /** The BSP's local APIC (CPU 0). */
  readonly lapic: LocalApic;
  /** Every CPU's local APIC, by APIC ID. */
  readonly lapics: LocalApic[];
  /**
   * With several CPUs: the round-robin loop and the CPUs that take turns on `cpu` (the
   * engine holds the running CPU's state); null with one CPU.
   */
  readonly smp: Smp | null;
  /** How many CPUs the board has (-smp). */
  readonly cpuCount: number;
  /** QEMU's kvmvapic (created with the local APIC; its option ROM comes with a BIOS). */
  readonly vapic: KvmVapic;
  readonly ioapic: IoApic;
  readonly pit: Pit8254;
  readonly hpet: Hpet;
  readonly com1: Uart16550;
  readonly debugcons: DebugCon[] = [];
  readonly debugExits: IsaDebugExit[] = [];
  readonly vga: Vga;
  readonly pam: PamController;
  readonly pci: PciBus;
  readonly i440fx: I440fx;
  readonly piix3: Piix3Isa;
  readonly ide: Piix3Ide;
  /** The two 8237 DMA controllers (ISA channels 0-7). */
  readonly isaDma: IsaDma;
  /**
   * The drives and the media in them now (the monitor's eject and change replace
   * `image`: src/machine/media-change.ts).
   */
  readonly drives: DriveConfig[] = [];
  /** The floppy controller: always there, with or without drives, as QEMU's pc machine (decisions.md). */
  readonly fdc: Fdc;
  readonly pm: Piix4Pm;
  /** QEMU's ACPI PCI and CPU hot-plug registers (0xAE00, 0xAF00), which the DSDT uses. */
  readonly hotplug: AcpiHotplug;
  readonly rtc: Mc146818Rtc;
  readonly fwCfg: FwCfg;
  /** QEMU's ACPI tables for this board (served on fw_cfg; placed in RAM for a direct boot). */
  readonly acpi: AcpiBuild;
  /** QEMU's SMBIOS files for this board (served on fw_cfg; placed in RAM for a direct boot). */
  readonly smbios: SmbiosBuild;
  readonly kbc: I8042;
  readonly port92: Port92;
  readonly post: PostPort;
  readonly testdev: PcTestdev | null;
  readonly ramSize: number;
  /** The wall-clock rate regulator of -icount shift=auto, if asked for. */
  readonly icountAuto: IcountAuto | null;
  /** Called at the start of every reset with its cause, before any state changes (QEMU's -d cpu_reset). */
  onBeforeReset: ((cause: string) => void) | null = null;
  /** A guest-requested reset (0xCF9, 8042, port 0x92) waiting for the loop. */
  pendingReset: string | null = null;
  /** ACPI S5 power-off: the run ends. */
  poweredOff = false;
  /** ACPI S3: the CPU does not run until a wake-up event (RTC alarm, key, monitor). */
  suspended = false;
  private wakeReason: 'rtc' | 'other' | null = null;
  /**
   * Without firmware, what SeaBIOS's S3 resume path would do after the wake-up reset
   * (set by the direct-boot firmware tables: enter the FACS waking vector). Returns false
   * when there is no vector to resume at: the guest is then booted again, as SeaBIOS does.
   */
  onDirectWake: (() => boolean) | null = null;
  /** Set by isa-debug-exit: the process exit status QEMU would give. */
  exitCode: number | null = null;
  /** See RunObserver; null when nobody records or replays. */
  runObserver: RunObserver | null = null;
  /**
   * Told about every input from outside the guest before it is applied; returning false
   * drops it (a replay feeds the guest from its log instead). Null: inputs just apply.
   */
  inputGate: ((e: ExternalInput) => boolean) | null = null;
  /**
   * The guest's console output does not reach its sinks (COM1, debug consoles): the
   * reverse debugger re-runs history the user has seen already. The taps still see it.
   */
  outputMuted = false;
  /** Every byte COM1 sends, after the configured sink (record/replay check the output). */
  readonly serialTaps = new Set<(byte: number) => void>();
  /** Inside run(): resets and wake-ups then come from the guest, not from outside. */
  private running = false;
  resets = 0;
  /**
   * The boot step of a direct boot (no firmware to boot the guest): run after every reset,
   * so a reset reboots the same images as QEMU's firmware does. Null when a BIOS boots.
   */
  private bootLoader: (() => void) | null = null;

  constructor(readonly config: MachineConfig = {}) {
    const mib = config.memoryMiB ?? 32;
    const cpus = config.cpus ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) throw new UserError(`-smp ${cpus}: the number of CPUs must be 1-${MAX_CPUS}`);
    this.cpuCount = cpus;
    if (!Number.isInteger(mib) || mib < 2 || mib > 2048) throw new UserError(`memory size ${mib} MiB is out of range (2-2048)`);
    this.ramSize = mib * 1024 * 1024;
    const biosSize = config.bios ? config.bios.length : 0;
    if (config.bios && (biosSize % 65536 !== 0 || biosSize > 16 << 20 || biosSize < 65536)) {
      throw new UserError(`BIOS image size ${biosSize} is not a multiple of 64 KiB between 64 KiB and 16 MiB`);
    }
    // memory_map_init: pc.ram below 640 KiB and above 1 MiB, pc.bios at the top of 4 GiB,
    // and the legacy window 0xA0000-0xFFFFF, which the PAM controller routes.
    this.phys = new PhysicalMemory(this.ramSize + biosSize + LEGACY_ROM_SIZE);
    const ram = this.phys.allocate('pc.ram', this.ramSize);
    this.phys.mapDirect(0, 0xa0000, ram, 0, true, true);
    this.phys.mapDirect(0x100000, this.ramSize - 0x100000, ram, 0x100000, true, true);
    // What PCI memory shows at 0xC0000-0xDFFFF when PAM routes there (option ROM space).
    const pcRom = this.phys.allocate('pc.rom', LEGACY_ROM_SIZE);
    const romWindows: LegacyRomWindow[] = [{ phys: 0xc0000, size: LEGACY_ROM_SIZE, area: pcRom, offset: 0 }];
    if (config.bios) {
      const bios = this.phys.allocate('pc.bios', biosSize);
      this.phys.u8.set(config.bios, bios.offset);
      this.phys.mapDirect((0x100000000 - biosSize) >>> 0, biosSize, bios, 0, true, false);
      // The last 128 KiB of the BIOS also appear just below 1 MiB (isa-bios).
      const alias = Math.min(BIOS_ALIAS_SIZE, biosSize);
      romWindows.push({ phys: 0x100000 - alias, size: alias, area: bios, offset: biosSize - alias });
    }
    // A device left out (QEMU's -nodefaults) still exists for the front ends, on a port
    // space of its own that the guest never reaches.
    const hasVga = config.vga !== false;
    this.vga = new Vga(hasVga ? this.io : new IoBus(), { textModeAtReset: !config.bios });
    this.pam = new PamController(this.phys, {
      ram, rom: romWindows, vga: hasVga ? this.vga.lowMem : undefined, onRemap: (p, size) => this.exec?.codeWrite(p, size),
    });

    const model = config.cpuModel === undefined ? defaultCpuModel() : findCpuModel(config.cpuModel);
    if (!model) {
      throw new UserError(`-cpu: unknown CPU model "${config.cpuModel}" (known: ${CPU_MODELS.map((m) => m.name).join(', ')}; -cpu help lists them)`);
    }
    this.cpu = new Cpu(this.phys, this.io, model);
    this.phys.onMapChange = () => this.cpu.mmu.flush();
    this.clock = new VirtualClock(() => this.cpu.icount + this.cpu.icountOff, config.nsPerInsn ?? 1);
    this.icountAuto = config.icountAuto ? new IcountAuto(this.clock, () => this.cpu.icount) : null;
    // A timer armed while translated code runs may be due before the slice's deadline
    // (the loop's end: cpu.deadline may be lower, at a chunk's end or a stop request).
    this.clock.onArm = (ns) => {
      const at = Math.ceil((ns - this.clock.warpNs) / this.clock.nsPerInsn);
      if (this.exec && at < Math.max(this.cpu.deadline, this.exec.runEnd)) {
        this.exec.timersChanged = true;
        this.cpu.requestExit();
      }
    };
    this.cpu.tscSource = () => Math.floor(this.clock.now());
    this.events.icount = () => this.cpu.icount;
    this.exec = new CpuExec(this.cpu, this.events, config.maxTbs, config.maxTbBytes);
    this.cpu.onUnimplemented = (eip, bytes, what) => {
      this.events.emit({ kind: 'unimplemented', icount: this.cpu.icount, eip, bytes, what });
    };

    // Interrupts: the 8259 pair reaches the CPU through the local APIC's LINT0 (ExtINT
    // at reset, so PIC-only guests see no difference); ISA IRQs go to both the 8259s and
    // the I/O APIC, as on QEMU's PC.
    // With several CPUs each has its APIC (IDs 0..N-1, CPU 0 the BSP) and the 8259's INTR
    // reaches every LINT0 (QEMU's pic_irq_request); the page at 0xFEE00000 is the
    // running CPU's (src/machine/smp.ts).
    this.lapic = new LocalApic(this.clock, cpus === 1 ? { phys: this.phys } : {});
    this.lapics = [this.lapic];
    for (let i = 1; i < cpus; i++) this.lapics.push(new LocalApic(this.clock, { id: i, bsp: false }));
    this.pic = new DualPic(this.io, {
      log: this.events,
      onIntr: cpus === 1 ? (level) => this.lapic.setLint0(level) : (level) => {
        for (const a of this.lapics) a.setLint0(level);
      },
    });
    for (const a of this.lapics) a.extInt = this.pic;
    connectLocalApic(this.cpu, this.lapic);
    this.smp = cpus === 1 ? null : new Smp(this.cpu, this.exec, this.lapics, this.phys);
    this.vapic = new KvmVapic(this.io, {
      ramSize: this.ramSize,
      ramRead8: (pa) => this.phys.u8[ram.offset + pa]!,
      read8: (pa) => this.phys.read8(pa),
      write8: (pa, v) => {
        this.exec.codeWrite(pa, 1);
        this.phys.write8(pa, v);
      },
      setRomWritable: (r) => this.pam.setRamOverlay(r),
      csBase: () => this.cpu.segBase[SEG_CS]!,
      eip: () => this.cpu.eip,
      translate: (lin) => this.cpu.mmu.debugTranslate(lin),
    });
    this.ioapic = new IoApic(this.smp ?? this.lapic, { phys: this.phys });
    for (const a of this.lapics) a.onEoiBroadcast = (v) => this.ioapic.eoiBroadcast(v);
    const irq = (n: number): IrqLine => isaIrqLine(this.pic, this.ioapic, n);
    // The HPET drives GSIs (ISA IRQs below 16, GSI 2 is I/O APIC pin 2 only) and, in its
    // legacy replacement mode, cuts off the PIT's IRQ 0 and the RTC's IRQ 8.
    const gsi = (n: number): IrqLine => (n === 2 || n >= 16 ? this.ioapic.irqLine(n & 0x1f) : irq(n));
    this.hpet = new Hpet(this.clock, { phys: this.phys, gsi: (n) => (n < 24 ? gsi(n) : { set() {} }) });
    this.pit = new Pit8254(this.io, this.clock, { irq0: this.hpet.pitLine });
    // FERR# (an unmasked x87 exception with CR0.NE clear) is IRQ 13 on a PC.
    const irq13 = irq(13);
    this.cpu.fpu.onFerr = (level) => irq13.set(level !== 0);
    this.com1 = new Uart16550(config.serialDevice === false ? new IoBus() : this.io, this.clock, {
      irq: irq(4), onTransmit: (b) => {
        if (!this.outputMuted) config.serial?.(b);
        for (const t of this.serialTaps) t(b);
      },
    });
    const debugconOut = config.debugcon ?? (() => {});
    // QEMU's pc-testdev claims 0xE8-0xEB, so with it the 0xE9 console stays off. SeaBIOS
    // writes its debug log to port 0x402: the same sink as 0xE9.
    const debugcons = config.debugcons ??
      [...(config.pcTestdev ? [] : [{ port: 0xe9, output: debugconOut }]), { port: 0x402, output: debugconOut }];
    // A console pc-testdev shadows (created before it, on one of its ports) gets nothing.
    const testdevPorts = new Set(config.pcTestdev ? pcTestdevPorts() : []);
    for (const d of debugcons) {
      if (testdevPorts.has(d.port) && !d.overPcTestdev) continue;
      claimPorts(`isa-debugcon at 0x${d.port.toString(16)}`, () =>
        this.debugcons.push(new DebugCon(this.io, {
          port: d.port, readback: d.readback, onOutput: (b) => {
            if (!this.outputMuted) d.output(b);
          },
        })));
    }
    for (const d of config.debugExits ?? [{ iobase: 0xf4, iosize: 4 }]) {
      claimPorts(`isa-debug-exit at 0x${d.iobase.toString(16)}`, () => this.debugExits.push(new IsaDebugExit(this.io, {
        iobase: d.iobase, iosize: d.iosize,
        onExit: (code) => {
          this.exitCode = code;
          this.exec.exitRequest = true;
          this.cpu.requestExit();
        },
      })));
    }

    // The i440FX board: PCI host bridge with PAM/SMRAM, PIIX3 (ISA bridge, IDE), PIIX4
    // power management, standard VGA; then the ISA devices a BIOS and an OS expect.
    const requestReset = (why: string): void => {
      this.pendingReset = why;
      this.exec.exitRequest = true;
      this.cpu.requestExit();
    };
    this.pci = new PciBus(this.io, this.phys, { memoryHoleStart: this.ramSize });
    this.i440fx = new I440fx(this.pci, { pam: this.pam, ramSize: this.ramSize });
    this.piix3 = new Piix3Isa(this.io, this.pci, {
      isaIrq: irq, setLevelTriggered: (m) => this.pic.setLevelTriggered(m), onReset: () => requestReset('reset control 0xCF9'),
    });
    const ideDrives: (IdeDriveConfig | null)[] = [null, null, null, null];
    const floppies: (FloppyDriveConfig | null)[] = [null, null];
    for (const d of config.drives ?? []) {
      this.drives.push({ ...d });
      if (d.image === null && d.media !== 'cdrom' && d.bus !== 'floppy') throw new UserError(`${driveName(d)}: a hard disk needs an image`);
      if (d.bus === 'floppy') {
        if (d.unit < 0 || d.unit > 1 || floppies[d.unit]) throw new UserError(`floppy unit ${d.unit} is taken or out of range (0-1)`);
        if (d.image === null) {
          floppies[d.unit] = { image: null, format: EMPTY_FLOPPY_DRIVE };
          continue;
        }
        const format = floppyFormat(d.image.sectors * SECTOR_SIZE);
        if (!format) throw new UserError(`floppy ${d.image.backend.name}: ${d.image.sectors * SECTOR_SIZE} bytes is not a floppy size bmbt-dbg knows (1474560, 2949120 or 737280)`);
        floppies[d.unit] = { image: d.image, format };
        continue;
      }
      if (d.unit < 0 || d.unit > 3 || ideDrives[d.unit]) throw new UserError(`IDE unit ${d.unit} is taken or out of range (0-3)`);
      if (d.media === 'cdrom') {
        ideDrives[d.unit] = { kind: 'cd', image: d.image };
        continue;
      }
      const image = d.image!;
      const first = new Uint8Array(SECTOR_SIZE);
      image.read(0, 1, first);
      image.stats.readSectors = 0;
      ideDrives[d.unit] = { kind: 'hd', image, geometry: guessGeometry(first, image.sectors) };
    }
    this.ide = new Piix3Ide(this.io, this.pci, {
      irqPrimary: irq(14), irqSecondary: irq(15), drives: ideDrives, phys: this.phys, onDmaWrite: (p, l) => this.exec.codeWrite(p, l),
    });
    for (const ch of this.ide.channels) ch.icount = () => this.cpu.icount;
    this.pm = new Piix4Pm(this.io, this.pci, this.clock, {
      sci: irq(9),
      onPowerOff: () => {
        this.poweredOff = true;
        this.exec.exitRequest = true;
        this.cpu.requestExit();
      },
      onSuspend: () => this.suspend(),
    });
    // The std VGA is on PCI with or without a BIOS (its option ROM only comes with one);
    // -nodefaults and -vga none leave it out, as QEMU.
    if (hasVga) new StdVgaPci(this.pci, this.vga, { rom: config.vgaBios });
    const fixedSlots = hasVga ? [0, 1, 2] : [0, 1];
    // QEMU's PCI and CPU hot-plug blocks of the PIIX4 PM function: the slots of the
    // built-in devices (host bridge, PIIX, the std VGA) are the ones that cannot be removed.
    this.hotplug = new AcpiHotplug(this.io, fixedSlots, cpus);
    this.rtc = new Mc146818Rtc(this.io, this.clock, { irq: this.hpet.rtcLine });
    this.isaDma = new IsaDma(this.io, this.phys, (p, l) => this.exec.codeWrite(p, l));
    this.fdc = new Fdc(this.io, { irq: irq(6), dma: this.isaDma, clock: this.clock, drives: floppies });
    this.rtc.fillPcCmos({
      belowFourG: this.ramSize, bootOrder: config.bootOrder, cpus,
      floppy: [floppies[0]?.format.cmosType ?? 0, floppies[1]?.format.cmosType ?? 0],
      hardDisks: ideDrives.map((d) => (d && d.kind === 'hd' ? d.geometry : null)),
    });
    this.rtc.onAlarm = () => {
      if (this.pm.rtcWakeEnabled) this.requestWakeup('rtc');
    };
    this.fwCfg = new FwCfg(this.io, { phys: this.phys, onDmaWrite: (p, l) => this.exec.codeWrite(p, l) });
    this.fwCfg.addI16(FW_CFG_NB_CPUS, cpus);
    this.fwCfg.addI16(FW_CFG_MAX_CPUS, cpus);
    this.fwCfg.addI64(FW_CFG_RAM_SIZE, this.ramSize);
    this.fwCfg.addI32(FW_CFG_IRQ0_OVERRIDE, 1);
    this.fwCfg.setE820([{ address: 0, length: this.ramSize, type: E820_RAM }]);
    this.fwCfg.setBootOrder([]);
    // QEMU's per-disk geometry overrides for SeaBIOS: empty without disks, but listed.
    this.fwCfg.addFile('bios-geometry', new Uint8Array(0));
    this.acpi = buildAcpiTables({ belowFourG: this.ramSize, floppyDrives: [floppies[0]?.format.cmosType ?? 0, floppies[1]?.format.cmosType ?? 0], fixedSlots, cpus });
    serveAcpiTables(this.fwCfg, this.acpi);
    const [cpuSignature, , , cpuFeatures] = cpuidLeaf(this.cpu, 1, 0);
    this.smbios = buildSmbiosTables({ ramSize: this.ramSize, cpuSignature, cpuFeatures });
    serveSmbiosTables(this.fwCfg, this.smbios);
    if (config.bios && config.kvmvapicRom) this.fwCfg.addFile('genroms/kvmvapic.bin', config.kvmvapicRom);
    this.kbc = new I8042(this.io, {
      irqKbd: irq(1), irqMouse: irq(12), setA20: (e) => this.setA20(e), onReset: () => requestReset('keyboard controller'),
    });
    this.port92 = new Port92(this.io, { setA20: (e) => this.setA20(e), onReset: () => requestReset('port 0x92') });
    this.post = new PostPort(this.io, { log: this.events });
    // INIT (an INIT IPI to ourselves): the CPU restarts at its reset vector, where the
    // firmware takes its resume path; without a BIOS image we do what SeaBIOS would.
    this.cpu.onInit = () => {
      if (this.smp?.apInit()) return;
      this.cpu.init();
      this.events.emit({ kind: 'reset', icount: this.cpu.icount, cause: 'INIT' });
      if (this.config.bios) return;
      const r = firmwareResume({
        cpu: this.cpu, cmos: this.rtc.cmos, read16: (pa) => this.phys.read16(pa), out8: (port, v) => this.io.write(port, v, 1),
      });
      if (r === 'reboot') requestReset('INIT (firmware reboot)');
    };
    this.testdev = config.pcTestdev
      ? claimPorts('pc-testdev', () => new PcTestdev(this.io, {
        phys: this.phys, setIrq: (line, level) => irq(line).set(level),
        leave: debugcons.filter((d) => d.overPcTestdev).map((d) => d.port),
      }))
      : null;
    // QEMU plugs a -device PCI card into the first free slot.
    if (config.pciTestdev) new PciTestdev(this.pci, { slot: this.pci.firstFreeSlot() });
    this.reset('power-on');
  }

  /** The A20 gate: QEMU wires it to the first CPU only (handle_a20_line_change). */
  private setA20(enabled: boolean): void {
    if (this.smp === null || this.smp.current.index === 0) this.cpu.setA20(enabled);
    else this.smp.cpus[0]!.saved!.a20Mask = enabled ? -1 : ~(1 << 20);
  }

  /** The media in the drives now (flushed at exit; snapshots; `info block`). */
  images(): TrackedImage[] {
    return this.drives.flatMap((d) => (d.image ? [d.image] : []));
  }

  /** The drives as `info block` shows them (plain records). */
  blockInfo(): BlockDeviceInfo[] {
    return this.drives.map((d) => {
      const img = d.image;
      const backend = img?.backend ?? null;
      const overlay = backend instanceof OverlayBackend ? backend : null;
      const base: BlockDeviceInfo = {
        name: driveName(d), file: backend?.name ?? '', inserted: img !== null, removable: null,
        format: 'raw', media: d.media, readOnly: img?.readOnly ?? false, sectors: img?.sectors ?? 0,
        snapshotOverlaySectors: overlay ? overlay.changedSectors : null,
        stats: img ? { ...img.stats } : { readSectors: 0, writtenSectors: 0, flushes: 0 }, dirty: img?.dirty ?? false,
        attached: d.bus === 'floppy' ? `floppy controller, drive ${'AB'[d.unit]}:` : `IDE ${d.unit >> 1 ? 'secondary' : 'primary'} ${d.unit & 1 ? 'slave' : 'master'}`,
        geometry: null, recent: [],
      };
      if (d.bus === 'ide') {
        const ch = this.ide.channels[(d.unit >> 1) as 0 | 1].info();
        const drv = ch.drives[d.unit & 1]!;
        base.geometry = drv.geometry;
        if (d.media === 'cdrom') base.removable = { locked: drv.trayLocked, trayOpen: drv.trayOpen };
        base.recent = ch.commands.filter((c) => c.unit === (d.unit & 1)).map((c) => ({ ...c }));
      } else {
        base.removable = { locked: false, trayOpen: false };
      }
      return base;
    });
  }

  /** Make every guest write durable (FLUSH CACHE does this per drive; the front end at exit). */
  /**
   * Keep translated code across runs in `dir` (the persistent translation cache,
   * src/tb/tb-store.ts): TBs an earlier run of this build made for this CPU model are used
   * where the guest's bytes are the same; new ones are written by `tbStore.save()`. Null
   * turns it off.
   */
  useTbStore(dir: string | null): TbStore | null {
    const m = this.cpu.model;
    this.exec.store = dir === null ? null : new TbStore(dir, translatorVersion(), `cpu ${m.edx.toString(16)} ${m.ecx.toString(16)}`);
    return this.exec.store;
  }

  get tbStore(): TbStore | null {
    return this.exec.store;
  }

  flushImages(): void {
    for (const img of this.images()) img.flush();
  }

  /** The board's own run state, for snapshots (src/snapshot saves the devices and the CPU). */
  saveBoardState(): BoardState {
    return {
      pendingReset: this.pendingReset, poweredOff: this.poweredOff, suspended: this.suspended,
      wakeReason: this.wakeReason, exitCode: this.exitCode, resets: this.resets,
    };
  }

  loadBoardState(s: BoardState): void {
    this.pendingReset = s.pendingReset;
    this.poweredOff = s.poweredOff;
    this.suspended = s.suspended;
    this.wakeReason = s.wakeReason;
    this.exitCode = s.exitCode;
    this.resets = s.resets;
  }

  /** Install the direct-boot step and run it now (the first boot); see `bootLoader`. */
  setBootLoader(load: () => void): void {
    this.bootLoader = load;
    load();
  }

  /** qemu_system_reset: every device and the CPU back to their reset state. */
  reset(cause: string, opts: { s3Resume?: boolean } = {}): void {
    if (!this.running && this.resets > 0 && !this.admit({ kind: 'reset', cause })) return;
    // What the reset does (a direct boot loading its images again) is not another input.
    const running = this.running;
    this.running = true;
    try {
      this.resetDevices(cause, opts);
    } finally {
      this.running = running;
    }
  }

  private resetDevices(cause: string, opts: { s3Resume?: boolean }): void {
    this.onBeforeReset?.(cause);
    this.smp?.selectBsp();
    this.cpu.reset();
    this.pic.reset();
    for (const a of this.lapics) a.reset();
    this.smp?.resetAps();
    this.vapic.reset();
    this.ioapic.reset();
    this.hpet.reset();
    this.pci.reset();
    this.rtc.reset();
    this.fwCfg.reset();
    this.kbc.reset();
    this.isaDma.reset();
    this.fdc.reset();
    this.hotplug.reset();
    this.pendingReset = null;
    this.exitCode = null;
    this.poweredOff = false;
    this.suspended = false;
    this.wakeReason = null;
    if (!this.config.bios) {
      // No BIOS to shadow itself: the legacy window is plain RAM, as a BIOS would leave it.
      for (let i = 0; i < PAM_SEGMENT_COUNT; i++) this.pam.setPam(i, 3);
    }
    this.pit.reset();
    this.com1.reset();
    this.exec.tbFlush('reset');
    this.resets++;
    this.events.emit({ kind: 'reset', icount: this.cpu.icount, cause });
    // What the firmware would do next: boot the kernel again (unless it resumes from S3).
    if (!opts.s3Resume) this.bootLoader?.();
  }

  /**
   * Run up to `maxInsns` instructions, serving timers on the virtual clock; the CPU
   * halting fast-forwards the clock to the next timer.
   */
  run(maxInsns: number, opts: MachineRunOptions = {}): MachineStop {
    const o = this.runObserver;
    return o === null ? this.runInner(maxInsns, opts) : o.run(maxInsns, opts, this.runInner);
  }

  /** An input from outside is about to apply: false when the gate drops it. */
  private admit(e: ExternalInput): boolean {
    return this.inputGate === null || this.inputGate(e);
  }

  /** A debugger changed registers (anything in the CPU state): the input logs hear of it. */
  cpuEdited(): void {
    this.admit({ kind: 'cpu' });
  }

  private readonly runInner = (maxInsns: number, opts: MachineRunOptions): MachineStop => {
    this.running = true;
    try {
      return this.runAuto(maxInsns, opts);
    } finally {
      this.running = false;
    }
  };

  private runAuto(maxInsns: number, opts: MachineRunOptions): MachineStop {
    const auto = this.icountAuto;
    if (auto === null) return this.runSlice(maxInsns, opts, null);
    auto.adjust();
    auto.enter();
    try {
      return this.runSlice(maxInsns, opts, auto);
    } finally {
      auto.leave();
    }
  }

  private runSlice(maxInsns: number, opts: MachineRunOptions, auto: IcountAuto | null): MachineStop {
    const cpu = this.cpu;
    const start = cpu.icount;
    let end = start + maxInsns;
    const stepping = opts.single === true || opts.oneBlock === true;
    let pastHlt = false;
    // A slice is also a window of virtual time, so a halted guest cannot spin here; at
    // least 1 ms of it, so a small instruction budget still lets a halted guest reach
    // its next timer (halted time retires no instructions). A step waits for a halted
    // CPU to wake up, for at most 10 s of guest time. `untilNs` sets it exactly.
    const ns = this.clock.nsPerInsn;
    const endNs = opts.untilNs ?? this.clock.now() + (stepping ? 10e9 : Math.max(maxInsns * ns, opts.haltedNs ?? 1_000_000 * ns));
    for (;;) {
      this.clock.runDue();
      if (this.exitCode !== null) return { kind: 'exit', code: this.exitCode };
      if (this.suspended) {
        // Suspended: only time passes, to the next timer (the RTC alarm may wake us).
        if (this.wakeReason !== null) {
          this.wakeUp();
          continue;
        }
        const next = this.clock.nextDeadline();
        if (next === Infinity) return { kind: 'idle' };
        if (next > endNs || opts.single || opts.oneBlock) {
          if (!opts.single && !opts.oneBlock) this.clock.warpTo(endNs);
          return { kind: 'budget', halted: true };
        }
        this.clock.warpToNextDeadline();
        continue;
      }
      const timer = this.clock.nextDeadlineIcount();
      const deadline = Math.min(end, timer);
      const stop = this.smp === null ? this.exec.run(deadline, opts) : this.smp.run(deadline, opts);
      switch (stop) {
        case 'budget':
          if (opts.single && cpu.halted && !pastHlt) {
            // As QEMU's stepi: a HLT does not end the step; the CPU waits for the next
            // interrupt (not taken while stepping) and the instruction after it runs.
            pastHlt = true;
            end = cpu.icount + 1;
            continue;
          }
          // A halted CPU that has not run yet (a timer was armed on the way): keep waiting.
          if (stepping && !(cpu.halted && cpu.icount === start)) return { kind: 'budget' };
          if (cpu.icount >= end) return { kind: 'budget' };
          continue;
        case 'halted': {
          if (this.smp !== null && !stepping) {
            // No CPU can run now (smp.run passed over every one): time passes.
            if (this.smp.allHaltedForever()) return { kind: 'halted-forever' };
          } else {
            if (cpu.interruptRequest & IRQ_HARD && cpu.eflags & FLAG_IF && !opts.noIrq) continue;
            if (cpu.interruptRequest & IRQ_INIT && !opts.noIrq) continue;
            if (!(cpu.eflags & FLAG_IF) && !(cpu.interruptRequest & (IRQ_NMI | IRQ_INIT))) return { kind: 'halted-forever' };
          }
          if (stepping && (cpu.interruptRequest & (IRQ_NMI | IRQ_INIT) || (cpu.interruptRequest & IRQ_HARD && cpu.eflags & FLAG_IF))) {
            // Stepping with interrupts held back (QEMU's SSTEP_NOIRQ): the CPU has work, so
            // it leaves HLT, and the next instruction runs with the interrupt still pending.
            cpu.halted = false;
            continue;
          }
          const next = this.clock.nextDeadline();
          if (next === Infinity) return { kind: 'idle' };
          if (auto !== null && !stepping) {
            // Wall-paced: skip idle time only as far as wall time has gone.
            const limit = auto.idleLimitNs();
            if (next > limit) {
              this.clock.warpTo(limit);
              return { kind: 'budget', halted: true, waitNs: next - limit };
            }
          }
          if (next > endNs) {
            if (!stepping) this.clock.warpTo(endNs);
            return { kind: 'budget', halted: true };
          }
          this.clock.warpToNextDeadline();
          continue;
        }
        case 'breakpoint':
          return { kind: 'breakpoint', pc: cpu.pc };
        case 'watchpoint': {
          const hit = cpu.watchHit!;
          cpu.watchHit = null;
          return { kind: 'watchpoint', hit };
        }
        case 'triple-fault':
          if (this.config.noReboot) return { kind: 'guest-reset', cause: 'triple fault' };
          this.reset('triple fault');
          return { kind: 'triple-fault' };
        case 'exit-request':
          if (this.exitCode !== null) return { kind: 'exit', code: this.exitCode };
          if (this.poweredOff) return { kind: 'power-off' };
          if (this.pendingReset !== null) {
            if (this.config.noReboot) {
              const cause = this.pendingReset;
              this.pendingReset = null;
              return { kind: 'guest-reset', cause };
            }
            // A guest-requested reset reboots the machine and goes on running.
            this.reset(this.pendingReset);
            continue;
          }
          return { kind: 'exit-request' };
      }
    }
  }

  /**
   * ACPI S3 (SLP_TYP 1 with SLP_EN), as QEMU's qemu_system_suspend: the CPU stops and the
   * RTC writes 0xFE (S3 resume) to the CMOS shutdown status byte, where SeaBIOS's POST
   * looks for it after the wake-up reset.
   */
  suspend(): void {
    this.suspended = true;
    this.wakeReason = null;
    this.rtc.setCmos(0x0f, 0xfe);
    this.exec.exitRequest = true;
    this.cpu.requestExit();
  }

  /**
   * A wake-up event (QEMU's qemu_system_wakeup_request): ignored unless suspended. The
   * RTC alarm counts only with PM1_EN.RTC_EN set (checked by the caller); keys and the
   * monitor's system_wakeup always wake.
   */
  requestWakeup(reason: 'rtc' | 'other'): boolean {
    if (!this.suspended) return false;
    if (!this.running && reason === 'other' && !this.admit({ kind: 'wakeup' })) return false;
    this.wakeReason ??= reason;
    this.exec.exitRequest = true;
    this.cpu.requestExit();
    return true;
  }

  /** qemu_system_wakeup: a system reset, then the wake status for the firmware and the OS. */
  private wakeUp(): void {
    const reason = this.wakeReason ?? 'other';
    const direct = !this.config.bios && this.onDirectWake !== null;
    this.reset('wakeup from S3', { s3Resume: direct });
    this.pm.wokeUp(reason);
    if (direct && !this.onDirectWake!()) this.bootLoader?.();
  }

  /** Scancodes typed on the PS/2 keyboard; a key wakes a suspended machine, as QEMU. */
  keyboardInput(bytes: readonly number[] | Uint8Array): void {
    if (!this.admit({ kind: 'keyboard', bytes: Array.from(bytes) })) return;
    this.kbc.injectScancodes(bytes);
    if (this.suspended) {
      this.wakeReason ??= 'other';
      this.exec.exitRequest = true;
      this.cpu.requestExit();
    }
  }

  /** Bytes typed on the serial console reach the guest's UART. */
  serialInput(bytes: Uint8Array | readonly number[]): void {
    if (!this.admit({ kind: 'serial', bytes: Array.from(bytes) })) return;
    this.com1.receive(bytes);
  }

  // ---- debugger access (linear addresses go through the MMU without side effects) ------

  readLinear(lin: number, len: number): Uint8Array | null {
    // A page walk per page, not per byte (gdb reads 2 KiB a packet).
    const out = new Uint8Array(len);
    for (let i = 0; i < len; ) {
      const a = (lin + i) >>> 0;
      const pa = this.cpu.mmu.debugTranslate(a);
      if (pa === null) return null;
      const n = Math.min(len - i, 0x1000 - (a & 0xfff));
      this.phys.peekPage(pa, out, i, n);
      i += n;
    }
    return out;
  }

  /** Write through the MMU; translated code on the written pages is invalidated. */
  writeLinear(lin: number, data: Uint8Array): boolean {
    const pas: number[] = [];
    for (let i = 0; i < data.length; i++) {
      const pa = this.cpu.mmu.debugTranslate((lin + i) >>> 0);
      if (pa === null) return false;
      pas.push(pa);
    }
    this.writePhysicalAt(pas, data);
    return true;
  }

  readPhysical(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; ) {
      const a = (pa + i) >>> 0;
      const n = Math.min(len - i, 0x1000 - (a & 0xfff));
      this.phys.peekPage(a, out, i, n);
      i += n;
    }
    return out;
  }

  writePhysical(pa: number, data: Uint8Array): void {
    this.writePhysicalAt(Array.from(data, (_, i) => (pa + i) >>> 0), data);
  }

  private writePhysicalAt(pas: number[], data: Uint8Array): void {
    if (!this.running && !this.admit({ kind: 'memory', pas, data: Array.from(data) })) return;
    for (let i = 0; i < data.length; i++) {
      const pa = pas[i]!;
      if (this.cpu.mmu.codePages[pa >>> 12]) this.exec.codeWrite(pa, 1);
      this.phys.poke8(pa, data[i]!);
    }
  }
}

/** Build a device whose ports the user chose: a clash is the user's mistake, not a bug. */
function claimPorts<T>(what: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    const m = /^port (0x[0-9a-f]+) claimed by (\S+)/.exec((e as Error).message);
    if (m) throw new UserError(`${what}: port ${m[1]} is already taken by ${m[2]}`);
    throw e;
  }
}
