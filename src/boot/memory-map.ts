// The memory map a direct boot reports (multiboot mmap, Linux e820): what SeaBIOS reports
// under QEMU 7.2 for the same RAM size, measured with the entry-state guest: conventional
// memory up to the EBDA, the EBDA, the BIOS ROM window, RAM above 1 MiB except its last
// 128 KiB (which SeaBIOS reserves for the tables it builds), and the BIOS at 4 GiB.
export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface MemoryMapEntry {
  readonly base: number;
  readonly length: number;
  readonly type: number;
}

/** The reserved block at the top of RAM that holds firmware tables. */
export const TOP_RESERVED = 0x20000;

export function directBootMemoryMap(ramSize: number): MemoryMapEntry[] {
  return [
    { base: 0, length: 0x9fc00, type: E820_RAM },
    { base: 0x9fc00, length: 0x400, type: E820_RESERVED },
    { base: 0xf0000, length: 0x10000, type: E820_RESERVED },
    { base: 0x100000, length: ramSize - 0x100000 - TOP_RESERVED, type: E820_RAM },
    { base: ramSize - TOP_RESERVED, length: TOP_RESERVED, type: E820_RESERVED },
    { base: 0xfffc0000, length: 0x40000, type: E820_RESERVED },
  ];
}

/** mem_upper: KiB of RAM from 1 MiB up to the first hole, as the BIOS's E801 counts it. */
export function upperMemoryKib(map: readonly MemoryMapEntry[]): number {
  const high = map.find((e) => e.base === 0x100000 && e.type === E820_RAM);
  return high ? high.length >>> 10 : 0;
}
