// A small ACPI Machine Language encoder (ACPI 6.4 chapter 20, "ACPI Machine Language
// Specification"; resource descriptors from chapter 6.4): enough of the grammar to write
// the board's DSDT by hand in TypeScript. Every builder returns the encoded bytes as a
// plain number array; `aml()` flattens terms. Names are checked (1-4 characters of
// A-Z, 0-9, _ per segment), integers take the shortest encoding.

export type Aml = number[];
export type Term = Aml | number | string;

/** Opcodes (ACPI 6.4 §20.2). */
const OP = {
  zero: 0x00, one: 0x01, name: 0x08, bytePrefix: 0x0a, wordPrefix: 0x0b, dwordPrefix: 0x0c,
  stringPrefix: 0x0d, qwordPrefix: 0x0e, scope: 0x10, buffer: 0x11, package: 0x12, method: 0x14,
  dualNamePrefix: 0x2e, multiNamePrefix: 0x2f, extOp: 0x5b, rootChar: 0x5c, parentPrefix: 0x5e,
  local0: 0x60, arg0: 0x68, store: 0x70, add: 0x72, subtract: 0x74, increment: 0x75, shiftLeft: 0x79,
  shiftRight: 0x7a, and: 0x7b, or: 0x7d, notify: 0x86, sizeOf: 0x87, index: 0x88, createDWordField: 0x8a,
  derefOf: 0x83, land: 0x90, lor: 0x91, lnot: 0x92, lequal: 0x93, lgreater: 0x94, lless: 0x95,
  toBuffer: 0x96, toHexString: 0x98, if: 0xa0, else: 0xa1, while: 0xa2, return: 0xa4, break: 0xa5, ones: 0xff,
  // after extOp
  mutex: 0x01, debug: 0x31, acquire: 0x23, release: 0x27, opRegion: 0x80, field: 0x81, device: 0x82, processor: 0x83,
} as const;

/** Flatten terms: numbers are single bytes, strings are name strings, arrays are spliced. */
export function aml(...terms: Term[]): Aml {
  const out: Aml = [];
  for (const t of terms) {
    if (typeof t === 'number') out.push(t & 0xff);
    else if (typeof t === 'string') out.push(...nameString(t));
    else for (const b of t) out.push(b);
  }
  return out;
}

// ---- package length and names (§20.2.4, §20.2.2) --------------------------------------------

/** PkgLength for a body of `bodyLen` bytes (the encoding counts its own bytes). */
export function pkgLength(bodyLen: number): Aml {
  if (bodyLen + 1 <= 0x3f) return [bodyLen + 1];
  for (let n = 2; n <= 4; n++) {
    const total = bodyLen + n;
    if (total < 1 << (4 + 8 * (n - 1))) {
      const out = [((n - 1) << 6) | (total & 0x0f)];
      let rest = total >>> 4;
      for (let i = 1; i < n; i++) {
        out.push(rest & 0xff);
        rest >>>= 8;
      }
      return out;
    }
  }
  throw new RangeError(`AML package too long: ${bodyLen}`);
}

function withPkg(prefix: Aml, body: Aml): Aml {
  return [...prefix, ...pkgLength(body.length), ...body];
}

function nameSeg(seg: string): Aml {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new Error(`bad AML name segment "${seg}"`);
  const s = seg.padEnd(4, '_');
  return [...s].map((c) => c.charCodeAt(0));
}

/** A NameString: optional "\" or "^"s, then dot-separated segments ("\_SB.PCI0"). */
export function nameString(path: string): Aml {
  const out: Aml = [];
  let p = path;
  if (p.startsWith('\\')) {
    out.push(OP.rootChar);
    p = p.slice(1);
  }
  while (p.startsWith('^')) {
    out.push(OP.parentPrefix);
    p = p.slice(1);
  }
  const segs = p === '' ? [] : p.split('.');
  if (segs.length === 0) out.push(0x00);
  else if (segs.length === 1) out.push(...nameSeg(segs[0]!));
  else if (segs.length === 2) out.push(OP.dualNamePrefix, ...nameSeg(segs[0]!), ...nameSeg(segs[1]!));
  else {
    out.push(OP.multiNamePrefix, segs.length);
    for (const s of segs) out.push(...nameSeg(s));
  }
  return out;
}

// ---- data objects (§20.2.3) ---------------------------------------------------------------------

