// The monitor: QEMU-style text commands that expose the emulator (TB cache, IRQs, TLB,
// physical memory). gdb reaches them with `monitor ...` (qRcmd); the terminal UI's
// command line calls the same function. Every answer is text; a mistake in a command is
// an answer too, never an exception.
import { describeLocalApic } from '../devices/local-apic.js';
import { describeIoApic } from '../devices/io-apic.js';
import type { DebugController } from './controller.js';
import { formatIrq, formatMemory, formatRegisters, formatTbAt, formatTbStats, formatTlb, hex8 } from './inspect.js';
import { disassemble } from './disassembler.js';
import { HF_CS32 } from '../cpu/cpu.js';

/** Per-client monitor state (one per gdb connection, one for the UI). */
export interface MonitorSession {
  /** gdb's m/M/X packets use physical addresses instead of linear ones. */
  physicalMemory: boolean;
}

export function newMonitorSession(): MonitorSession {
  return { physicalMemory: false };
}

class MonitorError extends Error {}

const HELP: [string, string][] = [
  ['help', 'this list'],
  ['info registers', 'registers with hidden segment state, GDTR/IDTR, CRs, DRs'],
  ['info tb', 'TB cache statistics (TBs, bytes, links, flushes, invalidations, hit rate)'],
  ['info tb ADDR', 'the TBs covering ADDR: guest code, generated JavaScript, links, counts, invalidations'],
  ['info irq', 'IRQ lines, PIC state and counts, recent deliveries'],
  ['info pic | pit | serial | rtc | apic | ioapic | pci | fw_cfg | pam | vga', 'device state'],
  ['info tlb', 'page mappings one page per line, software TLB counters'],
  ['info mem', 'page mappings merged into ranges'],
  ['info breakpoints', 'breakpoints and watchpoints of every front end'],
  ['tb flush', 'drop every translated block'],
  ['stepb [N]', 'run exactly N translated blocks (default 1)'],
  ['icount', 'retired instructions'],
  ['system_reset', 'reset the machine (CPU and devices)'],
  ['system_wakeup', 'wake a guest suspended to RAM (ACPI S3), as a key press would'],
  ['xp /NFU ADDR', 'physical memory: N units, F = x d u c i, U = b h w g (default /1xw)'],
  ['physmem [on|off]', "gdb's m/M/X packets read and write physical memory (on) or linear (off, default)"],
];

/** Address arguments: hex (with or without 0x), a symbol, `pc`/`$pc`/`$eip`, SYM+OFF. */
export function parseAddress(ctl: DebugController, text: string): number {
  const t = text.trim();
  const plus = t.lastIndexOf('+');
  if (plus > 0) return (parseAddress(ctl, t.slice(0, plus)) + parseAddress(ctl, t.slice(plus + 1))) >>> 0;
  if (/^(\$?pc|\$eip)$/i.test(t)) return ctl.machine.cpu.pc >>> 0;
  if (/^(0x)?[0-9a-f]{1,8}$/i.test(t)) return parseInt(t.replace(/^0x/i, ''), 16) >>> 0;
  const sym = ctl.lookupSymbol(t);
  if (sym !== null) return sym >>> 0;
  throw new MonitorError(`"${t}" is not an address (hex, a symbol or $pc)`);
}

function parseCount(text: string | undefined, what: string, max: number): number {
  if (text === undefined || text === '') return 1;
  if (!/^\d{1,9}$/.test(text)) throw new MonitorError(`${what}: "${text}" is not a count`);
  const n = parseInt(text, 10);
  if (n < 1 || n > max) throw new MonitorError(`${what}: ${n} is out of range (1-${max})`);
  return n;
}

/** Quantities (counts, times, rates) are decimal; register-like values hex. */
const DECIMAL_KEY = /count|channel|mode|ns$|us$|ms$|hz$|freq|period|rate|ticks|seconds|icount/i;

function kvValue(k: string, v: unknown): string {
  if (typeof v !== 'number') return JSON.stringify(v);
  if (!Number.isInteger(v)) return String(Math.round(v * 1000) / 1000);
  return DECIMAL_KEY.test(k) ? String(v) : `0x${v.toString(16)}`;
}

function kv(obj: Record<string, unknown>): string {
  return Object.entries(obj)
    .map(([k, v]) => `${k}=${kvValue(k, v)}`)
    .join(' ');
}

