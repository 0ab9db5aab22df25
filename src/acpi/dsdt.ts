// The board's DSDT, hand-written with the AML encoder. It declares what QEMU 7.2's `pc`
// machine declares for the devices this board has, in the same order (measured: QEMU's
// DSDT read by Linux from /sys/firmware/acpi/tables under -nodefaults -vga std, and by a
// guest from fw_cfg, disassembled with iasl), so an OS walks the same namespace:
//
//   \DBUG (writes a hex dump to the debug port 0x402);
//   \_SB.PCI0 (PNP0A03): the PCI hot-plug registers at 0xAE00 (PCIU, PCID, B0EJ, BNUM,
//     PIDX) and the methods over them (PCEJ ejects a slot, AIDX reads a slot's ACPI index,
//     PDSM answers _DSM's device-labelling functions 0 and 7); _PRT (every slot's INTA-D
//     rotated over LNKA-D as the PIIX swizzle, 00:01 INTA on LNKS = SCI); the interrupt
//     links LNKA-LNKD (PNP0C0F on PIIX3 PIRQRC 0x60-0x63, IRQ 5/10/11) and LNKS (IRQ 9);
//   \_SB.HPET (PNP0103, _STA from the HPET's own registers);
//   \_SB.PCI0.PRES (the CPU hot-plug registers at 0xAF00) and \_SB.CPUS (ACPI0010) with
//     Processor C000 and the methods over them (CSTA, CEJ0, CSCN, COST, CTFY); \_GPE._E02
//     rescans CPUs;
//   \_SB.PCI0 _CRS (bus 0-FF, I/O and memory windows), GPE0 and PHPR (the GPE and PCI
//     hot-plug ports as resources), FWCF (QEMU0002, fw_cfg's ports);
//   \_S3, \_S4, \_S5 with QEMU's SLP_TYP values 1, 2, 0;
//   \_SB.PCI0.S00 (host bridge), S08 (PIIX3 ISA: KBD, MOU, FDC0 with a FLPx per drive,
//     COM1, RTC), S10 (VGA, D0 only in S1-S3), each with _DSM; S18-SF8 (slots 3-31,
//     hot-pluggable: _SUN, _DSM, _EJ0); DVNT/PCNT notify them of hot-plug events, which
//     \_GPE._E01 reads from the registers.
//
// Left out, because this board has no such device: the parallel port.
import {
  acquire, aml, and, arg, breakOp, buffer, call, createDWordField, debugObj, derefOf, device, dmaCompat8,
  eisaId, elseDo, extIrq, field, FIELD_BYTE_ACC, FIELD_DWORD_ACC, FIELD_LOCK, FIELD_WRITE_AS_ZEROS, ifThen,
  increment, index, int, ioPort, irqNoFlags, land, lequal, lgreater, lless, lnot, lnotEqual, local, lor,
  memory32Fixed, method, mutex, name, notify, opRegion, or, pkg, pkgOf, processor, qwordMemory, REGION_PCI_CONFIG,
  REGION_SYSTEM_IO, REGION_SYSTEM_MEMORY, release, resourceTemplate, ret, scope, shiftLeft, shiftRight, sizeOf,
  store, str, subtract, toBuffer, toHexString, uuid, whileDo, dwordMemory, wordBusNumber, wordIo, add, type Aml,
} from './aml.js';
import { HPET_BASE, HPET_LEN } from '../devices/hpet.js';
import { FLOPPY_DRIVE_LIMITS } from '../devices/fdc.js';
import { CPU_HOTPLUG_BASE, CPU_HOTPLUG_LEN, PCI_HOTPLUG_BASE, PCI_HOTPLUG_LEN } from '../devices/acpi-hotplug.js';

