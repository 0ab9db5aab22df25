import { describe, it, expect } from 'vitest';
import { IoBus } from '../../src/devices/io-bus.js';
import { PhysicalMemory } from '../../src/memory/physical-memory.js';
import {
  FwCfg, FW_CFG_SIGNATURE, FW_CFG_ID, FW_CFG_FILE_DIR, FW_CFG_NB_CPUS, FW_CFG_RAM_SIZE, FW_CFG_E820_TABLE,
  FW_CFG_KERNEL_ADDR, FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA, FW_CFG_CMDLINE_DATA, FW_CFG_CMDLINE_SIZE,
  FW_CFG_NOGRAPHIC, E820_RAM, E820_RESERVED,
} from '../../src/devices/fw-cfg.js';

function setup(opts: { dma?: boolean } = {}) {
  const io = new IoBus();
  const phys = new PhysicalMemory(1 << 20);
  const ram = phys.allocate('ram', 1 << 20);
  phys.mapDirect(0, 1 << 20, ram, 0, true, true);
  const dmaWrites: [number, number][] = [];
  const fw = new FwCfg(io, { phys, dma: opts.dma, onDmaWrite: (p, l) => dmaWrites.push([p, l]) });
  const select = (key: number) => io.write(0x510, key, 2);
  const readBytes = (n: number) => Array.from({ length: n }, () => io.read(0x511, 1));
  const text = (n: number) => String.fromCharCode(...readBytes(n));
  /** Start a DMA transfer with the FWCfgDmaAccess at `at` (as SeaBIOS: two BE halves). */
  const dma = (at: number, control: number, length: number, address: number) => {
    const dv = new DataView(phys.buffer, ram.offset + at, 16);
    dv.setUint32(0, control, false);
    dv.setUint32(4, length, false);
    dv.setUint32(8, 0, false);
    dv.setUint32(12, address, false);
    const bswap = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
    io.write(0x514, bswap(0), 4);
    io.write(0x518, bswap(at), 4);
    return dv.getUint32(0, false);
  };
  return { io, phys, ram, fw, select, readBytes, text, dma, dmaWrites };
}

describe('fw_cfg (port interface)', () => {
  it('signature "QEMU" and the ID with the DMA bit', () => {
    const { select, text, readBytes } = setup();
    select(FW_CFG_SIGNATURE);
    expect(text(4)).toBe('QEMU');
    select(FW_CFG_ID);
    expect(readBytes(4)).toEqual([3, 0, 0, 0]);
    const nodma = setup({ dma: false });
    nodma.select(FW_CFG_ID);
    expect(nodma.readBytes(4)).toEqual([1, 0, 0, 0]);
    expect(nodma.io.read(0x514, 1)).toBe(0xff); // no DMA port
  });

  it('reset selects the signature; reading past the end returns zeros', () => {
    const { io, select, readBytes } = setup();
    expect(io.read(0x511, 1)).toBe(0x51);
    select(FW_CFG_SIGNATURE);
    expect(readBytes(6)).toEqual([0x51, 0x45, 0x4d, 0x55, 0, 0]);
    select(0x3fff); // no such item
    expect(readBytes(2)).toEqual([0, 0]);
  });

  it('a byte read at the selector port reads data; wider reads are invalid', () => {
    const { io, select } = setup();
    select(FW_CFG_SIGNATURE);
    expect(io.read(0x510, 1)).toBe(0x51);
    expect(io.read(0x511, 1)).toBe(0x45);
    expect(io.read(0x510, 2)).toBe(0); // as QEMU 7.2
    io.write(0x511, 0x00, 1); // data writes are ignored
    expect(io.read(0x511, 1)).toBe(0x4d);
  });

  it('integers are little-endian: NB_CPUS, RAM_SIZE, NOGRAPHIC', () => {
    const { fw, select, readBytes } = setup();
    fw.addI16(FW_CFG_NB_CPUS, 1);
    fw.addI64(FW_CFG_RAM_SIZE, 0x8000000);
    select(FW_CFG_NB_CPUS);
    expect(readBytes(2)).toEqual([1, 0]);
    select(FW_CFG_RAM_SIZE);
    expect(readBytes(8)).toEqual([0, 0, 0, 8, 0, 0, 0, 0]);
    select(FW_CFG_NOGRAPHIC);
    expect(readBytes(2)).toEqual([1, 0]);
  });

  it('the file directory lists files sorted by name, big-endian, 32 slots', () => {
    const { fw, select, readBytes } = setup();
    fw.addFile('genroms/multiboot_dma.bin', new Uint8Array(1024));
    fw.addFile('etc/e820', new Uint8Array(20));
    expect(fw.fileKey('etc/boot-fail-wait')).toBe(0x20);
    expect(fw.fileKey('etc/e820')).toBe(0x21);
    expect(fw.fileKey('genroms/multiboot_dma.bin')).toBe(0x22);
    select(FW_CFG_FILE_DIR);
    const dir = readBytes(4 + 64 * 3);
    const dv = new DataView(Uint8Array.from(dir).buffer);
    expect(dv.getUint32(0, false)).toBe(3);
    const entry = (i: number) => ({
      size: dv.getUint32(4 + 64 * i, false),
      select: dv.getUint16(8 + 64 * i, false),
      name: String.fromCharCode(...dir.slice(12 + 64 * i, 12 + 64 * i + 56)).replace(/\0+$/, ''),
    });
    expect(entry(0)).toEqual({ size: 4, select: 0x20, name: 'etc/boot-fail-wait' });
    expect(entry(1)).toEqual({ size: 20, select: 0x21, name: 'etc/e820' });
    expect(entry(2)).toEqual({ size: 1024, select: 0x22, name: 'genroms/multiboot_dma.bin' });
    expect(fw.item(FW_CFG_FILE_DIR)!.length).toBe(4 + 64 * 32);
    select(0x20);
    expect(readBytes(4)).toEqual([0xff, 0xff, 0xff, 0xff]); // boot-fail-wait -1
  });

  it('e820: the file and the legacy table with reserved entries only', () => {
    const { fw, select, readBytes } = setup();
    fw.setE820([{ address: 0, length: 0x8000000, type: E820_RAM }, { address: 0xfeffc000, length: 0x4000, type: E820_RESERVED }]);
    select(fw.fileKey('etc/e820')!);
    const e = readBytes(40);
    expect(e.slice(0, 20)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 1, 0, 0, 0]);
    select(FW_CFG_E820_TABLE);
    const legacy = readBytes(24);
    expect(legacy.slice(0, 4)).toEqual([1, 0, 0, 0]);
    expect(legacy.slice(4, 12)).toEqual([0x00, 0xc0, 0xff, 0xfe, 0, 0, 0, 0]);
    expect(fw.item(FW_CFG_E820_TABLE)!.length).toBe(4 + 16 * 20);
  });

  it('kernel, command line and boot order items as QEMU passes -kernel/-append', () => {
    const { fw, select, readBytes, text } = setup();
    fw.setKernelItems({ kernelAddr: 0x100000, kernel: Uint8Array.of(1, 2, 3), cmdline: 'console=ttyS0' });
    fw.setBootOrder(['/rom@genroms/multiboot_dma.bin']);
    select(FW_CFG_KERNEL_ADDR);
    expect(readBytes(4)).toEqual([0, 0, 0x10, 0]);
    select(FW_CFG_KERNEL_SIZE);
    expect(readBytes(4)).toEqual([3, 0, 0, 0]);
    select(FW_CFG_KERNEL_DATA);
    expect(readBytes(4)).toEqual([1, 2, 3, 0]);
    select(FW_CFG_CMDLINE_SIZE);
    expect(readBytes(4)).toEqual([14, 0, 0, 0]);
    select(FW_CFG_CMDLINE_DATA);
    expect(text(14)).toBe('console=ttyS0\0');
    expect(fw.item('bootorder')!.length).toBe(31);
  });
});