async function xp(ctl: DebugController, args: string): Promise<string> {
  const m = /^\/(\d*)([xduci]?)([bhwg]?)\s+(.+)$/.exec(args.trim()) ?? /^()()()(\S.*)$/.exec(args.trim());
  if (!m) throw new MonitorError('usage: xp /NFU ADDR');
  const count = parseCount(m[1], 'xp count', 4096);
  const fmt = m[2] || 'x';
  // As QEMU's and gdb's x: characters are bytes unless a unit is given.
  const unit = ({ b: 1, h: 2, w: 4, g: 8 } as const)[(m[3] || (fmt === 'c' ? 'b' : 'w')) as 'b' | 'h' | 'w' | 'g'];
  const addr = parseAddress(ctl, m[4]!);
  if (fmt === 'i') {
    const bytes = (await ctl.readMemory(addr, count * 15, true))!;
    const bits = ctl.machine.cpu.hflags & HF_CS32 ? 32 : 16;
    return disassemble(bytes, addr, bits, count).map((l) => `${hex8(l.addr)}: ${l.text}`).join('\n') + '\n';
  }
  const bytes = (await ctl.readMemory(addr, count * unit, true))!;
  if (fmt === 'x' && unit !== 8) return formatMemory(bytes, addr, unit as 1 | 2 | 4);
  const out: string[] = [];
  const perLine = Math.max(1, 16 / unit);
  for (let i = 0; i < count; i += perLine) {
    const vals: string[] = [];
    for (let j = i; j < Math.min(count, i + perLine); j++) {
      let v = 0n;
      for (let b = unit - 1; b >= 0; b--) v = (v << 8n) | BigInt(bytes[j * unit + b]!);
      const bits = BigInt(unit * 8);
      if (fmt === 'x') vals.push(v.toString(16).padStart(unit * 2, '0'));
      else if (fmt === 'u') vals.push(v.toString(10));
      else if (fmt === 'd') vals.push(BigInt.asIntN(Number(bits), v).toString(10));
      else vals.push(unit === 1 && v >= 0x20n && v < 0x7fn ? `'${String.fromCharCode(Number(v))}'` : `'\\x${v.toString(16).padStart(2, '0')}'`);
    }
    out.push(`${hex8(addr + i * unit)}: ${vals.join(' ')}`);
  }
  return out.join('\n') + '\n';
}

function infoTlbPages(ctl: DebugController): string {
  const cpu = ctl.machine.cpu;
  if (!(cpu.cr0 & 0x80000000)) return `paging disabled: linear = physical\nsoftware TLB: ${cpu.mmu.validEntries()} valid entries, ${cpu.mmu.fills} fills, ${cpu.mmu.flushes} flushes\n`;
  const maps = cpu.mmu.mappings(4096);
  const lines = maps.map((p) => `${hex8(p.linear)}: ${hex8(p.physical)} ${p.size >= 0x200000 ? 'large ' : ''}${p.global ? 'G' : '-'}${p.user ? 'U' : 'S'}${p.writable ? 'W' : 'R'}`);
  if (maps.length >= 4096) lines.push('... (first 4096 mappings)');
  lines.push(`software TLB: ${cpu.mmu.validEntries()} valid entries, ${cpu.mmu.fills} fills, ${cpu.mmu.flushes} flushes`);
  return lines.join('\n') + '\n';
}

function infoBreakpoints(ctl: DebugController): string {
  const out: string[] = [];
  for (const b of ctl.breakpoints()) {
    const sym = ctl.symbolAt(b.addr);
    out.push(`#${b.id} ${b.hw ? 'hbreak' : 'break '} ${hex8(b.addr)}${sym ? ` <${sym.name}+${sym.offset}>` : ''} (${b.owner})`);
  }
  for (const w of ctl.watchpoints()) out.push(`#${w.id} ${w.kind.padEnd(6)} ${hex8(w.addr)} len ${w.len}`);
  return out.length ? out.join('\n') + '\n' : 'no breakpoints or watchpoints\n';
}

async function info(ctl: DebugController, what: string, rest: string): Promise<string> {
  const m = ctl.machine;
  switch (what) {
    case 'registers':
    case 'reg':
    case 'r':
      return formatRegisters(ctl.registersNow(), m.cpu.a20Enabled);
    case 'tb':
      return rest ? formatTbAt(m, parseAddress(ctl, rest)) : formatTbStats(m);
    case 'irq':
      return formatIrq(m);
    case 'pic': {
      const i = m.pic.info();
      return `INTR=${i.intr ? 1 : 0}\nmaster: ${kv({ ...i.master })}\nslave:  ${kv({ ...i.slave })}\n`;
    }
    case 'pit': {
      const i = m.pit.info();
      return [...i.channels.map(({ channel, ...c }) => `channel ${channel}: ${kv(c)}`), `irq0: ${kv(i.irq0)}`, `port61: ${kv(i.port61)}`].join('\n') + '\n';
    }
    case 'serial':
      return `COM1: ${kv({ ...m.com1.info() })}\n`;
    case 'rtc':
      return `${kv({ ...m.rtc.info() } as Record<string, unknown>)}\n`;
    case 'apic':
    case 'lapic':
      return describeLocalApic(m.lapic.info());
    case 'ioapic':
      return describeIoApic(m.ioapic.info());
    case 'pci':
      return m.pci.devices().map((d) => describePci(d.info() as unknown as Record<string, unknown>)).join('');
    case 'fw_cfg':
    case 'fwcfg': {
      const i = m.fwCfg.info() as unknown as { files?: { name: string; size: number; key?: number; select?: number }[] } & Record<string, unknown>;
      const files = (i.files ?? []).map((f) => `  ${String(f.size).padStart(8)}  ${f.name}`);
      const { files: _f, ...rest } = i;
      return `${kv(rest)}\nfiles:\n${files.join('\n')}\n`;
    }
    case 'pam':
      return m.pam.info().segments.map((sg) => `${hex8(sg.base)}-${hex8(sg.base + sg.size - 1)} read ${sg.read} write ${sg.write}`).join('\n') + '\n';
    case 'vga':
      return m.vga.textScreen().chars.join('\n').trimEnd() + '\n';
    case 'tlb':
      return infoTlbPages(ctl);
    case 'mem':
      return formatTlb(m);
    case 'breakpoints':
    case 'break':
    case 'b':
      return infoBreakpoints(ctl);
    default:
      throw new MonitorError(`unknown info command "${what}"; try "help"`);
  }
}

