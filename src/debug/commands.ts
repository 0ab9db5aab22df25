// The debugger's one command language: the terminal UI's command line (`:`) and gdb's
// `monitor` run the same commands on a DebugTarget and get the same text back.
//
// Numbers are read as gdb reads them: `0x` hex, bare digits decimal, `$reg`, a symbol,
// `sym+off` / `sym-off` with the offset in the radix it is written in, and `*addr` as in
// `break *0x100000`. Addresses are shown so that they can be typed back:
// `0x00100b5a <main+0xa>`.
import type { DebugTarget, DeviceName, WatchKind } from './target.js';
import { UserError } from '../user-error.js';
import { GPR_NAMES, SEG_REG_NAMES } from './registers.js';
import { formatIrq, formatMemory, formatRegisters, formatTbAt, formatTbStats, formatTlb, hex8 } from './inspect.js';
import { disassemble } from './disassembler.js';
import { formatInfoFloat } from './x87-view.js';
import { describeLocalApic } from '../devices/local-apic.js';
import { describeIoApic } from '../devices/io-apic.js';
import { TIME_TRAVEL_HELP, formatHistory, formatSnapshots, timeTravelCommand } from './time-travel-commands.js';
import type { LocalApicInfo } from '../devices/local-apic.js';
import type { IoApicInfo } from '../devices/io-apic.js';

/** Per-client state (one per gdb connection, one for the UI). */
export interface CommandSession {
  /** gdb's m/M/X packets use physical addresses instead of linear ones. */
  physicalMemory: boolean;
}

export function newCommandSession(): CommandSession {
  return { physicalMemory: false };
}

/** What a front end offers the commands beyond text (the UI: panes, running, quitting). */
export interface CommandHost {
  session: CommandSession;
  /** Running and stepping from the command line (the UI; gdb's `monitor` has stepb only). */
  run?: {
    stepInstruction(n: number): Promise<void>;
    stepBlock(n: number): Promise<void>;
    continueGuest(): void;
    pauseGuest(): Promise<void>;
  };
  quit?(): void;
  showMemory?(addr: number, physical: boolean): void;
  showTb?(id: number): void;
  showDisasm?(addr: number): void;
  showIrq?(): void;
  showRegisters?(page: 'general' | 'system' | 'x87'): void;
  showVga?(): void;
}

export class CommandError extends Error {}

// ---- numbers and addresses -----------------------------------------------------------------

function register(t: DebugTarget, name: string): number | null {
  const n = name.toLowerCase();
  const r = t.registers();
  if (n === 'pc' || n === 'eip') return n === 'pc' ? t.status().pc : r.eip;
  const g = (GPR_NAMES as readonly string[]).indexOf(n);
  if (g >= 0) return r.gpr[g]! >>> 0;
  const s = (SEG_REG_NAMES as readonly string[]).indexOf(n);
  if (s >= 0) return r.seg[s]!.sel;
  if (n === 'eflags') return r.eflags;
  if (/^cr[0234]$/.test(n)) return r[n as 'cr0'] >>> 0;
  return null;
}

/** One term: `0x1f`, `31`, `$esp`, `main`. */
function term(t: DebugTarget, text: string): number {
  const s = text.trim();
  if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s.slice(2), 16);
  if (/^\d+$/.test(s)) return parseInt(s, 10);
  if (s.startsWith('$')) {
    const v = register(t, s.slice(1));
    if (v === null) throw new CommandError(`no register ${s}`);
    return v;
  }
  if (/^[A-Za-z_.][\w.$@]*$/.test(s)) {
    const v = t.lookupSymbol(s);
    if (v === null) throw new CommandError(`no symbol "${s}"`);
    return v;
  }
  throw new CommandError(`"${s}" is not an address`);
}

/**
 * An address as gdb reads one: `*0x100000`, `1048576`, `main`, `main+0x10`, `main+16`,
 * `$esp+8`, `$esp-4`.
 */