export interface DsdtConfig {
  /** RAM below 4 GiB: the 32-bit PCI window starts here. */
  belowFourG: number;
  /** PIIX4 GPE0 block (QEMU 0xAFE0, 4 bytes). */
  gpe0Base: number;
  /** fw_cfg's I/O ports (0x510, 12 bytes with DMA). */
  fwCfgPort: number;
  /** PCI INTx links may use these ISA IRQs (QEMU: 5, 10, 11). */
  linkIrqs: readonly number[];
  /** The SCI's ISA IRQ (9). */
  sciIrq: number;
  /** CMOS drive type of floppy drives A: and B: (0: no drive). */
  floppyDrives: readonly [number, number];
  /** Bus-0 slots whose device cannot be hot-unplugged (no _EJ0): the host bridge, PIIX, VGA. */
  fixedSlots: readonly number[];
  /** The number of CPUs (a Processor object each; default 1). */
  cpus?: number;
}

export const DEFAULT_DSDT: Omit<DsdtConfig, 'belowFourG'> = {
  gpe0Base: 0xafe0, fwCfgPort: 0x510, linkIrqs: [5, 10, 11], sciIrq: 9, floppyDrives: [0, 0], fixedSlots: [0, 1, 2],
};

/** QEMU's 64-bit PCI window for a board without RAM above 4 GiB: 2 GiB at 4 GiB. */
const PCI_HOLE64_START = 0x1_0000_0000n;
const PCI_HOLE64_SIZE = 0x8000_0000n;
/** The 32-bit PCI window ends below the I/O APIC. */
const PCI_HOLE32_END = 0xfebfffff;
/** The debug port QEMU's DBUG method writes to (isa-debugcon's usual port). */
const DEBUG_PORT = 0x402;
const SLOTS = 32;
/** _DSM's "device labelling interface" (PCI Firmware Specification 3.3, §4.6.7). */
const DSM_DEVICE_LABEL_UUID = 'e5c937d0-3553-4d7a-9117-ea4d19c3434d';
const ACQUIRE_FOREVER = 0xffff;

const LINKS = ['LNKA', 'LNKB', 'LNKC', 'LNKD'];
const slotName = (slot: number): string => `S${(slot << 3).toString(16).toUpperCase().padStart(2, '0')}`;

/** \DBUG(x): writes x as hex text and a newline to the debug port, byte by byte. */
function debugMethod(): Aml {
  return scope('\\',
    opRegion('DBG', REGION_SYSTEM_IO, DEBUG_PORT, 1),
    field('DBG', FIELD_BYTE_ACC, [['DBGB', 8]]),
    method('DBUG', 1, {},
      toHexString(arg(0), local(0)),
      toBuffer(local(0), local(0)),
      subtract(sizeOf(local(0)), int(1), local(1)),
      store(int(0), local(2)),
      whileDo(lless(local(2), local(1)),
        store(derefOf(index(local(0), local(2))), aml('DBGB')),
        increment(local(2))),
      store(int(0x0a), aml('DBGB'))));
}

/**
 * The PCI hot-plug registers (src/devices/acpi-hotplug.ts) and the methods over them:
 * PCEJ(bus, slot) ejects, AIDX(bus, slot) reads the slot's ACPI index, PDSM answers
 * _DSM function 0 (which functions exist: 7 when the slot has an index) and 7 (the index
 * and an empty label), both under the BLCK mutex since BNUM selects the bus.
 */