/** An integer constant in its shortest encoding. */
export function int(v: number | bigint): Aml {
  const n = BigInt(v);
  if (n < 0n || n > 0xffff_ffff_ffff_ffffn) throw new RangeError(`AML integer out of range: ${v}`);
  if (n === 0n) return [OP.zero];
  if (n === 1n) return [OP.one];
  if (n === 0xffff_ffff_ffff_ffffn) return [OP.ones];
  const bytes = (count: number): Aml => Array.from({ length: count }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
  if (n <= 0xffn) return [OP.bytePrefix, ...bytes(1)];
  if (n <= 0xffffn) return [OP.wordPrefix, ...bytes(2)];
  if (n <= 0xffff_ffffn) return [OP.dwordPrefix, ...bytes(4)];
  return [OP.qwordPrefix, ...bytes(8)];
}

/** A DWord integer whatever its value (fields that tools expect at a fixed size). */
export function dword(v: number): Aml {
  return [OP.dwordPrefix, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

export function str(s: string): Aml {
  if (!/^[\x01-\x7f]*$/.test(s)) throw new Error('AML strings are 7-bit ASCII without NUL');
  return [OP.stringPrefix, ...[...s].map((c) => c.charCodeAt(0)), 0x00];
}

/** The compressed EISA ID of "PNP0A03"-style names, as an integer. */
export function eisaId(id: string): Aml {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new Error(`bad EISA ID ${id}`);
  const c = (i: number) => id.charCodeAt(i) - 0x40;
  const hex = parseInt(id.slice(3), 16);
  const b0 = (c(0) << 2) | (c(1) >> 3);
  const b1 = ((c(1) & 7) << 5) | c(2);
  return dword((b0 | (b1 << 8) | ((hex >> 8) << 16) | ((hex & 0xff) << 24)) >>> 0);
}

export function buffer(data: readonly number[]): Aml {
  return withPkg([OP.buffer], [...int(data.length), ...data]);
}

export function pkg(...elements: Aml[]): Aml {
  return pkgOf(elements.length, ...elements);
}

/** Package(count) {elements}: `count` may exceed the initialisers (the rest are uninitialised). */
export function pkgOf(count: number, ...elements: Aml[]): Aml {
  if (count > 255 || elements.length > count) throw new RangeError('AML Package holds at most 255 elements');
  return withPkg([OP.package], [count, ...elements.flat()]);
}

/**
 * ToUUID("aabbccdd-eeff-gghh-iijj-kkllmmnnoopp"): a 16-byte Buffer, the first three
 * groups little-endian, the last two in order (ACPI 6.4 §19.6.142).
 */
export function uuid(text: string): Aml {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text);
  if (!m) throw new Error(`bad UUID ${text}`);
  const hex = (h: string): number[] => h.match(/../g)!.map((b) => parseInt(b, 16));
  return buffer([...hex(m[1]!).reverse(), ...hex(m[2]!).reverse(), ...hex(m[3]!).reverse(), ...hex(m[4]!), ...hex(m[5]!)]);
}

// ---- named objects and namespace (§20.2.5) -------------------------------------------------------

export function name(n: string, value: Aml): Aml {
  return [OP.name, ...nameString(n), ...value];
}

export function scope(n: string, ...body: Aml[]): Aml {
  return withPkg([OP.scope], [...nameString(n), ...body.flat()]);
}

export function device(n: string, ...body: Aml[]): Aml {
  return withPkg([OP.extOp, OP.device], [...nameString(n), ...body.flat()]);
}

export function method(n: string, args: number, opts: { serialized?: boolean }, ...body: Aml[]): Aml {
  const flags = (args & 7) | (opts.serialized ? 0x08 : 0);
  return withPkg([OP.method], [...nameString(n), flags, ...body.flat()]);
}

export function processor(n: string, procId: number, pblkAddr: number, pblkLen: number, ...body: Aml[]): Aml {
  const addr = [pblkAddr & 0xff, (pblkAddr >>> 8) & 0xff, (pblkAddr >>> 16) & 0xff, (pblkAddr >>> 24) & 0xff];
  return withPkg([OP.extOp, OP.processor], [...nameString(n), procId, ...addr, pblkLen, ...body.flat()]);
}

export const REGION_SYSTEM_MEMORY = 0x00;
export const REGION_SYSTEM_IO = 0x01;
export const REGION_PCI_CONFIG = 0x02;

export function opRegion(n: string, space: number, offset: number, length: number): Aml {
  return [OP.extOp, OP.opRegion, ...nameString(n), space, ...int(offset), ...int(length)];
}

export const FIELD_BYTE_ACC = 0x01;
export const FIELD_DWORD_ACC = 0x03;
export const FIELD_LOCK = 0x10;
export const FIELD_PRESERVE = 0x00;
export const FIELD_WRITE_AS_ZEROS = 0x40;

/** Field(region, flags) { name, bits ... } — a name of '' reserves the bits. */
export function field(region: string, flags: number, units: readonly (readonly [string, number])[]): Aml {
  const list: Aml = [];
  for (const [n, bits] of units) {
    if (n === '') list.push(0x00, ...fieldLength(bits));
    else list.push(...nameSeg(n), ...fieldLength(bits));
  }
  return withPkg([OP.extOp, OP.field], [...nameString(region), flags, ...list]);
}

/** A field unit's bit width, in PkgLength's encoding but without counting itself. */
function fieldLength(bits: number): Aml {
  if (bits <= 0x3f) return [bits];
  if (bits < 1 << 12) return [0x40 | (bits & 0x0f), bits >>> 4];
  if (bits < 1 << 20) return [0x80 | (bits & 0x0f), (bits >>> 4) & 0xff, bits >>> 12];
  throw new RangeError(`field too wide: ${bits}`);
}

export function mutex(n: string, syncLevel = 0): Aml {
  return [OP.extOp, OP.mutex, ...nameString(n), syncLevel & 0x0f];
}

// ---- statements and expressions (§20.2.5.3, §20.2.5.4) ------------------------------------------

export const local = (n: number): Aml => [OP.local0 + n];
export const arg = (n: number): Aml => [OP.arg0 + n];
/** A name used as a term (a reference or a method call without arguments). */
export const ref = (n: string): Aml => nameString(n);
const NULL_TARGET: Aml = [0x00];

/** A method call: the name followed by its arguments. */
export function call(n: string, ...args: Aml[]): Aml {
  return [...nameString(n), ...args.flat()];
}

export const ret = (v: Aml): Aml => [OP.return, ...v];
export const store = (value: Aml, target: Aml): Aml => [OP.store, ...value, ...target];
const binary = (op: number) => (a: Aml, b: Aml, target: Aml = NULL_TARGET): Aml => [op, ...a, ...b, ...target];
export const add = binary(OP.add);
export const subtract = binary(OP.subtract);
export const and = binary(OP.and);
export const or = binary(OP.or);
export const shiftLeft = binary(OP.shiftLeft);
export const shiftRight = binary(OP.shiftRight);
export const index = binary(OP.index);
export const lequal = (a: Aml, b: Aml): Aml => [OP.lequal, ...a, ...b];
export const lless = (a: Aml, b: Aml): Aml => [OP.lless, ...a, ...b];
export const lgreater = (a: Aml, b: Aml): Aml => [OP.lgreater, ...a, ...b];
export const lor = (a: Aml, b: Aml): Aml => [OP.lor, ...a, ...b];
export const land = (a: Aml, b: Aml): Aml => [OP.land, ...a, ...b];
export const lnot = (a: Aml): Aml => [OP.lnot, ...a];
/** a != b: LNot(LEqual(a, b)), the encoding ACPI gives LNotEqual. */
export const lnotEqual = (a: Aml, b: Aml): Aml => [OP.lnot, OP.lequal, ...a, ...b];
export const toHexString = (a: Aml, target: Aml = NULL_TARGET): Aml => [OP.toHexString, ...a, ...target];
export const toBuffer = (a: Aml, target: Aml = NULL_TARGET): Aml => [OP.toBuffer, ...a, ...target];
export const breakOp: Aml = [OP.break];
/** The Debug object (a Store target that the interpreter prints). */
export const debugObj: Aml = [OP.extOp, OP.debug];
export const increment = (t: Aml): Aml => [OP.increment, ...t];
export const derefOf = (t: Aml): Aml => [OP.derefOf, ...t];
export const sizeOf = (t: Aml): Aml => [OP.sizeOf, ...t];
export const notify = (obj: Aml, value: Aml): Aml => [OP.notify, ...obj, ...value];
export const acquire = (m: string, timeout: number): Aml => [OP.extOp, OP.acquire, ...nameString(m), timeout & 0xff, timeout >>> 8];
export const release = (m: string): Aml => [OP.extOp, OP.release, ...nameString(m)];

export function createDWordField(source: Aml, byteIndex: Aml, n: string): Aml {
  return [OP.createDWordField, ...source, ...byteIndex, ...nameString(n)];
}

export function ifThen(pred: Aml, ...body: Aml[]): Aml {
  return withPkg([OP.if], [...pred, ...body.flat()]);
}

export function elseDo(...body: Aml[]): Aml {
  return withPkg([OP.else], body.flat());
}

export function whileDo(pred: Aml, ...body: Aml[]): Aml {
  return withPkg([OP.while], [...pred, ...body.flat()]);
}

// ---- resource descriptors (ACPI 6.4 §6.4) --------------------------------------------------------

/** ResourceTemplate(): the descriptors followed by an end tag, as a Buffer. */
export function resourceTemplate(...descriptors: Aml[]): Aml {
  return buffer([...descriptors.flat(), 0x79, 0x00]);
}

const le16 = (v: number): Aml => [v & 0xff, (v >>> 8) & 0xff];
const le32 = (v: number): Aml => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le64 = (v: bigint): Aml => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));