export function parseAddress(t: DebugTarget, text: string): number {
  const s = text.trim().replace(/^\*\s*/, '');
  if (!s) throw new CommandError('an address is needed');
  let total = 0;
  let sign = 1;
  let rest = s;
  for (;;) {
    const m = /^\s*([^+\-\s][^+\-]*?)\s*(?:([+-])(.*))?$/.exec(rest);
    if (!m) throw new CommandError(`"${text.trim()}" is not an address`);
    total += sign * term(t, m[1]!);
    if (m[2] === undefined) break;
    sign = m[2] === '+' ? 1 : -1;
    rest = m[3]!;
  }
  return total >>> 0;
}

/** `<main+0x1a>` (or `<main>`), typed back as `main+0x1a`; '' where no symbol covers it. */
export function symbolNote(t: DebugTarget, addr: number, data = false): string {
  const s = data ? t.dataSymbolAt(addr) : t.symbolAt(addr);
  return s ? ` <${s.name}${s.offset ? `+0x${s.offset.toString(16)}` : ''}>` : '';
}

/** `0x00100b5a <main+0xa>`. */
export function formatAddress(t: DebugTarget, addr: number, data = false): string {
  return `0x${hex8(addr)}${symbolNote(t, addr, data)}`;
}

function count(text: string | undefined, what: string, max: number): number {
  if (text === undefined || text === '') return 1;
  if (!/^\d{1,9}$/.test(text)) throw new CommandError(`${what}: "${text}" is not a count`);
  const n = parseInt(text, 10);
  if (n < 1 || n > max) throw new CommandError(`${what}: ${n} is out of range (1-${max})`);
  return n;
}

// ---- help ------------------------------------------------------------------------------------

const HELP: [string, string][] = [
  ['help', 'this list (numbers: 0x hex, decimal; ADDR: 0x100000, main, main+0x10, $esp+8)'],
  ['b|break ADDR, hb|hbreak ADDR', 'breakpoint (hardware: the same here)'],
  ['watch|rwatch|awatch ADDR [LEN]', 'watchpoint of 1, 2, 4 or 8 bytes (default 4)'],
  ['d|delete [N...]', 'delete breakpoints and watchpoints N (all)'],
  ['si|stepi [N], sb|stepb [N]', 'step N instructions / N translated blocks'],
  ['c|continue, pause', 'run, stop (the terminal UI)'],
  ['x/NFU ADDR, xp/NFU ADDR', 'examine linear / physical memory: F = x d u c i, U = b h w g'],
  ['info registers', 'registers with hidden segment state, GDTR/IDTR, CRs, DRs'],
  ['info cpus, cpu N', 'the CPUs (* the selected one); select CPU N for registers and steps'],
  ['info float', 'the x87 unit, as gdb lays it out'],
  ['info tb', 'TB cache statistics (TBs, bytes, links, flushes, invalidations, hit rate)'],
  ['info tb ADDR', 'the TBs covering ADDR: guest code, generated JavaScript, links, counts, invalidations'],
  ['info irq', 'IRQ lines, PIC state and counts, recent deliveries'],
  ['info pic | pit | serial | rtc | apic | ioapic | pci | fw_cfg | pam | vga | hpet', 'device state'],
  ['info block', 'the drives: image, media, tray, size, I/O, the last commands'],
  ['eject [-f] DEV', 'take the medium out of ide1-cd0, floppy0...; -f: even from a locked tray'],
  ['change DEV FILE [raw]', 'put the image FILE in drive DEV (the old medium is flushed and closed)'],
  ['info tlb', 'page mappings one page per line, software TLB counters'],
  ['info mem', 'page mappings merged into ranges'],
  ['info breakpoints', 'breakpoints and watchpoints of every front end'],
  ['tb flush', 'drop every translated block'],
  ['icount', 'retired instructions'],
  ['system_reset', 'reset the machine (CPU and devices)'],
  ['system_wakeup', 'wake a guest suspended to RAM (ACPI S3), as a key press would'],
  ['physmem [on|off]', "gdb's m/M/X packets read and write physical memory (on) or linear (off, default)"],
  ['q|quit', 'quit (the terminal UI)'],
  ...TIME_TRAVEL_HELP,
];