function pciHotplugRegisters(): Aml {
  const acc = FIELD_DWORD_ACC | FIELD_WRITE_AS_ZEROS;
  const aidxOfArg4 = call('AIDX', derefOf(index(arg(4), int(0))), derefOf(index(arg(4), int(1))));
  const pdsm = method('PDSM', 5, { serialized: true },
    ifThen(lequal(arg(2), int(0)),
      store(buffer([0x00]), local(0)),
      store(int(0), local(1)),
      ifThen(lnotEqual(arg(0), uuid(DSM_DEVICE_LABEL_UUID)), ret(local(0))),
      ifThen(lless(arg(1), int(2)), ret(local(0))),
      store(aidxOfArg4, local(2)),
      // Functions 0 and 7 exist when the slot has an index (neither 0 nor all ones).
      ifThen(lnot(or(lequal(local(2), int(0)), lequal(local(2), int(0xffffffff)))),
        or(local(1), int(1), local(1)),
        or(local(1), shiftLeft(int(1), int(7)), local(1))),
      store(local(1), index(local(0), int(0))),
      ret(local(0))),
    ifThen(lequal(arg(2), int(7)),
      store(aidxOfArg4, local(2)),
      store(pkgOf(2), local(0)),
      ifThen(lnot(lor(lequal(local(2), int(0)), lequal(local(2), int(0xffffffff)))),
        store(local(2), index(local(0), int(0))),
        store(str(''), index(local(0), int(1)))),
      ret(local(0))));
  return scope('_SB.PCI0',
    opRegion('PCST', REGION_SYSTEM_IO, PCI_HOTPLUG_BASE, 0x08),
    field('PCST', acc, [['PCIU', 32], ['PCID', 32]]),
    opRegion('SEJ', REGION_SYSTEM_IO, PCI_HOTPLUG_BASE + 0x08, 0x04),
    field('SEJ', acc, [['B0EJ', 32]]),
    opRegion('BNMR', REGION_SYSTEM_IO, PCI_HOTPLUG_BASE + 0x10, 0x08),
    field('BNMR', acc, [['BNUM', 32], ['PIDX', 32]]),
    mutex('BLCK', 0),
    method('PCEJ', 2, {},
      acquire('BLCK', ACQUIRE_FOREVER),
      store(arg(0), aml('BNUM')),
      store(shiftLeft(int(1), arg(1)), aml('B0EJ')),
      release('BLCK'),
      ret(int(0))),
    method('AIDX', 2, {},
      acquire('BLCK', ACQUIRE_FOREVER),
      store(arg(0), aml('BNUM')),
      store(shiftLeft(int(1), arg(1)), aml('PIDX')),
      store(aml('PIDX'), local(0)),
      release('BLCK'),
      ret(local(0))),
    pdsm);
}

/**
 * _PRT as a method building the 128 entries: slot s = i / 4, pin p = i % 4 reaches PIRQ
 * (s + p) & 3, which is LNKD, LNKA, LNKB, LNKC for 0..3, except the PIIX4 function's INTA
 * at slot 1 (entry 4), which is the SCI (LNKS).
 */
function prt(): Aml {
  const entry = (link: string): Aml => store(pkg(int(0), int(0), aml(link), int(0)), local(4));
  return scope('PCI0', method('_PRT', 0, {},
    store(pkgOf(0x80), local(0)),
    store(int(0), local(1)),
    whileDo(lless(local(1), int(0x80)),
      store(shiftRight(local(1), int(2)), local(2)),
      store(and(add(local(1), local(2)), int(3)), local(3)),
      ifThen(lequal(local(3), int(0)), entry('LNKD')),
      ifThen(lequal(local(3), int(1)),
        ifThen(lequal(local(1), int(4)), entry('LNKS')),
        elseDo(entry('LNKA'))),
      ifThen(lequal(local(3), int(2)), entry('LNKB')),
      ifThen(lequal(local(3), int(3)), entry('LNKC')),
      store(or(shiftLeft(local(2), int(0x10)), int(0xffff)), index(local(4), int(0))),
      store(and(local(1), int(3)), index(local(4), int(1))),
      store(local(4), index(local(0), local(1))),
      increment(local(1))),
    ret(local(0))));
}

