// Field-by-field comparison of two machines, by reflection over every object reachable
// from the PcMachine: a snapshot test compares a machine that was restored with a twin
// that ran straight to the same point. Any device field the snapshot forgot shows up
// here by its path, without the test knowing the device.
import type { PcMachine } from '../../src/machine/pc-machine.js';

/**
 * What is not guest state: the translation cache and the CPU loop, event rings and
 * statistics, the TLB (restored exactly, but compared through the page tables), the
 * dirty-page logs, per-instruction scratch fields and the lazy-flags representation
 * (EFLAGS is compared materialised).
 */
const SKIP_KEYS = new Set([
  'events', 'exec', 'config', 'acpi', 'smbios', 'io', 'icountAuto', 'onBeforeReset', 'bootLoader',
  // memory: the map and the bytes are compared; caches are not
  'dirty', 'vramDirty', 'mmio', 'areas',
  // the PCI I/O space keeps ports it claimed once on the fixed port table (unowned ones answer as unclaimed)
  'claimed',
  // mmu
  'tlbRK', 'tlbWK', 'tlbRU', 'tlbWU', 'filled', 'nFilled', 'overflowed', 'tlbState', 'largeAddr', 'largeMask',
  'codePages', 'watchedPages', 'flushes', 'pageFlushes', 'fills',
  // cpu scratch and lazy flags
  'ccOp', 'ccDst', 'ccSrc', 'ccAux', 'deadline', 'icountOff', 'pending', 'stepping', 'stopAfterInsn', 'faultEip', 'watchHit',
  // the page stores of the snapshot engine hang off nothing reachable, but be safe
  'base',
]);

/** Objects that are not guest state wherever they are referenced from. */
const SKIP_CLASSES = new Set(['EventLog', 'RingBuffer', 'CpuExec', 'TbCache', 'TranslationBlock', 'IoBus', 'QemuLog', 'Helpers', 'PageStore', 'SnapshotEngine']);

export interface Difference {
  path: string;
  a: unknown;
  b: unknown;
}

function describe(v: unknown): unknown {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`;
  if (typeof v === 'bigint') return `${v}n`;
  if (v && typeof v === 'object') return `[${v.constructor?.name ?? 'object'}]`;
  return v;
}

export function machineDiff(a: PcMachine, b: PcMachine, max = 20): Difference[] {
  const out: Difference[] = [];
  const seen = new WeakSet<object>();
  const walk = (x: unknown, y: unknown, path: string): void => {
    if (out.length >= max) return;
    if (typeof x === 'function' || typeof y === 'function') return;
    if (x === y) return;
    if (typeof x !== typeof y || x === null || y === null || typeof x !== 'object') {
      if (typeof x === 'number' && typeof y === 'number' && Number.isNaN(x) && Number.isNaN(y)) return;
      out.push({ path, a: describe(x), b: describe(y) });
      return;
    }
    const xo = x as object;
    const yo = y as object;
    if (SKIP_CLASSES.has(xo.constructor?.name ?? '')) return;
    if (seen.has(xo)) return;
    seen.add(xo);
    if (ArrayBuffer.isView(xo)) {
      const xv = xo as ArrayBufferView;
      const yv = yo as ArrayBufferView;
      if (xv.byteLength === yv.byteLength &&
        Buffer.from(xv.buffer, xv.byteOffset, xv.byteLength).equals(Buffer.from(yv.buffer, yv.byteOffset, yv.byteLength))) return;
      const xa = xo as unknown as ArrayLike<number>;
      const ya = yo as unknown as ArrayLike<number>;
      if (xa.length !== ya.length) {
        out.push({ path: `${path}.length`, a: xa.length, b: ya.length });
        return;
      }
      for (let i = 0; i < xa.length; i++) {
        if (xa[i] !== ya[i]) {
          out.push({ path: `${path}[${i}]`, a: xa[i], b: ya[i] });
          if (out.length >= max) return;
        }
      }
      return;
    }
    if (xo instanceof ArrayBuffer) return;
    // An x87 register is its image, whatever object holds it (an MMX write keeps the
    // significand as two dwords until x87 code reads it).
    if ('se' in xo && 'sig' in xo && 'se' in yo && 'sig' in yo) {
      const [xs, ys] = [xo as { se: number; sig: bigint }, yo as { se: number; sig: bigint }];
      if (xs.se !== ys.se || xs.sig !== ys.sig) out.push({ path, a: `${xs.se}:${xs.sig}`, b: `${ys.se}:${ys.sig}` });
      return;
    }
    if (xo instanceof Map || xo instanceof Set) {
      const xe = [...(xo as Map<unknown, unknown>).entries()];
      const ye = [...(yo as Map<unknown, unknown>).entries()];
      if (xe.length !== ye.length) {
        out.push({ path: `${path}.size`, a: xe.length, b: ye.length });
        return;
      }
      xe.forEach((e, i) => walk(e, ye[i], `${path}{${i}}`));
      return;
    }
    if (Array.isArray(xo)) {
      const ya = yo as unknown[];
      if (xo.length !== ya.length) {
        out.push({ path: `${path}.length`, a: xo.length, b: ya.length });
        return;
      }
      xo.forEach((e, i) => walk(e, ya[i], `${path}[${i}]`));
      return;
    }
    for (const k of Object.keys(xo)) {
      if (SKIP_KEYS.has(k)) continue;
      walk((xo as Record<string, unknown>)[k], (yo as Record<string, unknown>)[k], `${path}.${k}`);
    }
  };
  walk(a, b, 'machine');
  if (a.cpu.getEflags() !== b.cpu.getEflags()) out.push({ path: 'machine.cpu.getEflags()', a: a.cpu.getEflags(), b: b.cpu.getEflags() });
  return out;
}