export const COMMAND_HELP: readonly string[] = HELP.map(([c, h]) => `${c.padEnd(34)} ${h}`);

// ---- the interpreter ---------------------------------------------------------------------------

/**
 * Run one command line; returns its output (ending in a newline, or empty). A mistake in a
 * command is an answer too (`error: ...`), never an exception.
 */
export async function runCommand(t: DebugTarget, line: string, host: CommandHost): Promise<string> {
  const text = line.trim();
  if (!text) return '';
  try {
    const out = await dispatch(t, text, host);
    return out === '' || out.endsWith('\n') ? out : `${out}\n`;
  } catch (e) {
    if (e instanceof CommandError) return `error: ${e.message}\n`;
    throw e;
  }
}

async function dispatch(t: DebugTarget, text: string, host: CommandHost): Promise<string> {
  const x = /^(xp?)\s*\/\s*(\d*)([xducig]?)([bhwg]?)\s*(.*)$/.exec(text) ?? /^(xp?)()()()\s+(.+)$/.exec(text);
  if (x) return examine(t, host, x[1] === 'xp', x[2]!, x[3] || 'x', x[4]!, x[5]!);
  const [cmd, ...args] = text.split(/\s+/);
  const rest = args.join(' ');
  switch (cmd) {
    case 'help':
    case 'h':
    case '?':
      return COMMAND_HELP.join('\n');
    case 'b':
    case 'break':
    case 'hb':
    case 'hbreak': {
      const addr = rest ? parseAddress(t, rest) : t.status().pc;
      const bp = t.addBreakpoint(addr, { hw: cmd.startsWith('h'), owner: 'ui' });
      return `Breakpoint ${bp.id} at ${formatAddress(t, addr)}`;
    }
    case 'watch':
    case 'rwatch':
    case 'awatch': {
      const [a, l] = args;
      const addr = parseAddress(t, a ?? '');
      const len = l === undefined ? 4 : Number(l);
      if (![1, 2, 4, 8].includes(len)) throw new CommandError(`watchpoint length ${l} is not 1, 2, 4 or 8`);
      const w = t.addWatchpoint(addr, len, cmd as WatchKind);
      const what = cmd === 'watch' ? 'Hardware watchpoint' : cmd === 'rwatch' ? 'Read watchpoint' : 'Access watchpoint';
      return `${what} ${w.id}: ${formatAddress(t, addr, true)} (${len} bytes)`;
    }
    case 'd':
    case 'delete': {
      if (!rest) {
        const ids = [...t.breakpoints().map((b) => b.id), ...t.watchpoints().map((w) => w.id)];
        for (const id of ids) t.removeBreakpointById(id);
        return `deleted ${ids.length} breakpoints and watchpoints`;
      }
      // Every number is checked before one is deleted: a command that fails changes nothing.
      const bad = args.find((a) => !Number.isInteger(Number(a)));
      if (bad !== undefined) throw new CommandError(`"${bad}" is not a breakpoint number`);
      return args.map((a) => (t.removeBreakpointById(Number(a)) ? `deleted ${a}` : `no breakpoint number ${a}`)).join('\n');
    }
    case 'si':
    case 'stepi': {
      const n = count(args[0], cmd, 1_000_000_000);
      if (!host.run) throw new CommandError(`${cmd}: gdb steps with stepi`);
      await host.run.stepInstruction(n);
      return '';
    }
    case 'sb':
    case 'stepb': {
      const n = count(args[0], 'stepb', 1_000_000);
      if (host.run) {
        await host.run.stepBlock(n);
        return '';
      }
      // gdb's monitor: the blocks run now, and gdb reads the registers again after it.
      if (t.status().state === 'exited') throw new CommandError('the guest has exited');
      const before = t.status().icount;
      const reason = await t.stepBlock(n, 'monitor');
      const tb = t.lastTb();
      const stopped = reason.kind === 'step' ? '' : ` (stopped: ${reason.kind})`;
      return `stepped ${n} block${n === 1 ? '' : 's'}, ${t.status().icount - before} instructions${stopped}; last TB #${tb?.id ?? '?'} at ${hex8(tb?.pc ?? 0)}; eip now ${hex8(t.registers().eip)}\n` +
        'gdb: run "maintenance flush register-cache" to see the new registers';
    }
    case 'c':
    case 'cont':
    case 'continue':
      if (!host.run) throw new CommandError(`${cmd}: gdb continues with continue`);
      host.run.continueGuest();
      return '';
    case 'pause':
    case 'stop':
    case 'interrupt':
      if (!host.run) throw new CommandError(`${cmd}: gdb interrupts with Ctrl-C`);
      await host.run.pauseGuest();
      return '';
    case 'tb': {
      if (args[0] === 'flush') return `flushed ${t.tbFlush('monitor')} TBs`;
      if (!host.showTb) throw new CommandError('usage: tb flush');
      const addr = rest ? parseAddress(t, rest) : t.status().pc;
      const live = t.tbs(addr);
      if (live.length) {
        const score = (s: (typeof live)[number]): number => (s.pc === addr ? 2 : 0) + (s.single ? 0 : 1);
        host.showTb(live.reduce((a, b) => (score(b) > score(a) || (score(b) === score(a) && b.id > a.id) ? b : a)).id);
      }
      return formatTbAt(t, addr).split('\n').slice(0, live.length ? 3 : 12).join('\n').trimEnd();
    }
    case 'flush':
      return `flushed ${t.tbFlush('ui')} TBs`;
    case 'irq':
      host.showIrq?.();
      return formatIrq(t);
    case 'info':
      return info(t, host, args[0], args.slice(1).join(' '));
    case 'icount':
      return String(t.status().icount);
    case 'cpu': {
      // QEMU's monitor `cpu N`: the CPU registers and steps apply to.
      const n = args[0] === undefined ? NaN : Number(args[0]);
      if (!t.selectCpu(n)) throw new CommandError(`cpu: ${args[0] ?? '(none)'} is not a CPU of this machine (0-${t.cpus().length - 1}), or the guest is running`);
      return formatCpus(t);
    }
    case 'system_reset':
      await t.reset('monitor');
      return `machine reset; eip ${hex8(t.registers().eip)}`;
    case 'eject': {
      const force = args[0] === '-f';
      const dev = force ? args[1] : args[0];
      if (!dev || args.length > (force ? 2 : 1)) throw new CommandError('usage: eject [-f] DEV');
      await userErrors(() => t.ejectMedium(dev, force, 'monitor'));
      return '';
    }
    case 'change': {
      const [dev, file, format, ...more] = args;
      if (!dev || !file || more.length > 0) throw new CommandError('usage: change DEV FILE [raw]');
      await userErrors(() => t.changeMedium(dev, file, format, 'monitor'));
      return '';
    }
    case 'system_wakeup':
      // QEMU's message when the guest is not in S3.
      if (!t.wakeup()) throw new CommandError('Unable to wake up: guest is not in suspended state');
      return 'waking up from S3';
    case 'physmem':
      if (args[0] === 'on' || args[0] === '1') host.session.physicalMemory = true;
      else if (args[0] === 'off' || args[0] === '0') host.session.physicalMemory = false;
      else if (args[0] !== undefined) throw new CommandError('usage: physmem [on|off]');
      return `memory accesses use ${host.session.physicalMemory ? 'physical' : 'linear'} addresses`;
    case 'q':
    case 'quit':
      if (!host.quit) throw new CommandError('quit: end gdb with quit, or the emulator with kill');
      host.quit();
      return '';
    default: {
      const out = await timeTravelCommand(t, cmd!, args);
      if (out !== null) return out;
      throw new CommandError(`unknown command "${cmd}"; try "help"`);
    }
  }
}