/** IO(Decode16, min, max, alignment, length) — §6.4.2.5. */
export function ioPort(min: number, max: number, align: number, length: number): Aml {
  return [0x47, 0x01, ...le16(min), ...le16(max), align, length];
}

/** IRQNoFlags() {irqs} — §6.4.2.1, the two-byte form. */
export function irqNoFlags(...irqs: number[]): Aml {
  let mask = 0;
  for (const i of irqs) mask |= 1 << i;
  return [0x22, ...le16(mask)];
}

/** DMA(Compatibility, NotBusMaster, Transfer8) {channels} — §6.4.2.2: ISA compatibility timing, 8-bit transfers. */
export function dmaCompat8(...channels: number[]): Aml {
  let mask = 0;
  for (const c of channels) mask |= 1 << c;
  return [0x2a, mask, 0x00];
}

/** Memory32Fixed(ReadOnly|ReadWrite, base, length) — §6.4.3.4. */
export function memory32Fixed(readWrite: boolean, base: number, length: number): Aml {
  return [0x86, 0x09, 0x00, readWrite ? 1 : 0, ...le32(base), ...le32(length)];
}

export interface ExtIrqFlags {
  consumer?: boolean;
  edge?: boolean;
  activeLow?: boolean;
  shared?: boolean;
}

