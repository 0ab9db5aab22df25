// Command-line options (yargs), with QEMU's single-dash spellings accepted where they
// mean the same thing. Every mistake is a UserError: one line, exit status 2.
import yargs from 'yargs';
import { UserError } from '../src/user-error.js';
import { CPU_MODELS, findCpuModel } from '../src/cpu/cpu-models.js';

export type Sink = { kind: 'stdio' } | { kind: 'none' } | { kind: 'file'; path: string } | { kind: 'stderr' };

export interface CliOptions {
  command: 'run' | 'dashboard';
  kernel: string | null;
  initrd: string[];
  append: string;
  memoryMiB: number;
  serial: Sink;
  debugcon: Sink;
  ui: 'none' | 'tui' | 'dashboard' | 'auto';
  maxInsns: number | null;
  loads: { path: string; addr: number }[];
  entry: number | null;
  bios: string | null;
  bootSector: string | null;
  gdb: { host: string; port: number } | null;
  startPaused: boolean;
  nsPerInsn: number;
  /** -cpu NAME (QEMU's model names), 'help' for the list, null for the default. */
  cpuModel: string | null;
}

const QEMU_SPELLINGS = ['kernel', 'initrd', 'append', 'serial', 'debugcon', 'bios', 'gdb', 'cpu'];

/** QEMU writes `-kernel`; yargs reads that as -k -e -r...; rewrite to the long form. */
export function normaliseArgv(argv: string[]): string[] {
  return argv.map((a) => {
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(a);
    if (m && QEMU_SPELLINGS.includes(m[1]!)) return `--${m[1]}${m[2] ?? ''}`;
    return a;
  });
}

export function parseNumber(text: string, what: string): number {
  const t = text.trim().replace(/_/g, '');
  const v = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? parseInt(t, 10) : NaN;
  if (!Number.isFinite(v)) throw new UserError(`${what}: "${text}" is not a number`);
  return v;
}

export function parseSink(text: string, what: string): Sink {
  if (text === 'stdio') return { kind: 'stdio' };
  if (text === 'none' || text === 'null') return { kind: 'none' };
  if (text === 'stderr') return { kind: 'stderr' };
  if (text.startsWith('file:') && text.length > 5) return { kind: 'file', path: text.slice(5) };
  throw new UserError(`${what}: "${text}" is not stdio, stderr, none or file:PATH`);
}

export function parseGdbAddress(text: string): { host: string; port: number } {
  let t = text.trim();
  if (t.startsWith('tcp:')) t = t.slice(4);
  let host = '127.0.0.1';
  let portText = t;
  const colon = t.lastIndexOf(':');
  if (colon >= 0) {
    host = t.slice(0, colon) || '127.0.0.1';
    portText = t.slice(colon + 1);
  }
  const port = parseNumber(portText, '--gdb port');
  if (port < 0 || port > 65535) throw new UserError(`--gdb: port ${port} is out of range`);
  return { host, port };
}