/** A mistake the user can make (a file, a locked tray) is an answer, not an exception. */
async function userErrors(f: () => Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (e instanceof UserError) throw new CommandError(e.message);
    throw e;
  }
}

const DEVICES: Record<string, DeviceName> = {
  pic: 'pic', pit: 'pit', serial: 'serial', rtc: 'rtc', apic: 'lapic', lapic: 'lapic', ioapic: 'ioapic', pci: 'pci',
  fw_cfg: 'fw_cfg', fwcfg: 'fw_cfg', pam: 'pam', hpet: 'hpet', kbc: 'kbc', i8042: 'kbc', post: 'post', block: 'block',
};

/** QEMU's `info cpus` (`* CPU #0: pc=... (halted)`), with each CPU's retired instructions. */
function formatCpus(t: DebugTarget): string {
  const sel = t.selectedCpu();
  return t.cpus().map((c) => {
    const state = c.state === 'running' ? '' : c.state === 'halted' ? ' (halted)' : ' (waiting for SIPI)';
    return `${c.index === sel ? '*' : ' '} CPU #${c.index}: pc=0x${c.pc.toString(16).padStart(16, '0')}${state} apic_id=${c.apicId} instructions=${c.icount}`;
  }).join('\n');
}

/** ATA command names for `info block`. */
const ATA_COMMANDS: Record<number, string> = {
  0x20: 'READ SECTORS', 0x21: 'READ SECTORS', 0x24: 'READ SECTORS EXT', 0x29: 'READ MULTIPLE EXT', 0x30: 'WRITE SECTORS', 0x31: 'WRITE SECTORS',
  0x34: 'WRITE SECTORS EXT', 0x39: 'WRITE MULTIPLE EXT', 0xc4: 'READ MULTIPLE', 0xc5: 'WRITE MULTIPLE', 0xc6: 'SET MULTIPLE MODE',
  0xc8: 'READ DMA', 0xc9: 'READ DMA', 0x25: 'READ DMA EXT', 0xca: 'WRITE DMA', 0xcb: 'WRITE DMA', 0x35: 'WRITE DMA EXT',
  0xe7: 'FLUSH CACHE', 0xea: 'FLUSH CACHE EXT', 0xec: 'IDENTIFY DEVICE', 0xa1: 'IDENTIFY PACKET DEVICE', 0xa0: 'PACKET', 0xef: 'SET FEATURES',
  0x40: 'READ VERIFY', 0x41: 'READ VERIFY', 0x42: 'READ VERIFY EXT', 0xf8: 'READ NATIVE MAX ADDRESS', 0x27: 'READ NATIVE MAX ADDRESS EXT',
  0xe5: 'CHECK POWER MODE', 0x90: 'EXECUTE DEVICE DIAGNOSTIC', 0x08: 'DEVICE RESET', 0x10: 'RECALIBRATE', 0x70: 'SEEK', 0x91: 'INITIALIZE DEVICE PARAMETERS',
};