/**
 * Runs one monitor command line and returns its output (always ending in a newline, or
 * empty). Errors in the command are reported in the text.
 */
export async function runMonitorCommand(ctl: DebugController, line: string, session: MonitorSession = newMonitorSession()): Promise<string> {
  const words = line.trim().split(/\s+/).filter((w) => w.length > 0);
  const [cmd, ...args] = words;
  const rest = args.join(' ');
  const m = ctl.machine;
  try {
    switch (cmd) {
      case undefined:
        return '';
      case 'help':
      case '?':
        return HELP.map(([c, d]) => `${c.padEnd(34)} ${d}`).join('\n') + '\n';
      case 'info':
        if (!args[0]) throw new MonitorError('info what? (registers, tb, irq, pic, pit, serial, rtc, apic, ioapic, pci, fw_cfg, pam, vga, tlb, mem, breakpoints)');
        return await info(ctl, args[0], args.slice(1).join(' '));
      case 'tb':
        if (args[0] !== 'flush') throw new MonitorError('usage: tb flush');
        {
          const n = m.exec.tbs.size;
          m.exec.tbFlush('monitor: tb flush');
          return `flushed ${n} TBs\n`;
        }
      case 'stepb': {
        const n = parseCount(args[0], 'stepb', 1_000_000);
        if (ctl.state === 'exited') throw new MonitorError('the guest has exited');
        const before = m.cpu.icount;
        const reason = await ctl.stepBlock(n, 'monitor');
        const tb = m.exec.lastTb;
        const stopped = reason.kind === 'step' ? '' : ` (stopped: ${reason.kind})`;
        return `stepped ${n} block${n === 1 ? '' : 's'}, ${m.cpu.icount - before} instructions${stopped}; last TB #${tb?.id ?? '?'} at ${hex8(tb?.pc ?? 0)}; eip now ${hex8(m.cpu.eip)}\n` +
          'gdb: run "maintenance flush register-cache" to see the new registers\n';
      }
      case 'icount':
        return `${m.cpu.icount}\n`;
      case 'system_reset':
        await ctl.reset('monitor');
        return `machine reset; eip ${hex8(m.cpu.eip)}\n`;
      case 'system_wakeup':
        // QEMU's message when the guest is not in S3.
        if (!m.requestWakeup('other')) throw new MonitorError('Unable to wake up: guest is not in suspended state');
        ctl.kick();
        return 'waking up from S3\n';
      case 'xp':
        return await xp(ctl, rest);
      case 'physmem':
        if (args[0] === 'on' || args[0] === '1') session.physicalMemory = true;
        else if (args[0] === 'off' || args[0] === '0') session.physicalMemory = false;
        else if (args[0] !== undefined) throw new MonitorError('usage: physmem [on|off]');
        return `memory accesses use ${session.physicalMemory ? 'physical' : 'linear'} addresses\n`;
      default:
        throw new MonitorError(`unknown command "${cmd}"; try "help"`);
    }
  } catch (e) {
    if (e instanceof MonitorError) return `error: ${e.message}\n`;
    throw e;
  }
}

function describePci(i: Record<string, unknown>): string {
  const head = ['bdf', 'vendor', 'device', 'class', 'name'].filter((k) => k in i).map((k) => `${k}=${fmt(i[k])}`).join(' ');
  const rest = Object.entries(i).filter(([k]) => !['bdf', 'vendor', 'device', 'class', 'name'].includes(k)).map(([k, v]) => `  ${k}: ${fmt(v)}`);
  return `${head}\n${rest.join('\n')}\n`;
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return v > 9 ? `0x${v.toString(16)}` : String(v);
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${fmt(x)}`).join(', ')}}`;
  return String(v);
}