/** The PCI interrupt links over PIRQRC, and LNKS for the SCI. */
function links(cfg: DsdtConfig): Aml[] {
  const levelShared = { consumer: true, edge: false, activeLow: false, shared: true };
  const iqst = method('IQST', 1, {},
    // Routing disabled (bit 7): present but off; else present, enabled, functioning.
    ifThen(and(int(0x80), arg(0)), ret(int(0x09))),
    ret(int(0x0b)));
  const iqcr = method('IQCR', 1, { serialized: true },
    name('PRR0', resourceTemplate(extIrq(levelShared, 0))),
    // The interrupt number is the descriptor's dword at byte 5.
    createDWordField(aml('PRR0'), int(5), 'PRRI'),
    ifThen(lless(arg(0), int(0x80)), store(arg(0), aml('PRRI'))),
    ret(aml('PRR0')));
  const link = (n: string, uid: number, prq: string): Aml => device(n,
    name('_HID', eisaId('PNP0C0F')), name('_UID', int(uid)),
    name('_PRS', resourceTemplate(extIrq(levelShared, ...cfg.linkIrqs))),
    method('_STA', 0, {}, ret(call('IQST', aml(prq)))),
    method('_DIS', 0, {}, or(aml(prq), int(0x80), aml(prq))),
    method('_CRS', 0, {}, ret(call('IQCR', aml(prq)))),
    method('_SRS', 1, {}, createDWordField(arg(0), int(5), 'PRRI'), store(aml('PRRI'), aml(prq))));
  const lnks = device('LNKS',
    name('_HID', eisaId('PNP0C0F')), name('_UID', int(4)),
    name('_PRS', resourceTemplate(extIrq(levelShared, cfg.sciIrq))),
    method('_STA', 0, {}, ret(int(0x0b))),
    method('_DIS', 0, {}),
    method('_CRS', 0, {}, ret(aml('_PRS'))),
    method('_SRS', 1, {}));
  return [iqst, iqcr, ...LINKS.map((n, i) => link(n, i, `PRQ${i}`)), lnks];
}

function hpet(): Aml {
  return scope('_SB', device('HPET',
    name('_HID', eisaId('PNP0103')), name('_UID', int(0)),
    opRegion('HPTM', REGION_SYSTEM_MEMORY, HPET_BASE, HPET_LEN),
    field('HPTM', FIELD_DWORD_ACC | FIELD_LOCK, [['VEND', 32], ['PRD', 32]]),
    // Present only if the vendor ID and the period look like an HPET's.
    method('_STA', 0, {},
      store(aml('VEND'), local(0)),
      store(aml('PRD'), local(1)),
      shiftRight(local(0), int(0x10), local(0)),
      ifThen(lor(lequal(local(0), int(0)), lequal(local(0), int(0xffff))), ret(int(0))),
      ifThen(lor(lequal(local(1), int(0)), lgreater(local(1), int(100_000_000))), ret(int(0))),
      ret(int(0x0f))),
    name('_CRS', resourceTemplate(memory32Fixed(false, HPET_BASE, HPET_LEN)))));
}

/**
 * The CPU hot-plug registers (PRES: CSEL selects a CPU, CPEN/CINS/CRMV/CEJ0 its flags,
 * CCMD/CDAT a command and its data) and the processor container: CSTA is a CPU's _STA,
 * CEJ0 ejects, CSCN (run by GPE 2) collects CPUs with insert events and notifies them,
 * COST forwards _OST, CTFY notifies a CPU by number.
 */
