// The register file as gdb sees it: the target description (target.xml and the feature
// files it includes) and the g/G/p/P layout, which is whatever the XML says, in order.
//
// Remote numbers 0-40 are gdb's own i386 numbering (what gdb assumes without a target
// description: GPRs, eip, eflags, selectors, x87, SSE); the system registers gdb has no
// standard feature for follow in `org.bmbt.i386.sys`. The x87 registers are the FPU's
// (ST0-ST7 in stack order, the full tag word); SSE, which the CPU has no unit for yet,
// reads as zero (MXCSR as at reset).
import type { RegisterSnapshot } from '../src/debug/registers.js';

export interface RegisterDef {
  name: string;
  bitsize: number;
  type: string;
  group?: string;
  feature: 'core' | 'sse' | 'sys';
  /** Bytes, little-endian, from a snapshot. */
  read(r: RegisterSnapshot): Uint8Array;
  /** The controller's register name when the register is writable. */
  writeName?: string;
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

function reg32(name: string, feature: RegisterDef['feature'], get: (r: RegisterSnapshot) => number, opts: { type?: string; group?: string; writable?: boolean } = {}): RegisterDef {
  return {
    name, bitsize: 32, type: opts.type ?? 'int32', feature, read: (r) => u32(get(r)),
    ...(opts.group ? { group: opts.group } : {}),
    ...(opts.writable ? { writeName: name } : {}),
  };
}

function buildRegisters(): RegisterDef[] {
  const regs: RegisterDef[] = [];
  const gprs = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
  gprs.forEach((n, i) => regs.push(reg32(n, 'core', (r) => r.gpr[i]!, { type: n === 'esp' || n === 'ebp' ? 'data_ptr' : 'int32', writable: true })));
  regs.push(reg32('eip', 'core', (r) => r.eip, { type: 'code_ptr', writable: true }));
  regs.push(reg32('eflags', 'core', (r) => r.eflags, { type: 'i386_eflags', writable: true }));
  const segOrder: [string, number][] = [['cs', CS], ['ss', SS], ['ds', DS], ['es', ES], ['fs', FS], ['gs', GS]];
  for (const [n, i] of segOrder) regs.push(reg32(n, 'core', (r) => r.seg[i]!.sel, { writable: true }));
  for (let i = 0; i < 8; i++) {
    regs.push({ name: `st${i}`, bitsize: 80, type: 'i387_ext', feature: 'core', read: (r) => Uint8Array.from(r.fpu.st[i]!), writeName: `st${i}` });
  }
  const fpuCtl: [string, (r: RegisterSnapshot) => number][] = [
    ['fctrl', (r) => r.fpu.fctrl], ['fstat', (r) => r.fpu.fstat], ['ftag', (r) => r.fpu.ftag], ['fiseg', (r) => r.fpu.fiseg],
    ['fioff', (r) => r.fpu.fioff], ['foseg', (r) => r.fpu.foseg], ['fooff', (r) => r.fpu.fooff], ['fop', (r) => r.fpu.fop],
  ];
  for (const [n, get] of fpuCtl) regs.push({ ...reg32(n, 'core', get, { type: 'int', group: 'float' }), writeName: n });
  for (let i = 0; i < 8; i++) {
    regs.push({ name: `xmm${i}`, bitsize: 128, type: 'vec128', feature: 'sse', read: (r) => Uint8Array.from(r.xmm[i]!), writeName: `xmm${i}` });
  }
  regs.push({ ...reg32('mxcsr', 'sse', (r) => r.mxcsr, { type: 'i386_mxcsr', group: 'vector' }), writeName: 'mxcsr' });

  // org.bmbt.i386.sys: QEMU's system registers (fs_base ... efer). gdb 13's i386
  // architecture puts every register that is not x87, SSE or AVX in `info registers`,
  // whatever group the description names (measured), so the hidden segment state, the
  // descriptor tables and the debug registers are not here (63 lines, gdb's pager): as
  // with QEMU, `monitor info registers` shows them (docs/decisions.md).
  regs.push(reg32('fs_base', 'sys', (r) => r.seg[FS]!.base));
  regs.push(reg32('gs_base', 'sys', (r) => r.seg[GS]!.base));
  regs.push(reg32('cr0', 'sys', (r) => r.cr0, { type: 'i386_cr0', writable: true }));
  regs.push(reg32('cr2', 'sys', (r) => r.cr2, { writable: true }));
  regs.push(reg32('cr3', 'sys', (r) => r.cr3, { type: 'i386_cr3', writable: true }));
  regs.push(reg32('cr4', 'sys', (r) => r.cr4, { type: 'i386_cr4', writable: true }));
  regs.push(reg32('efer', 'sys', (r) => r.efer, { type: 'i386_efer' }));
  return regs;
}

export const REGISTERS: readonly RegisterDef[] = buildRegisters();
export const REGISTER_OFFSETS: readonly number[] = (() => {
  const out: number[] = [];
  let off = 0;
  for (const r of REGISTERS) {
    out.push(off);
    off += r.bitsize / 8;
  }
  return out;
})();
export const G_PACKET_BYTES = REGISTERS.reduce((n, r) => n + r.bitsize / 8, 0);
export const REGNUM = new Map(REGISTERS.map((r, i) => [r.name, i]));


const EFLAGS_FLAGS = `  <flags id="i386_eflags" size="4">
    <field name="CF" start="0" end="0"/>
    <field name="" start="1" end="1"/>
    <field name="PF" start="2" end="2"/>
    <field name="AF" start="4" end="4"/>
    <field name="ZF" start="6" end="6"/>
    <field name="SF" start="7" end="7"/>
    <field name="TF" start="8" end="8"/>
    <field name="IF" start="9" end="9"/>
    <field name="DF" start="10" end="10"/>
    <field name="OF" start="11" end="11"/>
    <field name="NT" start="14" end="14"/>
    <field name="RF" start="16" end="16"/>
    <field name="VM" start="17" end="17"/>
    <field name="AC" start="18" end="18"/>
    <field name="VIF" start="19" end="19"/>
    <field name="VIP" start="20" end="20"/>
    <field name="ID" start="21" end="21"/>
  </flags>
`;

const SYS_FLAGS = `  <flags id="i386_cr0" size="4">
    <field name="PE" start="0" end="0"/>
    <field name="MP" start="1" end="1"/>
    <field name="EM" start="2" end="2"/>
    <field name="TS" start="3" end="3"/>
    <field name="ET" start="4" end="4"/>
    <field name="NE" start="5" end="5"/>
    <field name="WP" start="16" end="16"/>
    <field name="AM" start="18" end="18"/>
    <field name="NW" start="29" end="29"/>
    <field name="CD" start="30" end="30"/>
    <field name="PG" start="31" end="31"/>
  </flags>
  <flags id="i386_cr3" size="4">
    <field name="PWT" start="3" end="3"/>
    <field name="PCD" start="4" end="4"/>
    <field name="PDBR" start="12" end="31"/>
  </flags>
  <flags id="i386_cr4" size="4">
    <field name="VME" start="0" end="0"/>
    <field name="PVI" start="1" end="1"/>
    <field name="TSD" start="2" end="2"/>
    <field name="DE" start="3" end="3"/>
    <field name="PSE" start="4" end="4"/>
    <field name="PAE" start="5" end="5"/>
    <field name="MCE" start="6" end="6"/>
    <field name="PGE" start="7" end="7"/>
    <field name="PCE" start="8" end="8"/>
    <field name="OSFXSR" start="9" end="9"/>
    <field name="OSXMMEXCPT" start="10" end="10"/>
  </flags>
  <flags id="i386_efer" size="4">
    <field name="SCE" start="0" end="0"/>
    <field name="LME" start="8" end="8"/>
    <field name="LMA" start="10" end="10"/>
    <field name="NXE" start="11" end="11"/>
  </flags>
`;

const SSE_TYPES = `  <vector id="v4f" type="ieee_single" count="4"/>
  <vector id="v2d" type="ieee_double" count="2"/>
  <vector id="v16i8" type="int8" count="16"/>
  <vector id="v8i16" type="int16" count="8"/>
  <vector id="v4i32" type="int32" count="4"/>
  <vector id="v2i64" type="int64" count="2"/>
  <union id="vec128">
    <field name="v4_float" type="v4f"/>
    <field name="v2_double" type="v2d"/>
    <field name="v16_int8" type="v16i8"/>
    <field name="v8_int16" type="v8i16"/>
    <field name="v4_int32" type="v4i32"/>
    <field name="v2_int64" type="v2i64"/>
    <field name="uint128" type="uint128"/>
  </union>
  <flags id="i386_mxcsr" size="4">
    <field name="IE" start="0" end="0"/>
    <field name="DE" start="1" end="1"/>
    <field name="ZE" start="2" end="2"/>
    <field name="OE" start="3" end="3"/>
    <field name="UE" start="4" end="4"/>
    <field name="PE" start="5" end="5"/>
    <field name="DAZ" start="6" end="6"/>
    <field name="IM" start="7" end="7"/>
    <field name="DM" start="8" end="8"/>
    <field name="ZM" start="9" end="9"/>
    <field name="OM" start="10" end="10"/>
    <field name="UM" start="11" end="11"/>
    <field name="PM" start="12" end="12"/>
    <field name="FZ" start="15" end="15"/>
  </flags>
`;

function regLines(feature: RegisterDef['feature']): string {
  return REGISTERS.map((r, i) => ({ r, i }))
    .filter(({ r }) => r.feature === feature)
    .map(({ r, i }) => `  <reg name="${r.name}" bitsize="${r.bitsize}" type="${r.type}" regnum="${i}"${r.group ? ` group="${r.group}"` : ''}/>`)
    .join('\n');
}

function feature(name: string, body: string): string {
  return `<?xml version="1.0"?>\n<!DOCTYPE feature SYSTEM "gdb-target.dtd">\n<feature name="${name}">\n${body}\n</feature>\n`;
}

/** annex -> XML text, served by qXfer:features:read. */
export const TARGET_FILES: ReadonlyMap<string, string> = new Map([
  ['target.xml', `<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>i386</architecture>
  <xi:include href="i386-core.xml"/>
  <xi:include href="i386-sse.xml"/>
  <xi:include href="bmbt-sys.xml"/>
</target>
`],
  ['i386-core.xml', feature('org.gnu.gdb.i386.core', EFLAGS_FLAGS + regLines('core'))],
  ['i386-sse.xml', feature('org.gnu.gdb.i386.sse', SSE_TYPES + regLines('sse'))],
  ['bmbt-sys.xml', feature('org.bmbt.i386.sys', SYS_FLAGS + regLines('sys'))],
]);