interface BlockRecord {
  name: string; file: string; inserted: boolean; removable: { locked: boolean; trayOpen: boolean } | null; format: string; media: string; readOnly: boolean; sectors: number; attached: string;
  snapshotOverlaySectors: number | null; stats: { readSectors: number; writtenSectors: number; flushes: number }; dirty: boolean;
  geometry: { cylinders: number; heads: number; sectors: number; translation: string } | null;
  recent: { command: number; lba: number; count: number; status: number; packet?: number }[];
}

/** One IDE command as `info block` and the UI name it: "READ DMA lba 100 count 8, status 0x50". */
export function describeIdeCommand(c: { command: number; lba: number; count: number; status: number; packet?: number }): string {
  const name = ATA_COMMANDS[c.command] ?? `command 0x${c.command.toString(16)}`;
  const what = c.packet !== undefined ? ` (SCSI 0x${c.packet.toString(16).padStart(2, '0')})` : c.lba >= 0 ? ` lba ${c.lba} count ${c.count}` : '';
  return `${name}${what}, status 0x${c.status.toString(16).padStart(2, '0')}`;
}

/** QEMU's `info block` layout, with what a debugger wants to know besides. */
function formatBlock(list: BlockRecord[]): string {
  if (list.length === 0) return 'no drives';
  return list.map((b) => {
    const removable = b.removable ? `    Removable device: ${b.removable.locked ? 'locked' : 'not locked'}, tray ${b.removable.trayOpen ? 'open' : 'closed'}` : null;
    const where = `${b.attached}, ${b.media === 'cdrom' ? 'CD-ROM' : 'disk'}`;
    if (!b.inserted) return [`${b.name}: [not inserted]`, `    Attached to:      ${where}`, ...(removable ? [removable] : [])].join('\n');
    const lines = [`${b.name}: ${b.file} (${b.format}${b.readOnly ? ', read-only' : ''})`];
    const size = b.sectors * 512;
    const mib = size >= 1 << 20 ? `${(size / (1 << 20)).toFixed(size % (1 << 20) ? 1 : 0)} MiB` : `${size / 1024} KiB`;
    lines.push(`    Attached to:      ${where}, ${b.sectors} sectors (${mib})`);
    if (b.geometry) lines.push(`    Geometry:         CHS ${b.geometry.cylinders}/${b.geometry.heads}/${b.geometry.sectors}, translation ${b.geometry.translation}`);
    if (removable) lines.push(removable);
    if (b.snapshotOverlaySectors !== null) lines.push(`    Snapshot:         -snapshot overlay, ${b.snapshotOverlaySectors} sectors written (dropped at exit)`);
    else if (!b.readOnly) lines.push(`    Cache mode:       writeback, ${b.dirty ? 'writes not yet flushed' : 'flushed'}`);
    lines.push(`    I/O:              ${b.stats.readSectors} sectors read, ${b.stats.writtenSectors} written, ${b.stats.flushes} flushes`);
    if (b.recent.length > 0) {
      lines.push('    Last commands:');
      for (const c of b.recent.slice(-8)) lines.push(`      ${describeIdeCommand(c)}`);
    }
    return lines.join('\n');
  }).join('\n\n');
}