function cpus(n: number): Aml {
  const P = '\\_SB.PCI0.PRES.';
  const lock = acquire(`${P}CPLK`, ACQUIRE_FOREVER);
  const unlock = release(`${P}CPLK`);
  const pres = device('\\_SB.PCI0.PRES',
    name('_HID', eisaId('PNP0A06')), name('_UID', str('CPU Hotplug resources')),
    mutex('CPLK', 0),
    name('_CRS', resourceTemplate(ioPort(CPU_HOTPLUG_BASE, CPU_HOTPLUG_BASE, 0x01, CPU_HOTPLUG_LEN))),
    opRegion('PRST', REGION_SYSTEM_IO, CPU_HOTPLUG_BASE, CPU_HOTPLUG_LEN),
    field('PRST', FIELD_BYTE_ACC | FIELD_WRITE_AS_ZEROS,
      [['', 32], ['CPEN', 1], ['CINS', 1], ['CRMV', 1], ['CEJ0', 1], ['CEJF', 1], ['', 3], ['CCMD', 8]]),
    field('PRST', FIELD_DWORD_ACC, [['CSEL', 32], ['', 32], ['CDAT', 32]]),
    method('_INI', 0, { serialized: true }, store(int(0), aml('CSEL'))));
  const cscn = method('CSCN', 0, { serialized: true },
    lock,
    name('CNEW', pkgOf(0xff)),
    store(int(0), local(3)),
    store(int(1), local(4)),
    whileDo(lequal(local(4), int(1)),
      store(int(0), local(4)),
      store(int(1), local(0)),
      store(int(0), local(1)),
      whileDo(land(lequal(local(0), int(1)), lless(local(3), int(n))),
        store(int(0), local(0)),
        store(local(3), aml(`${P}CSEL`)),
        store(int(0), aml(`${P}CCMD`)),
        ifThen(lless(aml(`${P}CDAT`), local(3)), breakOp),
        ifThen(lequal(local(1), int(0xff)), store(int(1), local(4)), breakOp),
        store(aml(`${P}CDAT`), local(3)),
        ifThen(lequal(aml(`${P}CINS`), int(1)),
          store(local(3), index(aml('CNEW'), local(1))),
          increment(local(1)),
          store(int(1), local(0))),
        elseDo(ifThen(lequal(aml(`${P}CRMV`), int(1)),
          call('CTFY', local(3), int(3)),
          store(int(1), aml(`${P}CRMV`)),
          store(int(1), local(0)))),
        increment(local(3))),
      store(int(0), local(2)),
      whileDo(lless(local(2), local(1)),
        store(derefOf(index(aml('CNEW'), local(2))), local(3)),
        call('CTFY', local(3), int(1)),
        store(local(3), debugObj),
        store(local(3), aml(`${P}CSEL`)),
        store(int(1), aml(`${P}CINS`)),
        increment(local(2)))),
    unlock);
  // Each CPU's local APIC entry of the MADT (type 0, length 8, ACPI id = APIC id, enabled);
  // the APs can be ejected (_EJ0), CPU 0 cannot (QEMU's build_cpus_aml).
  const cpuObject = (i: number): Aml => {
    const cname = `C${i.toString(16).toUpperCase().padStart(3, '0')}`;
    return processor(cname, i, 0, 0,
      method('_STA', 0, { serialized: true }, ret(call('CSTA', int(i)))),
      name('_MAT', buffer([0x00, 0x08, i, i, 0x01, 0x00, 0x00, 0x00])),
      ...(i === 0 ? [] : [method('_EJ0', 1, {}, call('CEJ0', int(i)))]),
      method('_OST', 3, { serialized: true }, call('COST', int(i), arg(0), arg(1), arg(2))));
  };
  const ids = Array.from({ length: n }, (_, i) => i);
  const container = device('\\_SB.CPUS',
    name('_HID', str('ACPI0010')), name('_CID', eisaId('PNP0A05')),
    method('CTFY', 2, {}, ...ids.map((i) => ifThen(lequal(arg(0), int(i)), notify(aml(`C${i.toString(16).toUpperCase().padStart(3, '0')}`), arg(1))))),
    method('CSTA', 1, { serialized: true },
      lock,
      store(arg(0), aml(`${P}CSEL`)),
      store(int(0), local(0)),
      ifThen(lequal(aml(`${P}CPEN`), int(1)), store(int(0x0f), local(0))),
      unlock,
      ret(local(0))),
    method('CEJ0', 1, { serialized: true },
      lock,
      store(arg(0), aml(`${P}CSEL`)),
      store(int(1), aml(`${P}CEJ0`)),
      unlock),
    cscn,
    method('COST', 4, { serialized: true },
      lock,
      store(arg(0), aml(`${P}CSEL`)),
      store(int(1), aml(`${P}CCMD`)),
      store(arg(1), aml(`${P}CDAT`)),
      store(int(2), aml(`${P}CCMD`)),
      store(arg(2), aml(`${P}CDAT`)),
      unlock),
    ...ids.map(cpuObject));
  return aml(
    scope('_SB', pres, container),
    method('\\_GPE._E02', 0, {}, call('\\_SB.CPUS.CSCN')));
}

