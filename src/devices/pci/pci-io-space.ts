// Relocatable port ranges (PCI I/O BARs, the PIIX4 PMBA/SMBus bases). The IoBus is a
// fixed table that devices claim at construction and never release, so this helper
// claims a port the first time something is mapped there and keeps a trampoline on it;
// when the range moves away the trampoline answers like an unclaimed port (all ones,
// writes dropped). Ports that a fixed device already owns are never taken over: the
// fixed device keeps decoding them (on real hardware that is a decode conflict).
import type { IoBus, PortHandler } from '../io-bus.js';

/** A device register block addressed by offset from its base (MemoryRegionOps-like). */
export interface RegisterBlock {
  read(offset: number, size: number): number;
  write(offset: number, value: number, size: number): void;
}

interface PortMapping {
  readonly base: number;
  readonly size: number;
  readonly block: RegisterBlock;
  readonly name: string;
}

export interface IoMappingInfo {
  name: string;
  base: number;
  size: number;
  /** Ports of the range that a fixed device owns and that this mapping therefore misses. */
  conflicts: number;
}

function allOnes(size: number): number {
  return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
}

export class DynamicIoSpace {
  private readonly owner: (PortMapping | undefined)[] = new Array<PortMapping | undefined>(0x10000);
  private readonly claimed = new Uint8Array(0x10000);
  private readonly mappings = new Map<RegisterBlock, PortMapping & { conflicts: number }>();
  private readonly trampoline: PortHandler = {
    read: (port, size) => {
      const m = this.owner[port];
      return m ? m.block.read(port - m.base, size) : allOnes(size);
    },
    write: (port, value, size) => {
      const m = this.owner[port];
      if (m) m.block.write(port - m.base, value, size);
    },
  };

  constructor(private readonly io: IoBus, private readonly claimName = 'pci-io') {}

  /** Decode [base, base+size) to `block` (replacing an earlier mapping of the same block). */
  map(base: number, size: number, block: RegisterBlock, name: string): void {
    this.unmap(block);
    base &= 0xffff;
    const m = { base, size, block, name, conflicts: 0 };
    let runStart = -1;
    const flush = (end: number) => {
      if (runStart >= 0) this.io.register(runStart, end - runStart, this.trampoline, this.claimName);
      runStart = -1;
    };
    for (let p = base; p < base + size && p < 0x10000; p++) {
      if (!this.claimed[p]) {
        if (this.io.ownerOf(p) !== undefined) {
          flush(p);
          m.conflicts++;
          continue;
        }
        this.claimed[p] = 1;
        if (runStart < 0) runStart = p;
      } else flush(p);
      this.owner[p] = m;
    }
    flush(Math.min(base + size, 0x10000));
    this.mappings.set(block, m);
  }

  unmap(block: RegisterBlock): void {
    const m = this.mappings.get(block);
    if (!m) return;
    for (let p = m.base; p < m.base + m.size && p < 0x10000; p++) if (this.owner[p] === m) this.owner[p] = undefined;
    this.mappings.delete(block);
  }

  /** Where `block` is decoded now, or null. */
  where(block: RegisterBlock): IoMappingInfo | null {
    const m = this.mappings.get(block);
    return m ? { name: m.name, base: m.base, size: m.size, conflicts: m.conflicts } : null;
  }

  info(): IoMappingInfo[] {
    return [...this.mappings.values()]
      .map((m) => ({ name: m.name, base: m.base, size: m.size, conflicts: m.conflicts }))
      .sort((a, b) => a.base - b.base);
  }
}