export function parseCli(argv: string[]): CliOptions | 'help' {
  let failure: string | null = null;
  const parsed = yargs(normaliseArgv(argv))
    .scriptName('bmbt-dbg')
    .usage('$0 [options]            run a guest (the embedded demo when no kernel is given)\n$0 dashboard [options]  live dashboard of a running guest')
    .parserConfiguration({ 'short-option-groups': false, 'camel-case-expansion': true, 'duplicate-arguments-array': true })
    .command('$0', 'run a guest')
    .command('dashboard', 'live dashboard (blessed-contrib)')
    .option('kernel', { type: 'string', describe: 'Multiboot ELF kernel to boot (QEMU: -kernel)' })
    .option('initrd', { type: 'string', array: true, describe: 'multiboot modules, FILE[,FILE...] (QEMU: -initrd)' })
    .option('append', { type: 'string', describe: 'kernel command line (QEMU: -append)' })
    .option('m', { alias: 'memory', type: 'string', describe: 'guest RAM in MiB (QEMU: -m)' })
    .option('serial', { type: 'string', describe: 'COM1: stdio | stderr | file:PATH | none' })
    .option('debugcon', { type: 'string', describe: 'port 0xE9 console (and SeaBIOS\'s log on 0x402): stdio | stderr | file:PATH | none' })
    .option('ui', { type: 'string', describe: 'none | tui | dashboard (default: tui on a terminal, none otherwise)' })
    .option('max-insns', { type: 'string', describe: 'stop after N retired instructions' })
    .option('load', { type: 'string', array: true, describe: 'raw binary FILE@ADDR loaded into memory' })
    .option('entry', { type: 'string', describe: 'entry point for --load images (32-bit protected mode, flat)' })
    .option('bios', { type: 'string', describe: 'BIOS image mapped at the top of 4 GiB (QEMU: -bios)' })
    .option('boot-sector', { type: 'string', describe: 'a 512-byte boot sector run at 0000:7C00 in real mode, without a BIOS' })
    .option('gdb', { type: 'string', describe: 'GDB server on [HOST:]PORT (default host 127.0.0.1)' })
    .option('s', { type: 'boolean', describe: 'shorthand for --gdb 1234 (as QEMU)' })
    .option('S', { type: 'boolean', describe: 'start paused (as QEMU)' })
    .option('wait', { type: 'boolean', default: true, describe: 'with --gdb, wait for the debugger before running (--no-wait to run at once)' })
    .option('cpu', { type: 'string', describe: `CPU model: ${CPU_MODELS.map((m) => m.name).join(' | ')} (QEMU: -cpu; default pentium2; help lists them)` })
    .option('ns-per-insn', { type: 'string', describe: 'virtual nanoseconds per instruction (default 1)' })
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      failure = msg ?? err?.message ?? 'invalid arguments';
    })
    .parseSync();
  if (failure) throw new UserError(failure);
  if (parsed.help) return 'help';
  const one = (v: string | string[] | undefined, name: string): string | undefined => {
    if (Array.isArray(v)) {
      if (v.length > 1) throw new UserError(`--${name} given more than once`);
      return v[0];
    }
    return v;
  };
  const cmd = parsed._[0];
  if (cmd !== undefined && cmd !== 'dashboard') throw new UserError(`unknown command "${cmd}"`);
  const ui = one(parsed.ui as string | undefined, 'ui') ?? 'auto';
  if (!['none', 'tui', 'dashboard', 'auto'].includes(ui)) throw new UserError(`--ui: "${ui}" is not none, tui or dashboard`);
  const mem = one(parsed.m as string | undefined, 'm');
  const memoryMiB = mem === undefined ? 32 : parseMemory(mem);
  const loads = (parsed.load ?? []).map((spec: string) => {
    const at = spec.lastIndexOf('@');
    if (at <= 0) throw new UserError(`--load: "${spec}" is not FILE@ADDR`);
    return { path: spec.slice(0, at), addr: parseNumber(spec.slice(at + 1), '--load address') };
  });
  const entryText = one(parsed.entry as string | undefined, 'entry');
  const entry = entryText === undefined ? null : parseNumber(entryText, '--entry');
  const kernel = one(parsed.kernel as string | undefined, 'kernel') ?? null;
  if (loads.length > 0 && entry === null) throw new UserError('--load needs --entry ADDR');
  if (entry !== null && loads.length === 0) throw new UserError('--entry needs at least one --load FILE@ADDR');
  if (kernel && loads.length > 0) throw new UserError('--kernel and --load cannot be used together');
  if (parsed.bootSector !== undefined && (kernel || loads.length > 0)) throw new UserError('--boot-sector cannot be combined with --kernel or --load');
  const maxText = one(parsed.maxInsns as string | undefined, 'max-insns');
  const gdbText = one(parsed.gdb as string | undefined, 'gdb');
  let gdb = gdbText !== undefined ? parseGdbAddress(gdbText) : null;
  if (parsed.s && !gdb) gdb = { host: '127.0.0.1', port: 1234 };
  const nsText = one(parsed.nsPerInsn as string | undefined, 'ns-per-insn');
  const nsPerInsn = nsText === undefined ? 1 : Number(nsText);
  if (!(nsPerInsn > 0) || !Number.isFinite(nsPerInsn)) throw new UserError(`--ns-per-insn: "${nsText}" is not a positive number`);
  const cpuModel = one(parsed.cpu as string | undefined, 'cpu') ?? null;
  if (cpuModel !== null && cpuModel !== 'help' && !findCpuModel(cpuModel)) {
    throw new UserError(`-cpu: unknown CPU model "${cpuModel}" (known: ${CPU_MODELS.map((m) => m.name).join(', ')})`);
  }
  return {
    command: cmd === 'dashboard' ? 'dashboard' : 'run',
    kernel,
    initrd: (parsed.initrd ?? []).flatMap((s: string) => s.split(',')).filter((s: string) => s.length > 0),
    append: one(parsed.append as string | undefined, 'append') ?? '',
    memoryMiB,
    serial: parseSink(one(parsed.serial as string | undefined, 'serial') ?? 'stdio', '--serial'),
    debugcon: parseSink(one(parsed.debugcon as string | undefined, 'debugcon') ?? 'none', '--debugcon'),
    ui: ui as CliOptions['ui'],
    maxInsns: maxText === undefined ? null : parseNumber(maxText, '--max-insns'),
    loads,
    entry,
    bios: one(parsed.bios as string | undefined, 'bios') ?? null,
    bootSector: one(parsed.bootSector as string | undefined, 'boot-sector') ?? null,
    gdb,
    startPaused: Boolean(parsed.S) || (gdb !== null && parsed.wait !== false),
    nsPerInsn,
    cpuModel,
  };
}

function parseMemory(text: string): number {
  const m = /^(\d+)([MG]?)$/i.exec(text.trim());
  if (!m) throw new UserError(`-m: "${text}" is not a size in MiB`);
  const v = parseInt(m[1]!, 10) * (m[2]?.toUpperCase() === 'G' ? 1024 : 1);
  if (v < 2 || v > 2048) throw new UserError(`-m: ${v} MiB is out of range (2-2048)`);
  return v;
}