function pciRootResources(cfg: DsdtConfig): Aml {
  return scope('\\_SB.PCI0',
    name('_CRS', resourceTemplate(
      wordBusNumber(0x00, 0xff),
      ioPort(0x0cf8, 0x0cf8, 0x01, 0x08),
      wordIo(0x0000, 0x0cf7),
      wordIo(0x0d00, 0xffff),
      dwordMemory(true, 0x000a0000, 0x000bffff),
      dwordMemory(false, cfg.belowFourG, PCI_HOLE32_END),
      qwordMemory(true, PCI_HOLE64_START, PCI_HOLE64_START + PCI_HOLE64_SIZE - 1n),
    )),
    device('GPE0',
      name('_HID', str('PNP0A06')), name('_UID', str('GPE0 resources')), name('_STA', int(0x0b)),
      name('_CRS', resourceTemplate(ioPort(cfg.gpe0Base, cfg.gpe0Base, 0x01, 0x04)))),
    device('PHPR',
      name('_HID', str('PNP0A06')), name('_UID', str('PCI Hotplug resources')), name('_STA', int(0x0b)),
      name('_CRS', resourceTemplate(ioPort(PCI_HOTPLUG_BASE, PCI_HOTPLUG_BASE, 0x01, PCI_HOTPLUG_LEN)))));
}

function sleepStates(): Aml {
  return scope('\\',
    name('_S3', pkg(int(1), int(1), int(0), int(0))),
    name('_S4', pkg(int(2), int(2), int(0), int(0))),
    name('_S5', pkg(int(0), int(0), int(0), int(0))));
}

function fwCfg(cfg: DsdtConfig): Aml {
  return scope('\\_SB.PCI0', device('FWCF',
    name('_HID', str('QEMU0002')), name('_STA', int(0x0b)),
    name('_CRS', resourceTemplate(ioPort(cfg.fwCfgPort, cfg.fwCfgPort, 0x01, 0x0c)))));
}

/**
 * FDC0 (PNP0700): the controller is always there, as on QEMU's pc machine, with a FLPx
 * device per drive (_FDI: the drive's limits and the usual diskette parameter bytes) and
 * _FDE (ACPI 6.4 §9.9.1: drives A-D present or not, then the tape: 2, not present).
 */
function floppyController(drives: readonly [number, number]): Aml {
  const flp = drives.flatMap((type, unit): Aml[] => {
    const lim = FLOPPY_DRIVE_LIMITS[type];
    if (!lim) return [];
    // Drive number, type, limits, then the diskette parameter table (SRT/HUT, HLT/DMA,
    // motor-off delay, 512-byte sectors, EOT 18, gap, data length, format gap, fill byte,
    // head settle, motor start), the same for every drive on QEMU.
    const fdi = [unit, type, lim.maxCylinder, lim.maxSector, lim.maxHead, 0xaf, 0x02, 0x25, 0x02, 0x12, 0x1b, 0xff, 0x6c, 0xf6, 0x0f, 0x08];
    return [device(`FLP${'AB'[unit]}`, name('_ADR', int(unit)), name('_FDI', pkg(...fdi.map((v) => int(v)))))];
  });
  const fde = [drives[0] ? 1 : 0, drives[1] ? 1 : 0, 0, 0, 2].flatMap((v) => [v, 0, 0, 0]);
  return device('FDC0', name('_HID', eisaId('PNP0700')),
    name('_CRS', resourceTemplate(ioPort(0x3f2, 0x3f2, 0x00, 0x04), ioPort(0x3f7, 0x3f7, 0x00, 0x01), irqNoFlags(6), dmaCompat8(2))),
    ...flp,
    name('_FDE', buffer(fde)));
}

