// The two 8237A DMA controllers of the PC (Intel 8237A datasheet; what software sees
// follows QEMU 7.2's hw/dma/i8257.c, measured with tests/guests/disk/fd-probe.asm):
// channels 0-3 (8-bit) at 0x00-0x0F and channels 4-7 (16-bit, ports two apart) at
// 0xC0-0xDF, page registers at 0x81-0x83/0x87 and 0x89-0x8B/0x8F. A device on a channel
// holds DREQ while it wants to transfer; the transfer runs, all of it at once, as soon as
// the channel is unmasked (QEMU runs it from a bottom half, before the guest looks).
import type { IoBus, PortHandler } from './io-bus.js';
import type { PhysicalMemory } from '../memory/physical-memory.js';

const MODE_AUTOINIT = 0x10;
const MODE_DECREMENT = 0x20;

interface ChannelState {
  baseAddr: number;
  baseCount: number;
  /** Address at the start of the block (the base, or where autoinit left it). */
  nowAddr: number;
  /** Bytes moved in this block. */
  nowCount: number;
  mode: number;
  page: number;
}

interface ControllerState {
  channels: ChannelState[];
  flipFlop: boolean;
  mask: number;
  status: number;
  command: number;
  /** DREQ held by devices (bit per channel). */
  dreq: number;
}

/**
 * What a device on a channel does when the 8237 runs its transfer: move bytes from
 * `pos` on (of a block of `size` bytes) and return the position reached.
 */
export type DmaTransferHandler = (pos: number, size: number) => number;

export interface IsaDmaState {
  controllers: ControllerState[];
}

// Page register ports per channel (0-3 on the first controller, 4-7 on the second).
const PAGE_PORTS = [0x87, 0x83, 0x81, 0x82, 0x8f, 0x8b, 0x89, 0x8a];

function freshChannel(): ChannelState {
  return { baseAddr: 0, baseCount: 0, nowAddr: 0, nowCount: 0, mode: 0, page: 0 };
}

function freshController(): ControllerState {
  return { channels: [0, 1, 2, 3].map(freshChannel), flipFlop: false, mask: 0x0f, status: 0, command: 0, dreq: 0 };
}

export class IsaDma {
  private c: [ControllerState, ControllerState] = [freshController(), freshController()];
  private readonly handlers = new Map<number, DmaTransferHandler>();
  private running = false;

  constructor(io: IoBus, private readonly phys: PhysicalMemory, private readonly onMemoryWrite: (pa: number, len: number) => void = () => {}) {
    for (const ctl of [0, 1] as const) {
      const shift = ctl;
      const base = ctl === 0 ? 0x00 : 0xc0;
      const h: PortHandler = {
        read: (port) => this.readReg(ctl, (port - base) >> shift),
        write: (port, v) => this.writeReg(ctl, (port - base) >> shift, v & 0xff),
      };
      io.register(base, 16 << shift, h, ctl ? 'dma2' : 'dma1');
    }
    PAGE_PORTS.forEach((port, n) => {
      io.register(port, 1, {
        read: () => this.c[n >> 2]!.channels[n & 3]!.page,
        write: (_p, v) => { this.c[n >> 2]!.channels[n & 3]!.page = v & 0xff; },
      }, 'dma-page');
    });
  }

  reset(): void {
    const dreq = [this.c[0].dreq, this.c[1].dreq];
    this.c = [freshController(), freshController()];
    this.c[0].dreq = dreq[0]!;
    this.c[1].dreq = dreq[1]!;
  }

  /** The device on channel `n` (0-7). */
  register(n: number, handler: DmaTransferHandler): void {
    this.handlers.set(n, handler);
  }

  /** The transfer mode bits of channel n (for a device that checks the direction: QEMU's get_transfer_mode). */
  mode(n: number): number {
    return this.c[n >> 2]!.channels[n & 3]!.mode;
  }

  holdDreq(n: number): void {
    this.c[n >> 2]!.dreq |= 1 << (n & 3);
    this.c[n >> 2]!.status |= 1 << ((n & 3) + 4);
    this.run();
  }

  releaseDreq(n: number): void {
    this.c[n >> 2]!.dreq &= ~(1 << (n & 3));
    this.c[n >> 2]!.status &= ~(1 << ((n & 3) + 4));
  }

