// The UI's command line: gdb-like commands on the same controller gdb uses. Results go
// to the log pane (and the message line); commands that show something move the
// matching pane there. Unknown commands go to the monitor interpreter when there is one.
import type { DebugController } from '../../src/debug/controller.js';
import { formatIrq, formatMemory, formatRegisters, formatTbAt, formatTbStats, hex8 } from '../../src/debug/inspect.js';
import { disassemble } from '../../src/debug/disassembler.js';
import { HF_CS32 } from '../../src/cpu/cpu.js';
import { CF_SINGLE } from '../../src/tb/translation-block.js';
import { registerValue } from './memory-view.js';
import { breakpointRows } from './breakpoints-view.js';
import { formatInfoFloat } from './x87-view.js';
import type { RegisterPage } from './types.js';

export interface CommandHost {
  readonly ctl: DebugController;
  log(text: string): void;
  stepInstruction(n: number): Promise<void>;
  stepBlock(n: number): Promise<void>;
  continueGuest(): void;
  pauseGuest(): Promise<void>;
  quit(): void;
  showMemory(addr: number, physical: boolean): void;
  showTb(id: number): void;
  showDisasm(addr: number): void;
  showIrq(): void;
  /** Show a page of the registers pane. */
  showRegisters(page: RegisterPage): void;
  showVga(): void;
  flushTbs(): void;
  /** The gdb engineer's `monitor` interpreter, when it is built in. */
  monitor(line: string): Promise<string | null>;
}

export const COMMAND_HELP = [
  'b ADDR|SYMBOL      breakpoint (hb: hardware)       d [N]      delete breakpoint N (all)',
  'watch|rwatch|awatch ADDR [LEN]  watchpoint',
  'si [N]             step N instructions              sb [N]     step N translated blocks',
  'c                  continue                         pause      stop the guest',
  'x/NFU ADDR         examine memory (F: x d c i, U: b h w); xp: physical',
  'tb ADDR            TB-cache inspector at ADDR       flush      flush the TB cache',
  'irq                PICs and the IRQ timeline        info registers|float|breakpoints|jit|irq|vga',
  'q                  quit                             (other commands: the monitor, if built in)',
];

/** `0x100000`, `1048576`, `*0x100000`, `main`, `main+0x10`, `$eip`, `$esp+8`. */
export function parseAddress(ctl: DebugController, text: string): number | string {
  const t = text.trim().replace(/^\*/, '');
  if (!t) return 'an address is needed';
  const m = /^([^+-]+?)\s*(?:([+-])\s*(\S+))?$/.exec(t);
  if (!m) return `cannot parse "${text}"`;
  const base = parseTerm(ctl, m[1]!);
  if (typeof base === 'string') return base;
  if (!m[2]) return base >>> 0;
  const off = parseTerm(ctl, m[3]!);
  if (typeof off === 'string') return off;
  return (m[2] === '+' ? base + off : base - off) >>> 0;
}