async function info(t: DebugTarget, host: CommandHost, what: string | undefined, rest: string): Promise<string> {
  switch (what) {
    case undefined:
      throw new CommandError('info what? (help lists them)');
    case 'cpus':
      return formatCpus(t);
    case 'registers':
    case 'reg':
    case 'r':
      host.showRegisters?.('general');
      return formatRegisters(t.registers(), t.status().a20);
    case 'float':
    case 'fpu':
      host.showRegisters?.('x87');
      return formatInfoFloat(t.registers().fpu);
    case 'tb':
    case 'jit':
      return rest ? formatTbAt(t, parseAddress(t, rest)) : formatTbStats(t.tbStats());
    case 'irq':
      host.showIrq?.();
      return formatIrq(t);
    case 'tlb':
      return formatTlbPages(t);
    case 'mem':
      return formatTlb(t.tlb());
    case 'breakpoints':
    case 'break':
    case 'b':
      return formatBreakpoints(t);
    case 'snapshots':
      return formatSnapshots(t.snapshots());
    case 'history':
      return formatHistory(t.history(), t.status().icount);
    case 'vga': {
      host.showVga?.();
      return t.vgaText().chars.join('\n').trimEnd();
    }
    default: {
      const dev = DEVICES[what];
      if (!dev) throw new CommandError(`unknown info command "${what}"; try "help"`);
      return formatDevice(t, dev);
    }
  }
}