describe('fw_cfg (DMA interface)', () => {
  it('reads "QEMU CFG" from the DMA address register', () => {
    const { io } = setup();
    expect(io.read(0x514, 4)).toBe(0x554d4551); // bytes Q E M U
    expect(io.read(0x518, 4)).toBe(0x47464320); // bytes ' ' C F G
    expect(io.read(0x51b, 1)).toBe(0x47);
  });

  it('select + read copies an item into guest memory and clears the control word', () => {
    const { phys, dma, dmaWrites } = setup();
    const ctl = dma(0x1000, (FW_CFG_SIGNATURE << 16) | 0x08 | 0x02, 4, 0x2000);
    expect(ctl).toBe(0);
    expect([0, 1, 2, 3].map((i) => phys.read8(0x2000 + i))).toEqual([0x51, 0x45, 0x4d, 0x55]);
    expect(dmaWrites).toContainEqual([0x2000, 4]);
  });

  it('reads past the end fill zeros; skip advances the offset', () => {
    const { phys, dma, fw, select, readBytes } = setup();
    phys.write32(0x3000, 0xffffffff);
    phys.write32(0x3004, 0xffffffff);
    expect(dma(0x1000, (FW_CFG_SIGNATURE << 16) | 0x08 | 0x02, 8, 0x3000)).toBe(0);
    expect(phys.read32(0x3004)).toBe(0);
    fw.addFile('opt/test', Uint8Array.of(10, 11, 12, 13));
    const key = fw.fileKey('opt/test')!;
    expect(dma(0x1000, (key << 16) | 0x08 | 0x04, 2, 0)).toBe(0); // select + skip 2
    expect(dma(0x1000, 0x02, 2, 0x3010)).toBe(0); // read continues from offset 2
    expect([phys.read8(0x3010), phys.read8(0x3011)]).toEqual([12, 13]);
    select(key);
    expect(readBytes(1)).toEqual([10]); // selecting rewinds
  });

  it('writes only to writable items, never resizing them', () => {
    const { phys, dma, fw } = setup();
    fw.addFile('opt/ro', Uint8Array.of(1, 2));
    fw.addFile('opt/rw', Uint8Array.of(1, 2, 3, 4), { writable: true });
    phys.write32(0x4000, 0x44332211);
    expect(dma(0x1000, (fw.fileKey('opt/ro')! << 16) | 0x08 | 0x10, 2, 0x4000)).toBe(1);
    expect(dma(0x1000, (fw.fileKey('opt/rw')! << 16) | 0x08 | 0x10, 2, 0x4000)).toBe(0);
    expect(Array.from(fw.item('opt/rw')!)).toEqual([0x11, 0x22, 3, 4]);
    expect(dma(0x1000, (fw.fileKey('opt/rw')! << 16) | 0x08 | 0x10, 8, 0x4000)).toBe(1); // too long
    expect(Array.from(fw.item('opt/rw')!)).toEqual([0x11, 0x22, 3, 4]); // dropped entirely
  });

  it('a control word with no operation does nothing but clear itself', () => {
    const { dma } = setup();
    expect(dma(0x1000, 0x00, 100, 0x5000)).toBe(0);
  });
});