function parseTerm(ctl: DebugController, t: string): number | string {
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^\d+$/.test(t)) return parseInt(t, 10);
  if (t.startsWith('$')) {
    const name = t.slice(1).toLowerCase();
    const v = registerValue(ctl, name === 'pc' ? 'eip' : name);
    return v === null ? `no register ${t}` : v;
  }
  const sym = ctl.lookupSymbol(t);
  if (sym !== null) return sym;
  if (/^[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  return `no symbol "${t}"`;
}

function count(arg: string | undefined): number | string {
  if (arg === undefined || arg === '') return 1;
  const n = Number(arg);
  return Number.isInteger(n) && n > 0 ? n : `"${arg}" is not a count`;
}

function describeAddr(ctl: DebugController, addr: number): string {
  const s = ctl.symbolAt(addr);
  return `0x${hex8(addr)}${s ? ` <${s.name}${s.offset ? `+${s.offset}` : ''}>` : ''}`;
}

export async function runCommand(host: CommandHost, line: string): Promise<void> {
  const ctl = host.ctl;
  const text = line.trim();
  if (!text) return;
  const xm = /^(xp?)\s*\/\s*(\d*)([xdcui]?)([bhw]?)\s+(.+)$/.exec(text) ?? /^(xp?)()()()\s+(.+)$/.exec(text);
  if (xm) return examine(host, xm[1] === 'xp', xm[2] ? Number(xm[2]) : 8, xm[3] || 'x', xm[4] || 'w', xm[5]!);
  const [cmd, ...rest] = text.split(/\s+/);
  const arg = rest.join(' ');
  switch (cmd) {
    case 'b':
    case 'break':
    case 'hb':
    case 'hbreak': {
      const addr = arg ? parseAddress(ctl, arg) : ctl.machine.cpu.pc;
      if (typeof addr === 'string') return host.log(addr);
      const bp = ctl.addBreakpoint(addr, { hw: cmd.startsWith('h'), owner: 'ui' });
      return host.log(`Breakpoint ${bp.id} at ${describeAddr(ctl, addr)}`);
    }
    case 'watch':
    case 'rwatch':
    case 'awatch': {
      const [a, l] = rest;
      const addr = parseAddress(ctl, a ?? '');
      if (typeof addr === 'string') return host.log(addr);
      const len = l ? Number(l) : 4;
      if (![1, 2, 4, 8].includes(len)) return host.log(`watchpoint length ${l} is not 1, 2, 4 or 8`);
      const w = ctl.addWatchpoint(addr, len, cmd);
      return host.log(`${cmd === 'watch' ? 'Hardware watchpoint' : cmd === 'rwatch' ? 'Read watchpoint' : 'Access watchpoint'} ${w.id}: ${describeAddr(ctl, addr)} (${len} bytes)`);
    }
    case 'd':
    case 'delete': {
      if (!arg) {
        const all = breakpointRows(ctl);
        for (const r of all) ctl.removeBreakpointById(r.id);
        return host.log(`deleted ${all.length} breakpoints and watchpoints`);
      }
      const ids = rest.map(Number);
      for (const id of ids) {
        if (!Number.isInteger(id)) return host.log(`"${arg}" is not a breakpoint number`);
        host.log(ctl.removeBreakpointById(id) ? `deleted ${id}` : `no breakpoint number ${id}`);
      }
      return;
    }
    case 'si':
    case 'stepi': {
      const n = count(rest[0]);
      if (typeof n === 'string') return host.log(n);
      return host.stepInstruction(n);
    }
    case 'sb':
    case 'stepb': {
      const n = count(rest[0]);
      if (typeof n === 'string') return host.log(n);
      return host.stepBlock(n);
    }
    case 'c':
    case 'cont':
    case 'continue':
      return host.continueGuest();
    case 'pause':
    case 'interrupt':
      return host.pauseGuest();
    case 'tb': {
      const addr = arg ? parseAddress(ctl, arg) : ctl.machine.cpu.pc;
      if (typeof addr === 'string') return host.log(addr);
      const live = ctl.machine.exec.tbs.findByLinear(addr);
      if (live.length) {
        const score = (t: (typeof live)[number]): number => (t.pc === addr ? 2 : 0) + (t.cflags & CF_SINGLE ? 0 : 1);
        host.showTb(live.reduce((a, b) => (score(b) > score(a) || (score(b) === score(a) && b.id > a.id) ? b : a)).id);
      }
      return host.log(formatTbAt(ctl.machine, addr).split('\n').slice(0, live.length ? 3 : 12).join('\n').trimEnd());
    }
    case 'flush':
      host.flushTbs();
      return host.log('TB cache flushed');
    case 'irq':
      host.showIrq();
      return host.log(formatIrq(ctl.machine).trimEnd());
    case 'info': {
      switch (rest[0]) {
        case 'registers':
        case 'reg':
        case 'r':
          return host.log(formatRegisters(await ctl.registers()).trimEnd());
        case 'breakpoints':
        case 'break':
        case 'b': {
          const rows = breakpointRows(ctl);
          return host.log(rows.length ? rows.map((r) => `${r.id}  ${r.kind.padEnd(7)} ${describeAddr(ctl, r.addr)}${r.len > 1 ? ` len ${r.len}` : ''}  (${r.owner})`).join('\n') : 'no breakpoints or watchpoints');
        }
        case 'float':
        case 'fpu':
          host.showRegisters('x87');
          return host.log(formatInfoFloat((await ctl.registers()).fpu));
        case 'vga':
          // The VGA pane, and the monitor's `info vga` (registers, mode) in the log.
          host.showVga();
          break;
        case 'jit':
        case 'tb':
          return host.log(formatTbStats(ctl.machine).trimEnd());
        case 'irq':
        case 'pic':
          return host.log(formatIrq(ctl.machine).trimEnd());
        default:
          break;
      }
      break;
    }
    case 'q':
    case 'quit':
      return host.quit();
    case 'help':
    case 'h':
      return host.log(COMMAND_HELP.join('\n'));
    default:
      break;
  }
  const mon = await host.monitor(text.replace(/^monitor\s+/, ''));
  host.log(mon ?? `unknown command "${cmd}" (help lists the commands)`);
}

async function examine(host: CommandHost, physical: boolean, n: number, fmt: string, unit: string, where: string): Promise<void> {
  const ctl = host.ctl;
  const addr = parseAddress(ctl, where);
  if (typeof addr === 'string') return host.log(addr);
  n = Math.max(1, Math.min(n, 4096));
  if (fmt === 'i') {
    const cpu = ctl.machine.cpu;
    const bytes = await ctl.readMemory(addr, n * 15, physical);
    if (!bytes) return host.log(`cannot access memory at 0x${hex8(addr)}`);
    const lines = disassemble(bytes, addr, cpu.hflags & HF_CS32 ? 32 : 16, n);
    if (!physical) host.showDisasm(addr);
    return host.log(lines.map((l) => `${describeAddr(ctl, l.addr)}:  ${l.text}`).join('\n'));
  }
  const size = fmt === 'c' ? 1 : unit === 'b' ? 1 : unit === 'h' ? 2 : 4;
  const bytes = await ctl.readMemory(addr, n * size, physical);
  if (!bytes) return host.log(`cannot access memory at 0x${hex8(addr)}`);
  host.showMemory(addr, physical);
  if (fmt === 'x') return host.log(formatMemory(bytes, addr, size as 1 | 2 | 4).trimEnd());
  const out: string[] = [];
  for (let off = 0; off < bytes.length; off += 8 * size) {
    const vals: string[] = [];
    for (let i = off; i < Math.min(bytes.length, off + 8 * size); i += size) {
      let v = 0;
      for (let b = size - 1; b >= 0; b--) v = v * 256 + bytes[i + b]!;
      if (fmt === 'c') vals.push(v >= 32 && v < 127 ? `'${String.fromCharCode(v)}'` : `\\x${v.toString(16).padStart(2, '0')}`);
      else if (fmt === 'd') vals.push(String(size === 4 ? v | 0 : size === 2 ? (v << 16) >> 16 : (v << 24) >> 24));
      else vals.push(String(v));
    }
    out.push(`${hex8(addr + off)}: ${vals.join(' ')}`);
  }
  host.log(out.join('\n'));
}