function formatBreakpoints(t: DebugTarget): string {
  const rows = [
    ...t.breakpoints().map((b) => ({ id: b.id, text: `#${b.id} ${b.hw ? 'hbreak' : 'break '} ${hex8(b.addr)}${symbolNote(t, b.addr)} (${b.owner})` })),
    ...t.watchpoints().map((w) => ({ id: w.id, text: `#${w.id} ${w.kind.padEnd(6)} ${hex8(w.addr)}${symbolNote(t, w.addr, true)} len ${w.len}` })),
  ].sort((a, b) => a.id - b.id);
  return rows.length ? rows.map((r) => r.text).join('\n') : 'no breakpoints or watchpoints';
}

function formatTlbPages(t: DebugTarget): string {
  const tlb = t.tlb(4096);
  const counters = `software TLB: ${tlb.validEntries} valid entries, ${tlb.fills} fills, ${tlb.flushes} flushes`;
  if (!tlb.paging) return `paging disabled: linear = physical\n${counters}`;
  const lines = tlb.mappings.map((p) => `${hex8(p.linear)}: ${hex8(p.physical)} ${p.size >= 0x200000 ? 'large ' : ''}${p.global ? 'G' : '-'}${p.user ? 'U' : 'S'}${p.writable ? 'W' : 'R'}`);
  if (tlb.mappings.length >= 4096) lines.push('... (first 4096 mappings)');
  lines.push(counters);
  return lines.join('\n');
}

/** Quantities (counts, times, rates) are decimal; register-like values hex. */
const DECIMAL_KEY = /count|channel|mode|ns$|us$|ms$|hz$|freq|period|rate|ticks|seconds|icount/i;

function kvValue(k: string, v: unknown): string {
  if (typeof v !== 'number') return JSON.stringify(v);
  if (!Number.isInteger(v)) return String(Math.round(v * 1000) / 1000);
  return DECIMAL_KEY.test(k) ? String(v) : `0x${v.toString(16)}`;
}

export function kv(obj: Record<string, unknown>): string {
  return Object.entries(obj)
    .map(([k, v]) => `${k}=${kvValue(k, v)}`)
    .join(' ');
}

function formatDevice(t: DebugTarget, dev: DeviceName): string {
  const i = t.deviceInfo(dev) as Record<string, unknown>;
  switch (dev) {
    case 'pic': {
      const p = i as { intr: boolean; master: Record<string, unknown>; slave: Record<string, unknown> };
      return `INTR=${p.intr ? 1 : 0}\nmaster: ${kv({ ...p.master })}\nslave:  ${kv({ ...p.slave })}`;
    }
    case 'pit': {
      const p = i as unknown as { channels: ({ channel: number } & Record<string, unknown>)[]; irq0: Record<string, unknown>; port61: Record<string, unknown> };
      return [...p.channels.map(({ channel, ...c }) => `channel ${channel}: ${kv(c)}`), `irq0: ${kv(p.irq0)}`, `port61: ${kv(p.port61)}`].join('\n');
    }
    case 'serial':
      return `COM1: ${kv({ ...i })}`;
    case 'lapic':
      return describeLocalApic(i as unknown as LocalApicInfo);
    case 'ioapic':
      return describeIoApic(i as unknown as IoApicInfo);
    case 'pci':
      return (i as unknown as Record<string, unknown>[]).map(describePci).join('');
    case 'fw_cfg': {
      const f = i as { files?: { name: string; size: number }[] } & Record<string, unknown>;
      const files = (f.files ?? []).map((x) => `  ${String(x.size).padStart(8)}  ${x.name}`);
      const { files: _f, ...others } = f;
      return `${kv(others)}\nfiles:\n${files.join('\n')}`;
    }
    case 'block':
      return formatBlock(i as unknown as BlockRecord[]);
    case 'pam': {
      const p = i as unknown as { segments: { base: number; size: number; read: string; write: string }[]; ramOverlay?: { base: number; size: number } | null };
      const lines = p.segments.map((sg) => `${hex8(sg.base)}-${hex8(sg.base + sg.size - 1)} read ${sg.read} write ${sg.write}`);
      const o = p.ramOverlay;
      if (o) lines.push(`${hex8(o.base)}-${hex8(o.base + o.size - 1)} read ram write ram (kvmvapic option ROM)`);
      return lines.join('\n');
    }
    default:
      return kv({ ...i });
  }
}

