// Dead-flags analysis over one TB: an instruction's lazy-flags update can be skipped when
// a later instruction overwrites all six arithmetic flags before anything can observe
// them. Observers are flag readers, the end of the TB, and any instruction that may fault
// (an exception handler sees EFLAGS) or leave the TB early (SMC, watchpoints).
import { OpKind, type Instr } from '../instr.js';
import { F_STRING } from '../opcode-table.js';

/** Instructions that never fault when all their operands are registers or immediates. */
const SAFE_REG_ONLY = new Set([
  'mov', 'add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test', 'inc', 'dec', 'not', 'neg',
  'lea', 'movzx', 'movsx', 'xchg', 'xadd', 'cmpxchg', 'bswap', 'cbw', 'cwd', 'mul', 'imul',
  'shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr', 'shld', 'shrd', 'bt', 'bts', 'btr', 'btc', 'bsf', 'bsr',
  'clc', 'stc', 'cmc', 'cld', 'std', 'sahf', 'lahf', 'salc', 'nop',
]);

/** Instructions that set all six arithmetic flags unconditionally. */
const WRITES_ALL = new Set([
  'add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test', 'neg', 'mul', 'imul', 'xadd', 'cmpxchg',
  'bsf', 'bsr', 'aam', 'aad',
]);

/** Instructions that neither read nor write the arithmetic flags (and cannot observe them). */
const IGNORES = new Set([
  'mov', 'lea', 'movzx', 'movsx', 'xchg', 'bswap', 'cbw', 'cwd', 'not', 'nop', 'cld', 'std',
]);

function isSetOrCmov(m: string): boolean {
  return m.startsWith('set') || m.startsWith('cmov');
}

export interface FlagUse {
  reads: boolean;
  writesAll: boolean;
  mayFault: boolean;
}

export function flagUse(i: Instr): FlagUse {
  const m = i.mnem;
  const hasMem = i.ea !== null || i.operands.some((o) => o.kind === OpKind.Mem);
  const segOrSys = i.operands.some((o) => o.kind === OpKind.Seg || o.kind === OpKind.Cr || o.kind === OpKind.Dr);
  const mayFault = i.invalid || hasMem || segOrSys || !(SAFE_REG_ONLY.has(m) || isSetOrCmov(m)) || (i.flags & F_STRING) !== 0;
  if (IGNORES.has(m) && !segOrSys) return { reads: false, writesAll: false, mayFault };
  let writesAll = WRITES_ALL.has(m);
  if (m === 'imul' || m === 'mul') writesAll = true;
  if (m === 'shl' || m === 'shr' || m === 'sar') {
    const c = i.operands[1];
    writesAll = c !== undefined && c.kind === OpKind.Imm && (c.value & 31) !== 0;
  }
  const readsOnlyIfWritten = writesAll && m !== 'adc' && m !== 'sbb';
  return { reads: !readsOnlyIfWritten, writesAll, mayFault };
}

/**
 * For each instruction, whether the flags it produces may be observed (true) or are
 * certainly overwritten first (false).
 */
export function flagsLiveAfter(instrs: readonly Instr[]): boolean[] {
  const out = new Array<boolean>(instrs.length).fill(true);
  let live = true; // flags leave the TB
  for (let k = instrs.length - 1; k >= 0; k--) {
    const u = flagUse(instrs[k]!);
    out[k] = live || u.mayFault;
    if (u.writesAll && !u.mayFault) live = false;
    if (u.reads || u.mayFault) live = true;
  }
  return out;
}