/** Interrupt(ResourceConsumer, Level|Edge, ActiveHigh|Low, Shared|Exclusive) {irqs} — §6.4.3.6. */
export function extIrq(flags: ExtIrqFlags, ...irqs: number[]): Aml {
  const f = (flags.consumer ?? true ? 1 : 0) | (flags.edge ? 2 : 0) | (flags.activeLow ? 4 : 0) | (flags.shared ? 8 : 0);
  return [0x89, ...le16(2 + 4 * irqs.length), f, irqs.length, ...irqs.flatMap(le32)];
}

// Address space descriptor flags (§6.4.3.5): general flags producer, min/max fixed, positive decode.
const ADDR_GENERAL_PRODUCER_FIXED = 0x0c;

/** WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, min, max, 0, length). */
export function wordBusNumber(min: number, max: number): Aml {
  return [0x88, ...le16(0x0d), 0x02, ADDR_GENERAL_PRODUCER_FIXED, 0x00, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1)];
}

/** WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0, min, max, 0, length). */
export function wordIo(min: number, max: number): Aml {
  return [0x88, ...le16(0x0d), 0x01, ADDR_GENERAL_PRODUCER_FIXED, 0x03, ...le16(0), ...le16(min), ...le16(max), ...le16(0), ...le16(max - min + 1)];
}

/** DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable|NonCacheable, ReadWrite, ...). */
export function dwordMemory(cacheable: boolean, min: number, max: number): Aml {
  const typeFlags = 0x01 | (cacheable ? 0x02 : 0x00);
  return [0x87, ...le16(0x17), 0x00, ADDR_GENERAL_PRODUCER_FIXED, typeFlags, ...le32(0), ...le32(min), ...le32(max), ...le32(0), ...le32(max - min + 1)];
}

/** QWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable|NonCacheable, ReadWrite, ...). */
export function qwordMemory(cacheable: boolean, min: bigint, max: bigint): Aml {
  const typeFlags = 0x01 | (cacheable ? 0x02 : 0x00);
  return [0x8a, ...le16(0x2b), 0x00, ADDR_GENERAL_PRODUCER_FIXED, typeFlags, ...le64(0n), ...le64(min), ...le64(max), ...le64(0n), ...le64(max - min + 1n)];
}