function describePci(i: Record<string, unknown>): string {
  const head = ['bdf', 'vendor', 'device', 'class', 'name'].filter((k) => k in i).map((k) => `${k}=${pciValue(i[k])}`).join(' ');
  const others = Object.entries(i).filter(([k]) => !['bdf', 'vendor', 'device', 'class', 'name'].includes(k)).map(([k, v]) => `  ${k}: ${pciValue(v)}`);
  return `${head}\n${others.join('\n')}\n`;
}

function pciValue(v: unknown): string {
  if (typeof v === 'number') return v > 9 ? `0x${v.toString(16)}` : String(v);
  if (Array.isArray(v)) return `[${v.map(pciValue).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${pciValue(x)}`).join(', ')}}`;
  return String(v);
}

async function examine(t: DebugTarget, host: CommandHost, physical: boolean, n: string, fmt: string, unitText: string, where: string): Promise<string> {
  if (!where.trim()) throw new CommandError(`usage: ${physical ? 'xp' : 'x'}/NFU ADDR`);
  const num = count(n || undefined, `${physical ? 'xp' : 'x'} count`, 4096);
  const addr = parseAddress(t, where);
  if (fmt === 'i') {
    const bytes = t.readMemory(addr, num * 15, physical);
    if (!bytes) throw new CommandError(`cannot access memory at 0x${hex8(addr)}`);
    if (!physical) host.showDisasm?.(addr);
    return disassemble(bytes, addr, t.status().codeBits, num).map((l) => `${formatAddress(t, l.addr)}:  ${l.text}`).join('\n');
  }
  // As QEMU's and gdb's x: characters are bytes unless a unit is given; /g is 8 bytes.
  const unit = ({ b: 1, h: 2, w: 4, g: 8 } as const)[(unitText || (fmt === 'c' ? 'b' : fmt === 'g' ? 'g' : 'w')) as 'b' | 'h' | 'w' | 'g'];
  const f = fmt === 'g' ? 'x' : fmt;
  const bytes = t.readMemory(addr, num * unit, physical);
  if (!bytes) throw new CommandError(`cannot access memory at 0x${hex8(addr)}`);
  host.showMemory?.(addr, physical);
  if (f === 'x' && unit !== 8) return formatMemory(bytes, addr, unit as 1 | 2 | 4);
  const out: string[] = [];
  const perLine = Math.max(1, 16 / unit);
  for (let i = 0; i < num; i += perLine) {
    const vals: string[] = [];
    for (let j = i; j < Math.min(num, i + perLine); j++) {
      let v = 0n;
      for (let b = unit - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[j * unit + b]!);
      const bits = unit * 8;
      if (f === 'x') vals.push(v.toString(16).padStart(unit * 2, '0'));
      else if (f === 'u') vals.push(v.toString(10));
      else if (f === 'd') vals.push(BigInt.asIntN(bits, v).toString(10));
      else vals.push(unit === 1 && v >= 0x20n && v < 0x7fn ? `'${String.fromCharCode(Number(v))}'` : `'\\x${v.toString(16).padStart(unit * 2, '0')}'`);
    }
    out.push(`${hex8(addr + i * unit)}: ${vals.join(' ')}`);
  }
  return out.join('\n');
}