  /** Guest memory address of byte `pos` of channel n's block. */
  private address(n: number, pos: number): number {
    const ch = this.c[n >> 2]!.channels[n & 3]!;
    const dir = ch.mode & MODE_DECREMENT ? -1 : 1;
    if (n < 4) return ((ch.page << 16) + ((ch.nowAddr + dir * pos) & 0xffff)) >>> 0;
    // 16-bit channels count words; the page's low bit is not used.
    return (((ch.page & 0xfe) << 16) + ((((ch.nowAddr + dir * (pos >> 1)) & 0xffff) << 1) | (pos & 1))) >>> 0;
  }

  /** Copy `data` into guest memory at byte `pos` of channel n's block (a device-to-memory transfer). */
  writeMemory(n: number, data: Uint8Array, pos: number): void {
    for (let i = 0; i < data.length; i++) this.phys.write8(this.address(n, pos + i), data[i]!);
    this.onMemoryWrite(this.address(n, pos), data.length);
  }

  /** Fill `out` from guest memory at byte `pos` of channel n's block. */
  readMemory(n: number, out: Uint8Array, pos: number): void {
    for (let i = 0; i < out.length; i++) out[i] = this.phys.read8(this.address(n, pos + i));
  }

  /** Run every channel with DREQ held and not masked (QEMU's i8257_dma_run). */
  private run(): void {
    if (this.running) return;
    this.running = true;
    try {
      for (let n = 0; n < 8; n++) {
        const ctl = this.c[n >> 2]!;
        const bit = 1 << (n & 3);
        if (!(ctl.dreq & bit) || ctl.mask & bit || (n >= 4 && this.c[0].mask & 0x10)) continue;
        const h = this.handlers.get(n);
        if (!h) continue;
        const ch = ctl.channels[n & 3]!;
        const size = (ch.baseCount + 1) << (n >> 2);
        const pos = h(ch.nowCount, size);
        ch.nowCount = Math.min(pos, size);
        if (ch.nowCount >= size) {
          ctl.status |= bit; // terminal count
          if (ch.mode & MODE_AUTOINIT) {
            ch.nowCount = 0;
            ch.nowAddr = ch.baseAddr;
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private readReg(ctl: 0 | 1, reg: number): number {
    const d = this.c[ctl];
    if (reg < 8) {
      const ch = d.channels[reg >> 1]!;
      const dir = ch.mode & MODE_DECREMENT ? -1 : 1;
      const units = d === this.c[1] ? ch.nowCount >> 1 : ch.nowCount;
      const v = reg & 1 ? ch.baseCount - units : ch.nowAddr + units * dir;
      const ff = d.flipFlop;
      d.flipFlop = !ff;
      return (v >> (ff ? 8 : 0)) & 0xff;
    }
    switch (reg) {
      case 8: { // status: terminal counts (cleared by the read) and requests
        const v = d.status;
        d.status &= 0xf0;
        return v;
      }
      case 15: return d.mask; // QEMU reads the mask back here
      default: return 0;
    }
  }

  private writeReg(ctl: 0 | 1, reg: number, v: number): void {
    const d = this.c[ctl];
    if (reg < 8) {
      const ch = d.channels[reg >> 1]!;
      const shift = d.flipFlop ? 8 : 0;
      if (reg & 1) ch.baseCount = (ch.baseCount & ~(0xff << shift)) | (v << shift);
      else ch.baseAddr = (ch.baseAddr & ~(0xff << shift)) | (v << shift);
      d.flipFlop = !d.flipFlop;
      // QEMU's init_chan: the block starts again from the base.
      ch.nowAddr = ch.baseAddr;
      ch.nowCount = 0;
      return;
    }
    switch (reg) {
      case 8: d.command = v; break;
      case 9: // request register
        if (v & 4) d.status |= 1 << ((v & 3) + 4);
        else d.status &= ~(1 << ((v & 3) + 4));
        break;
      case 10: // single mask bit
        if (v & 4) d.mask |= 1 << (v & 3);
        else {
          d.mask &= ~(1 << (v & 3));
          this.run();
        }
        break;
      case 11: d.channels[v & 3]!.mode = v & 0xfc; break;
      case 12: d.flipFlop = false; break;
      case 13: // master clear: the channels keep their registers
        d.command = 0;
        d.status = 0;
        d.mask = 0x0f;
        d.flipFlop = false;
        break;
      case 14: d.mask = 0; this.run(); break;
      case 15: d.mask = v & 0x0f; this.run(); break;
    }
  }

  saveState(): IsaDmaState {
    return { controllers: this.c.map((d) => ({ ...d, channels: d.channels.map((ch) => ({ ...ch })) })) };
  }

  loadState(s: IsaDmaState): void {
    this.c = s.controllers.map((d) => ({ ...d, channels: d.channels.map((ch) => ({ ...ch })) })) as [ControllerState, ControllerState];
  }
}