/** The ISA devices behind the PIIX3 (slot 1), and its PIRQ routing registers. */
function isaDevices(cfg: DsdtConfig): Aml[] {
  return [
    // PIIX3 PIRQRC[A:D] (config 0x60-0x63): bit 7 disables the route, bits 3:0 the IRQ.
    opRegion('P40C', REGION_PCI_CONFIG, 0x60, 0x04),
    scope('\\_SB', field('PCI0.S08.P40C', FIELD_BYTE_ACC, [['PRQ0', 8], ['PRQ1', 8], ['PRQ2', 8], ['PRQ3', 8]])),
    device('KBD', name('_HID', eisaId('PNP0303')), name('_STA', int(0x0f)),
      name('_CRS', resourceTemplate(ioPort(0x60, 0x60, 0x01, 0x01), ioPort(0x64, 0x64, 0x01, 0x01), irqNoFlags(1)))),
    device('MOU', name('_HID', eisaId('PNP0F13')), name('_STA', int(0x0f)),
      name('_CRS', resourceTemplate(irqNoFlags(12)))),
    floppyController(cfg.floppyDrives),
    device('COM1', name('_HID', eisaId('PNP0501')), name('_UID', int(1)), name('_STA', int(0x0f)),
      name('_CRS', resourceTemplate(ioPort(0x3f8, 0x3f8, 0x00, 0x08), irqNoFlags(4)))),
    device('RTC', name('_HID', eisaId('PNP0B00')),
      name('_CRS', resourceTemplate(ioPort(0x70, 0x70, 0x01, 0x08), irqNoFlags(8)))),
  ];
}

/**
 * The 32 slots of bus 0 (BSEL 0): each with _ADR, its slot number (ASUN) and _DSM through
 * PDSM; a hot-pluggable slot also has _SUN and _EJ0. Then DVNT(bitmap, event) notifies
 * the hot-pluggable slots in the bitmap, and PCNT reads the up/down events.
 */
function slots(cfg: DsdtConfig): Aml {
  const hotplug = (s: number) => s >= 3 || !cfg.fixedSlots.includes(s);
  const devs: Aml[] = [];
  for (let s = 0; s < SLOTS; s++) {
    const body: Aml[] = [
      name('_ADR', int(s << 16)),
      name('ASUN', int(s)),
      method('_DSM', 4, { serialized: true },
        store(pkg(aml('BSEL'), aml('ASUN')), local(0)),
        ret(call('PDSM', arg(0), arg(1), arg(2), arg(3), local(0)))),
    ];
    if (hotplug(s)) {
      body.push(name('_SUN', int(s)), method('_EJ0', 1, {}, call('PCEJ', aml('BSEL'), aml('_SUN'))));
    }
    if (s === 1) body.push(...isaDevices(cfg));
    if (s === 2 && !hotplug(s)) {
      body.push(method('_S1D', 0, {}, ret(int(0))), method('_S2D', 0, {}, ret(int(0))), method('_S3D', 0, {}, ret(int(0))));
    }
    devs.push(device(slotName(s), ...body));
  }
  const dvnt = method('DVNT', 2, {},
    ...Array.from({ length: SLOTS }, (_, s) => s).filter(hotplug).map((s) =>
      ifThen(and(arg(0), int((1 << s) >>> 0)), notify(aml(slotName(s)), arg(1)))));
  const pcnt = method('PCNT', 0, {},
    store(int(0), aml('BNUM')),
    call('DVNT', aml('PCIU'), int(1)),
    call('DVNT', aml('PCID'), int(3)));
  return scope('\\_SB', scope('PCI0', name('BSEL', int(0)), ...devs, dvnt, pcnt));
}

/** GPE 1: PCI hot-plug events. */
function pciHotplugGpe(): Aml {
  return scope('_GPE', method('_E01', 0, {},
    acquire('\\_SB.PCI0.BLCK', ACQUIRE_FOREVER),
    call('\\_SB.PCI0.PCNT'),
    release('\\_SB.PCI0.BLCK')));
}

/** The DSDT's AML body (the table header is added by the table builder). */
export function buildDsdtAml(cfg: DsdtConfig): Uint8Array {
  const body = aml(
    debugMethod(),
    scope('_SB', device('PCI0', name('_HID', eisaId('PNP0A03')), name('_ADR', int(0)), name('_UID', int(0)))),
    pciHotplugRegisters(),
    scope('_SB', prt(), ...links(cfg)),
    hpet(),
    scope('_GPE', name('_HID', str('ACPI0006'))),
    cpus(cfg.cpus ?? 1),
    pciRootResources(cfg),
    sleepStates(),
    fwCfg(cfg),
    slots(cfg),
    pciHotplugGpe(),
  );
  return Uint8Array.from(body);
}
