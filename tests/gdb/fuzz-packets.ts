// The packets of the gdb server fuzzer (fuzz.test.ts): a seeded generator of valid
// packets with random arguments for every packet the server knows, the mutations made of
// them (bytes changed, checksums, truncation, escapes, run-length encoding, NULs, 1 MB
// packets, noise) and what each kind of packet may change.
import { REGISTERS, REGISTER_OFFSETS, G_PACKET_BYTES, TARGET_FILES } from '../../gdbstub/target-description.js';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function checksum(s: Uint8Array): number {
  let c = 0;
  for (const b of s) c = (c + b) & 0xff;
  return c;
}

/** `$payload#cs` (a wrong checksum when asked). */
export function framed(payload: string | Uint8Array, badChecksum = false): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : Buffer.from(payload);
  let cs = checksum(body);
  if (badChecksum) cs = (cs + 1) & 0xff;
  return Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${cs.toString(16).padStart(2, '0')}`)]);
}

/**
 * What serving a packet may do, from its first characters (valid or mutated alike):
 * 'read' changes nothing; 'write' changes what it names, all of it, or (error) nothing;
 * 'resume' runs the guest (the reply is a stop reply, later); 'end' ends the connection;
 * 'monitor' runs a monitor command.
 */
export type PacketClass = 'read' | 'write' | 'resume' | 'end' | 'monitor';

export function classify(payload: string): PacketClass {
  const h = payload[0];
  if (payload.startsWith('qRcmd')) return 'monitor';
  if (payload.startsWith('vKill') || h === 'D' || h === 'k') return 'end';
  if (payload.startsWith('vCont') && !payload.startsWith('vCont?')) return 'resume';
  if (h === 'c' || h === 's' || h === 'C' || h === 'S' || h === 'b') return 'resume';
  if (h === 'G' || h === 'P' || h === 'M' || h === 'X' || h === 'Z' || h === 'z' || h === 'Q') return 'write';
  // qSupported sets the session's reply formats only (multiprocess ids): no guest state.
  return 'read';
}

/** A packet to send, and for a valid write what it must have done when answered OK. */
export interface FuzzPacket {
  bytes: Buffer;
  /** The payload as the server sees it (null: never a packet: bad checksum, cut, noise). */
  payload: string | null;
  cls: PacketClass;
  /** 'valid' packets are checked for what they did; mutated ones only for doing nothing on error. */
  origin: 'valid' | 'mutated' | 'noise';
  /** For a valid write answered OK: what must now be true (null: it is). */
  applied?: () => string | null;
}

/** What the generator may read of the machine (all through the debugger's door). */
export interface FuzzView {
  /** The g block now. */
  registerBlock(): Uint8Array;
  readMemory(addr: number, len: number, physical: boolean): Uint8Array | null;
  /**
   * Which of the bytes at addr (linear or physical) hold what is written there (RAM, or
   * ROM the debugger writes): writes to holes and device pages are dropped or go to
   * the device, as QEMU's (measured: M to unassigned memory answers OK, m there E14).
   */
  keeps(addr: number, len: number, physical: boolean): boolean[];
  physical(): boolean;
  /** Breakpoints and watchpoints now, as `type:addr:kind` keys. */
  hasPoint(type: number, addr: number, kind: number): boolean;
  /** Addresses of the sample's code and data (breakpoints that will be hit). */
  symbols: number[];
}

/** Registers whose value reads back exactly as written. */
const EXACT = new Set(['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'cr2', 'fioff', 'fooff', ...Array.from({ length: 8 }, (_, i) => `xmm${i}`)]);
/** Registers that read back as the low bits written (selectors, 16-bit x87 fields, FOP). */
const MASKED: Record<string, number> = { cs: 0xffff, ss: 0xffff, ds: 0xffff, es: 0xffff, fs: 0xffff, gs: 0xffff, fctrl: 0xffff, fiseg: 0xffff, foseg: 0xffff, fop: 0x7ff };

/** What register `name` must read after `bytes` were written to it, or null where it is not known. */
function readBack(name: string, bytes: Uint8Array): Uint8Array | null {
  if (EXACT.has(name)) return bytes;
  const mask = MASKED[name];
  if (mask === undefined) return null;
  const v = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) & mask;
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
}
/** Registers whose writes keep the guest sane enough to go on running the sample. */
const TAME = ['eax', 'ecx', 'edx', 'ebx', 'esi', 'edi', 'ebp', 'xmm0', 'xmm5', 'st3', 'fop', 'fioff', 'mxcsr', 'cr2'];
const MONITOR_READS = ['info registers', 'info tlb', 'info irq', 'info pic', 'x/8x 0x100000', 'xp/4w 0x100000', 'icount', 'help', 'info breakpoints', 'info snapshots', 'frobnicate', 'x/2i $pc', 'delete 1 x'];
const MONITOR_WRITES = ['tb flush', 'physmem on', 'physmem off', 'b 0x100000', 'delete', 'system_reset', 'watch 0x100100 4'];

const TARGET_XML = Buffer.from(TARGET_FILES.get('target.xml')!, 'utf8');

export class PacketGen {
  readonly rand: () => number;

  constructor(seed: number, private readonly view: FuzzView) {
    this.rand = rng(seed);
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  hexN(digits: number): string {
    let s = '';
    for (let i = 0; i < digits; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }

  private bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }

  /** Mostly the sample's pages, sometimes anywhere in 4 GiB, sometimes past it. */
  address(): number {
    const r = this.rand();
    if (r < 0.6) return 0x100000 + this.int(0x10000);
    if (r < 0.7) return this.pick(this.view.symbols);
    if (r < 0.8) return this.int(0x1000);
    return Math.floor(this.rand() * 0x100000000);
  }

  hexAddr(): string {
    return this.rand() < 0.03 ? this.hexN(9 + this.int(8)) : this.address().toString(16);
  }

  /** A valid packet of any kind the server knows, random arguments. */
  valid(): FuzzPacket {
    const r = this.int(1000);
    if (r < 250) return this.validRead();
    if (r < 930) return this.validWrite();
    if (r < 975) return this.plain(this.validResume(), 'resume');
    if (r < 995) return this.plain(`qRcmd,${Buffer.from(this.pick(this.rand() < 0.7 ? MONITOR_READS : MONITOR_WRITES)).toString('hex')}`, 'monitor');
    return this.plain(this.pick(['D', 'D;1', 'k', 'vKill;1', 'D;2', 'vKill;2']), 'end');
  }

  private plain(payload: string, cls: PacketClass): FuzzPacket {
    return { bytes: framed(payload), payload, cls, origin: 'valid' };
  }

  validResume(): string {
    const a = (): string => (this.rand() < 0.5 ? this.pick(this.view.symbols) : this.address()).toString(16);
    return this.pick([
      'c', 'c', 's', 'C05', 'S05', 'C02', `c${a()}`, `s${a()}`, `C05;${a()}`, 'vCont;c', 'vCont;s:p1.1', 'vCont;c:-1',
      'vCont;s:1;c', 'vCont;t', 'vCont;C05', 'bs', 'bc',
    ]);
  }

  private validRead(): FuzzPacket {
    const tid = (): string => this.pick(['1', '0', '-1', 'p1.1', 'p1', 'p1.-1', 'p-1.-1', 'p0.0', 'p2.1', 'p1.2', '2', this.hexN(3)]);
    const payload = this.pick<() => string>([
      () => '?',
      () => 'g',
      () => `p${this.int(REGISTERS.length + 4).toString(16)}`,
      () => `m${this.hexAddr()},${(1 + this.int(this.rand() < 0.9 ? 0x40 : 0x2001)).toString(16)}`,
      () => this.pick(['qC', 'qfThreadInfo', 'qsThreadInfo', 'qAttached', 'qAttached:1', 'qOffsets', 'qSymbol::', 'vCont?', 'vMustReplyEmpty', 'qqemu.PhyMemMode', 'qTStatus', 'qL1200000000000000000', 'vFile:open:6a,0,0', 'jThreads', '!', 'A1,2']),
      () => `qXfer:features:read:${this.pick(['target.xml', 'i386-core.xml', 'i386-sse.xml', 'bmbt-sys.xml', 'nope.xml'])}:${this.int(0x2000).toString(16)},${(1 + this.int(0x1000)).toString(16)}`,
      () => `qXfer:${this.pick(['auxv', 'libraries', 'threads'])}:read::0,100`,
      () => `qThreadExtraInfo,${tid()}`,
      () => `H${this.pick(['g', 'c', 'm', 'x'])}${tid()}`,
      () => `T${tid()}`,
      () => `qSupported:${['multiprocess+', 'swbreak+', 'hwbreak+', 'qRelocInsn+', 'vContSupported+', 'xmlRegisters=i386', 'fork-events+'].filter(() => this.rand() < 0.6).join(';')}`,
    ])();
    return this.plain(payload, classify(payload));
  }

  private validWrite(): FuzzPacket {
    const r = this.int(100);
    if (r < 22) return this.registerWrite();
    if (r < 40) return this.allRegisters();
    if (r < 70) return this.memoryWrite();
    if (r < 97) return this.point();
    return this.plain(this.pick(['Qqemu.PhyMemMode:1', 'Qqemu.PhyMemMode:0', 'Qqemu.PhyMemMode:0', 'QStartNoAckMode', 'QNonStop:1', 'QPassSignals:0e']), 'write');
  }

  /** P n=value: a tame register most of the time, any (CR0, selectors, past the end) now and then. */
  private registerWrite(): FuzzPacket {
    const name = this.rand() < 0.8 ? this.pick(TAME) : REGISTERS[this.int(REGISTERS.length)]!.name;
    const n = this.rand() < 0.03 ? REGISTERS.length + this.int(4) : REGISTERS.findIndex((d) => d.name === name);
    const def = REGISTERS[n];
    const size = def ? def.bitsize / 8 : 4;
    const value = this.bytes(size);
    const payload = `P${n.toString(16)}=${Buffer.from(value).toString('hex')}`;
    const p = this.plain(payload, 'write');
    const want = def ? readBack(def.name, value) : null;
    if (def && want) {
      const off = REGISTER_OFFSETS[n]!;
      p.applied = () => {
        const now = this.view.registerBlock().subarray(off, off + size);
        return Buffer.compare(now, want) === 0 ? null : `P${n.toString(16)} answered OK but ${def.name} reads ${Buffer.from(now).toString('hex')}`;
      };
    }
    return p;
  }

  /** G: the block now with a few registers changed; cut on a register boundary now and then. */
  private allRegisters(): FuzzPacket {
    const block = Uint8Array.from(this.view.registerBlock());
    const changed: number[] = [];
    const k = this.int(4);
    for (let i = 0; i < k; i++) {
      const name = this.rand() < 0.85 ? this.pick(TAME) : REGISTERS[this.int(REGISTERS.length)]!.name;
      const n = REGISTERS.findIndex((d) => d.name === name);
      const def = REGISTERS[n]!;
      block.set(this.bytes(def.bitsize / 8), REGISTER_OFFSETS[n]!);
      changed.push(n);
    }
    let len = G_PACKET_BYTES;
    if (this.rand() < 0.1) len = REGISTER_OFFSETS[1 + this.int(REGISTERS.length - 1)]!;
    const data = block.subarray(0, len);
    const p = this.plain(`G${Buffer.from(data).toString('hex')}`, 'write');
    p.applied = () => {
      const now = this.view.registerBlock();
      for (const n of changed) {
        const def = REGISTERS[n]!;
        const off = REGISTER_OFFSETS[n]!;
        const want = off < len ? readBack(def.name, data.subarray(off, off + def.bitsize / 8)) : null;
        if (want && Buffer.compare(now.subarray(off, off + want.length), want) !== 0) return `G answered OK but ${def.name} was not written`;
      }
      return null;
    };
    return p;
  }

  /** M (hex) or X (binary, escaped): the data must be there when answered OK. */
  private memoryWrite(): FuzzPacket {
    const addr = this.address();
    const len = this.rand() < 0.9 ? 1 + this.int(64) : this.int(0x1000);
    const data = this.bytes(len);
    const binary = this.rand() < 0.5;
    let bytes: Buffer;
    let payload: string;
    if (binary) {
      const body = Buffer.concat([Buffer.from(`X${addr.toString(16)},${len.toString(16)}:`, 'latin1'), Buffer.from(escapeBinary(data))]);
      payload = body.toString('latin1');
      bytes = framed(body);
    } else {
      payload = `M${addr.toString(16)},${len.toString(16)}:${Buffer.from(data).toString('hex')}`;
      bytes = framed(payload);
    }
    const phys = this.view.physical();
    return {
      bytes, payload, cls: 'write', origin: 'valid',
      applied: () => {
        if (len === 0) return null;
        const now = this.view.readMemory(addr, len, phys);
        const keeps = this.view.keeps(addr, len, phys);
        const bad = now === null ? 0 : keeps.findIndex((k, i) => k && now[i] !== data[i]);
        return bad < 0 ? null : `${binary ? 'X' : 'M'} at 0x${addr.toString(16)},${len} answered OK but byte ${bad} is not there`;
      },
    };
  }

  /** Z/z of every type: inserts at the sample's addresses, removes of what is (or is not) in. */
  private point(): FuzzPacket {
    const type = this.pick([0, 0, 0, 1, 2, 3, 4]);
    const addr = this.rand() < 0.7 ? this.pick(this.view.symbols) : this.address();
    const kind = type >= 2 ? this.pick([1, 2, 4, 8, 1 + this.int(0x20), 0x10000, 0x10001, 0]) : this.pick([1, 1, 2, 0x9a59]);
    const insert = this.rand() < 0.55;
    const cond = this.rand() < 0.1 ? this.pick([';X3,220a00', ';9;0', ';cmds:0,X1,00']) : '';
    const payload = `${insert ? 'Z' : 'z'}${type},${addr.toString(16)},${kind.toString(16)}${cond}`;
    const p = this.plain(payload, 'write');
    if (insert) p.applied = () => (this.view.hasPoint(type, addr, kind) ? null : `${payload} answered OK but the point is not in`);
    return p;
  }

  /** A mutation of a valid packet (what it does is only checked when it answers an error). */
  mutated(): FuzzPacket {
    const base = this.valid();
    const body = base.payload === null ? Buffer.alloc(0) : Buffer.from(base.payload, 'latin1');
    const r = this.int(100);
    if (r < 12) return { bytes: framed(body, true), payload: null, cls: 'read', origin: 'noise' }; // bad checksum
    if (r < 22) {
      // Cut anywhere before its checksum ends; whatever follows resynchronises it.
      const f = framed(body);
      return { bytes: f.subarray(0, 1 + this.int(f.length - 1)), payload: null, cls: 'read', origin: 'noise' };
    }
    if (r < 27) return { bytes: this.noise(), payload: null, cls: 'read', origin: 'noise' };
    if (r < 28 && this.rand() < 0.3) {
      // 1 MB with a correct checksum: far past PacketSize.
      const big = Buffer.alloc(1 << 20, 0x41);
      big.write(this.pick(['M100000,4:', 'X100000,4:', 'G', 'qRcmd,', 'm']), 'latin1');
      return { bytes: framed(big), payload: big.toString('latin1'), cls: classify(big.toString('latin1')), origin: 'mutated' };
    }
    let out = [...body];
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) {
      const at = this.int(out.length + 1);
      switch (this.int(8)) {
        case 0: if (out.length) out[Math.min(at, out.length - 1)] = 0x20 + this.int(95); break;
        case 1: out.splice(at, 1); break;
        case 2: out.splice(at, 0, 0x20 + this.int(95)); break;
        case 3: out.splice(at, 0, ...out.slice(0, this.int(8))); break;
        case 4: out.splice(at, 0, 0); break; // a NUL
        case 5: out.splice(at, 0, 0x7d, this.int(256)); break; // an escape
        case 6: out = [...encodeRunLength(Uint8Array.from(out))]; break; // run-length encoded (gdb never sends it)
        default: out.splice(at, 0, ...this.bytes(1 + this.int(6))); break;
      }
    }
    // '$' and '#' would end the packet early (that is the truncation case).
    const bytes = Buffer.from(out.filter((c) => c !== 0x24 && c !== 0x23));
    const payload = bytes.toString('latin1');
    return { bytes: framed(bytes), payload, cls: classify(payload), origin: 'mutated' };
  }

  /** Bytes between packets: no '$', and no 0x03 (an interrupt has its own checks). */
  noise(): Buffer {
    return Buffer.from(Array.from({ length: 1 + this.int(64) }, () => {
      const v = this.int(256);
      return v === 0x24 || v === 0x03 ? 0x25 : v;
    }));
  }

  /** Any packet: valid with random arguments, or a mutation. */
  next(): FuzzPacket {
    return this.rand() < 0.55 ? this.valid() : this.mutated();
  }

  /**
   * The sentinel that ends every exchange: a target.xml read whose reply differs from the
   * previous one (a '-' in the noise makes the server send its last reply again).
   */
  sentinel(i: number): { packet: Buffer; reply: string } {
    const off = (i * 97) % (TARGET_XML.length - 16);
    const chunk = TARGET_XML.subarray(off, off + 8);
    return { packet: framed(`qXfer:features:read:target.xml:${off.toString(16)},8`), reply: 'm' + latin1Escaped(chunk) };
  }
}

function escapeBinary(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const b of data) {
    if (b === 0x23 || b === 0x24 || b === 0x7d || b === 0x2a) out.push(0x7d, b ^ 0x20);
    else out.push(b);
  }
  return Uint8Array.from(out);
}

function latin1Escaped(data: Uint8Array): string {
  return Buffer.from(escapeBinary(data)).toString('latin1');
}

/** Run-length encoding as a stub may use in replies: `X*c` repeats X (c - 29) more times. */
function encodeRunLength(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < data.length) {
    const b = data[i]!;
    let run = 1;
    while (i + run < data.length && data[i + run] === b && run < 98) run++;
    let n = run - 1;
    if (n + 29 === 0x23 || n + 29 === 0x24) n = 5;
    if (n >= 3) {
      out.push(b, 0x2a, n + 29);
      i += n + 1;
    } else {
      out.push(b);
      i++;
    }
  }
  return Uint8Array.from(out);
}
