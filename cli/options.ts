// Command-line options (yargs), with QEMU's single-dash spellings accepted where they
// mean the same thing. Every mistake is a UserError: one line, exit status 2.
import yargs from 'yargs';
import { UserError } from '../src/user-error.js';
import { CPU_MODELS, findCpuModel } from '../src/cpu/cpu-models.js';
import { MAX_CPUS } from '../src/machine/smp.js';
import { logHelp, parseLogItems, type LogItem } from '../src/debug/qemu-log.js';
import { ICOUNT_MAX_SHIFT } from '../src/machine/icount-auto.js';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type Sink = { kind: 'stdio' } | { kind: 'none' } | { kind: 'file'; path: string } | { kind: 'stderr' };

/** `-device isa-debug-exit,iobase=N,iosize=N`. */
export interface DebugExitSpec {
  iobase: number;
  iosize: number;
}

/** `-device isa-debugcon,iobase=N,chardev=ID[,readback=N]`. */
export interface DebugconSpec {
  iobase: number;
  readback: number;
  sink: Sink;
  /** Given after -device pc-testdev: on a port both decode, QEMU lets the later device answer. */
  afterPcTestdev: boolean;
}

export interface CliOptions {
  command: 'run' | 'dashboard';
  kernel: string | null;
  initrd: string[];
  append: string;
  memoryMiB: number;
  serial: Sink;
  /** False with `-serial none` (or -nodefaults without -serial): no UART at 0x3F8. */
  serialDevice: boolean;
  debugcon: Sink;
  /**
   * Ports of our built-in debug consoles, all writing to `debugcon`: 0xE9 and 0x402
   * (SeaBIOS's log); with -nodefaults only 0xE9, and only when -debugcon is given (QEMU).
   */
  builtinDebugcons: number[];
  /** isa-debugcon devices given with -device (they take their ports from the built-in ones). */
  debugcons: DebugconSpec[];
  /** isa-debug-exit devices: the built-in one at 0xF4, or those given with -device. */
  debugExits: DebugExitSpec[];
  pcTestdev: boolean;
  pciTestdev: boolean;
  /** False with -vga none, or -nodefaults without -vga std (QEMU): no VGA. */
  vga: boolean;
  /** -no-reboot: a guest reset (triple fault, 0xCF9, 8042, port 0x92) ends the run. */
  noReboot: boolean;
  /** -no-shutdown: power-off (and a -no-reboot reset) pauses the machine instead. */
  noShutdown: boolean;
  ui: 'none' | 'tui' | 'dashboard' | 'auto';
  maxInsns: number | null;
  loads: { path: string; addr: number }[];
  entry: number | null;
  bios: string | null;
  bootSector: string | null;
  gdb: { host: string; port: number } | null;
  startPaused: boolean;
  /** Virtual nanoseconds per instruction (-icount shift=N gives 2^N). */
  nsPerInsn: number;
  /** -cpu NAME (QEMU's model names), 'help' for the list, null for the default. */
  cpuModel: string | null;
  /** -smp N / -smp cpus=N: the number of CPUs (1-8). */
  cpus: number;
  /** -icount shift=auto: the rate follows wall-clock time. */
  icountAuto: boolean;
  /** -d ITEMS -D FILE. */
  log: { items: LogItem[]; file: string | null };
  /** --snapshot-file FILE: named snapshots (savevm/loadvm) kept across runs. */
  snapshotFile: string | null;
  /** -loadvm NAME: start from that snapshot of the --snapshot-file. */
  loadvm: string | null;
  /** --record FILE: log every input from outside the guest, with the start state. */
  record: string | null;
  /** --replay FILE: re-run a --record log instruction for instruction. */
  replay: string | null;
  /** --rr-budget MiB: memory for reverse-execution checkpoints. */
  rrBudgetMiB: number;
  /** --tb-cache DIR: where the persistent translation cache lives; null: off. */
  tbCache: string | null;
  /** -hda..-hdd, -drive: the drives, in the order given. */
  drives: DriveSpec[];
  /** -boot: QEMU's boot order letters (null: QEMU's default "cad"). */
  bootOrder: string | null;
  /** -snapshot: guest writes go to memory and are dropped at exit. */
  snapshot: boolean;
}

/** One drive of the command line (QEMU's -hda FILE or -drive file=F,...). */
export interface DriveSpec {
  /** How the user gave it, for messages ("-hda", "-drive"). */
  what: string;
  /** The image; '' for an empty CD-ROM drive (QEMU's -cdrom '' or -drive media=cdrom without file=). */
  path: string;
  interface: 'ide' | 'floppy';
  /** IDE unit 0-3, floppy unit 0-1 (index=, or the first free one). */
  unit: number;
  media: 'disk' | 'cdrom';
  /** format= as given (undefined: not given). */
  format?: string;
  readOnly: boolean;
  /** snapshot=on for this drive. */
  snapshot: boolean;
}

/**
 * QEMU's -smp: `N` or `cpus=N` (1-8; sockets, cores and the like are not ours to choose:
 * QEMU 7.2 makes N one socket of N cores, as we do).
 */
export function parseSmp(text: string | undefined): number {
  if (text === undefined) return 1;
  const m = /^(?:cpus=)?(\d+)$/.exec(text);
  if (!m) throw new UserError(`-smp ${text}: expected N or cpus=N (1-${MAX_CPUS})`);
  const n = Number(m[1]);
  if (n < 1 || n > MAX_CPUS) throw new UserError(`-smp ${text}: the number of CPUs must be 1-${MAX_CPUS}`);
  return n;
}

/** Default memory for reverse-execution checkpoints, MiB. */
export const DEFAULT_RR_BUDGET_MIB = 256;

/** QEMU's spellings with a single dash, rewritten to our long options; `true`: takes a value. */
const QEMU_SPELLINGS: Record<string, boolean> = {
  kernel: true, initrd: true, append: true, serial: true, debugcon: true, bios: true, gdb: true, cpu: true,
  device: true, chardev: true, display: true, machine: true, accel: true, icount: true, monitor: true,
  net: true, nic: true, parallel: true, vga: true, smp: true, loadvm: true,
  hda: true, hdb: true, hdc: true, hdd: true, fda: true, fdb: true, cdrom: true, drive: true, boot: true,
  nodefaults: false, snapshot: false, nographic: false, 'no-reboot': false, 'no-shutdown': false, version: false,
};

/** Our own options that take a value (their value is never read as an option). */
const VALUE_OPTIONS = new Set([
  ...Object.keys(QEMU_SPELLINGS).filter((k) => QEMU_SPELLINGS[k]),
  'm', 'memory', 'M', 'd', 'D', 'ui', 'max-insns', 'load', 'entry', 'boot-sector', 'ns-per-insn',
  'snapshot-file', 'record', 'replay', 'rr-budget', 'tb-cache',
]);

/**
 * QEMU writes `-kernel`; yargs reads that as -k -e -r...; rewrite to the long form. A
 * single-dash word we do not know is a QEMU option we do not have: say so by name.
 */
export function normaliseArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^-([a-zA-Z][a-zA-Z0-9_-]+)(=.*)?$/.exec(a);
    const long = /^--([a-zA-Z][a-zA-Z0-9-]*)(=.*)?$/.exec(a);
    if (m) {
      const name = m[1]!;
      if (!(name in QEMU_SPELLINGS)) throw new UserError(`-${name}: this QEMU option is not supported by bmbt-dbg`);
      out.push(`--${name}${m[2] ?? ''}`);
      if (QEMU_SPELLINGS[name] && m[2] === undefined && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    out.push(a);
    // A value that starts with a dash (e.g. -append "-v") is not an option.
    const opt = long?.[1] ?? (/^-([a-zA-Z])$/.exec(a)?.[1]);
    if (opt !== undefined && VALUE_OPTIONS.has(opt) && long?.[2] === undefined && i + 1 < argv.length) out.push(argv[++i]!);
  }
  return out;
}

export function parseNumber(text: string, what: string): number {
  const t = text.trim().replace(/_/g, '');
  const v = /^0x[0-9a-f]+$/i.test(t) ? parseInt(t.slice(2), 16) : /^\d+$/.test(t) ? parseInt(t, 10) : NaN;
  if (!Number.isFinite(v)) throw new UserError(`${what}: "${text}" is not a number`);
  return v;
}

export function parseSink(text: string, what: string, chardevs: ReadonlyMap<string, Sink> = new Map()): Sink {
  if (text === 'stdio' || text === 'mon:stdio') return { kind: 'stdio' };
  if (text === 'none' || text === 'null') return { kind: 'none' };
  if (text === 'stderr') return { kind: 'stderr' };
  if (text.startsWith('file:') && text.length > 5) return { kind: 'file', path: text.slice(5) };
  if (text.startsWith('chardev:')) return chardevSink(text.slice(8), what, chardevs);
  throw new UserError(`${what}: "${text}" is not stdio, mon:stdio, stderr, none, null, file:PATH or chardev:ID`);
}

/** The ids of each -chardev table that a device already uses. */
const CHARDEVS_IN_USE = new WeakMap<ReadonlyMap<string, Sink>, Set<string>>();

/** A chardev serves one device, as QEMU's without mux=on ("Device 'ID' is in use"). */
function chardevSink(id: string, what: string, chardevs: ReadonlyMap<string, Sink>): Sink {
  const s = chardevs.get(id);
  if (!s) throw new UserError(`${what}: no -chardev with id "${id}"`);
  let used = CHARDEVS_IN_USE.get(chardevs);
  if (!used) CHARDEVS_IN_USE.set(chardevs, (used = new Set()));
  if (used.has(id)) throw new UserError(`${what}: chardev "${id}" is already in use by another device`);
  used.add(id);
  return s;
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

/** QEMU's "name,key=value,..." option syntax (QemuOpts): the name, then the properties. */
export function parseQemuOpts(text: string, what: string, implied: string | null): { name: string | null; props: Map<string, string> } {
  const parts = text.split(',');
  const props = new Map<string, string>();
  let name: string | null = null;
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (i === 0 && implied !== null) name = p;
      else if (i === 0 && implied === null) props.set('', p);
      else throw new UserError(`${what}: "${p}" is not key=value`);
      return;
    }
    const key = p.slice(0, eq);
    if (props.has(key)) throw new UserError(`${what}: ${key}= given twice`);
    props.set(key, p.slice(eq + 1));
  });
  return { name, props };
}

function noOtherProps(props: Map<string, string>, allowed: string[], what: string): void {
  for (const k of props.keys()) if (!allowed.includes(k)) throw new UserError(`${what}: property "${k}" is not supported`);
}

/** QEMU's uint32 property syntax: decimal or 0x hex. */
function portProp(props: Map<string, string>, key: string, dflt: number, what: string): number {
  const t = props.get(key);
  if (t === undefined) return dflt;
  const v = parseNumber(t, `${what}: ${key}=`);
  if (v > 0xffffffff) throw new UserError(`${what}: ${key}=${t} is out of range`);
  return v;
}

/** `-chardev file,id=ID,path=P` / `stdio,id=ID` / `null,id=ID`. */
function parseChardev(text: string, chardevs: Map<string, Sink>): void {
  const what = `-chardev ${text}`;
  const { name, props } = parseQemuOpts(text, what, 'backend');
  const id = props.get('id');
  if (!id) throw new UserError(`${what}: id= is missing`);
  if (chardevs.has(id)) throw new UserError(`${what}: duplicate chardev id "${id}"`);
  let sink: Sink;
  if (name === 'file') {
    noOtherProps(props, ['id', 'path'], what);
    const path = props.get('path');
    if (!path) throw new UserError(`${what}: path= is missing`);
    sink = { kind: 'file', path };
  } else if (name === 'stdio') {
    // signal= only says whether Ctrl-C reaches QEMU; ours always ends the process.
    noOtherProps(props, ['id', 'signal'], what);
    sink = { kind: 'stdio' };
  } else if (name === 'null') {
    noOtherProps(props, ['id'], what);
    sink = { kind: 'none' };
  } else throw new UserError(`${what}: backend "${name}" is not supported (file, stdio, null)`);
  chardevs.set(id, sink);
}

export const DEVICE_NAMES = ['isa-debug-exit', 'isa-debugcon', 'pc-testdev', 'pci-testdev'];

interface Devices {
  debugExits: DebugExitSpec[];
  debugcons: DebugconSpec[];
  pcTestdev: boolean;
  pciTestdev: boolean;
}

/** `-device NAME,PROP=VALUE,...`, with QEMU's property defaults. */
function parseDevice(text: string, chardevs: ReadonlyMap<string, Sink>, d: Devices): void {
  const what = `-device ${text}`;
  const { name, props } = parseQemuOpts(text, what, 'driver');
  // QEMU also takes driver=NAME; `id=` names the device (we do not refer to it).
  const dev = name ?? props.get('driver') ?? '';
  props.delete('driver');
  props.delete('id');
  switch (dev) {
    case 'isa-debug-exit': {
      noOtherProps(props, ['iobase', 'iosize'], what);
      // QEMU's defaults (hw/misc/debugexit.c): iobase 0x501, iosize 2.
      const iobase = portProp(props, 'iobase', 0x501, what);
      const iosize = portProp(props, 'iosize', 2, what);
      if (iosize < 1 || iobase + iosize > 0x10000) throw new UserError(`${what}: ports 0x${iobase.toString(16)}+${iosize} are outside 0-0xffff`);
      d.debugExits.push({ iobase, iosize });
      return;
    }
    case 'isa-debugcon': {
      noOtherProps(props, ['iobase', 'chardev', 'readback'], what);
      const iobase = portProp(props, 'iobase', 0xe9, what);
      if (iobase > 0xffff) throw new UserError(`${what}: iobase=0x${iobase.toString(16)} is outside 0-0xffff`);
      const readback = portProp(props, 'readback', 0xe9, what) & 0xff;
      const id = props.get('chardev');
      // Without a chardev QEMU's device exists and discards what it is given.
      const sink: Sink = id === undefined ? { kind: 'none' } : chardevSink(id, what, chardevs);
      d.debugcons.push({ iobase, readback, sink, afterPcTestdev: d.pcTestdev });
      return;
    }
    case 'pc-testdev':
      noOtherProps(props, [], what);
      d.pcTestdev = true;
      return;
    case 'pci-testdev':
      noOtherProps(props, [], what);
      d.pciTestdev = true;
      return;
    case 'help':
      throw new UserError(`-device: bmbt-dbg has ${DEVICE_NAMES.join(', ')}`);
    default:
      throw new UserError(`-device ${dev}: unknown device (bmbt-dbg has ${DEVICE_NAMES.join(', ')})`);
  }
}

/** QEMU's on/off property values. */
function onOff(v: string | undefined, what: string): boolean {
  if (v === undefined) return false;
  if (v === 'on' || v === 'true' || v === 'yes') return true;
  if (v === 'off' || v === 'false' || v === 'no') return false;
  throw new UserError(`${what}: "${v}" is not on or off`);
}

/**
 * The drives of -hda..-hdd and -drive, with QEMU's unit numbers: -hdX are units 0-3;
 * a -drive if=ide without index= takes the first free unit.
 */
function parseDrives(hd: (string | undefined)[], fd: (string | undefined)[], cdrom: string | undefined, drives: string[]): DriveSpec[] {
  const out: DriveSpec[] = [];
  const taken = new Map<string, string>();
  const claim = (iface: 'ide' | 'floppy', unit: number, what: string): void => {
    const other = taken.get(`${iface}${unit}`);
    if (other !== undefined) throw new UserError(`${what}: ${iface === 'ide' ? 'IDE' : 'floppy'} unit ${unit} is already used by ${other}`);
    taken.set(`${iface}${unit}`, what);
  };
  fd.forEach((path, unit) => {
    if (path === undefined) return;
    const what = `-fd${'ab'[unit]}`;
    // '' is an empty drive, as QEMU's.
    claim('floppy', unit, what);
    out.push({ what, path, interface: 'floppy', unit, media: 'disk', readOnly: false, snapshot: false });
  });
  hd.forEach((path, unit) => {
    if (path === undefined) return;
    const what = `-hd${'abcd'[unit]}`;
    if (path === '') throw new UserError(`${what}: needs an image file`);
    claim('ide', unit, what);
    out.push({ what, path, interface: 'ide', unit, media: 'disk', readOnly: false, snapshot: false });
  });
  if (cdrom !== undefined) {
    // QEMU's -cdrom is the secondary master (index 2), read-only; '' is an empty drive.
    claim('ide', 2, '-cdrom');
    out.push({ what: '-cdrom', path: cdrom, interface: 'ide', unit: 2, media: 'cdrom', readOnly: true, snapshot: false });
  }
  for (const text of drives) {
    const what = `-drive ${text}`;
    const { props } = parseQemuOpts(text, what, null);
    if (props.has('')) throw new UserError(`${what}: "${props.get('')}" is not key=value`);
    noOtherProps(props, ['file', 'format', 'if', 'index', 'media', 'readonly', 'snapshot', 'id'], what);
    const path = props.get('file') ?? '';
    const iface = props.get('if') ?? 'ide';
    if (iface !== 'ide' && iface !== 'floppy') throw new UserError(`${what}: if=${iface} is not supported (ide, floppy)`);
    const media = props.get('media') ?? 'disk';
    if (media !== 'disk' && media !== 'cdrom') throw new UserError(`${what}: media=${media} is not disk or cdrom`);
    if (!path && media !== 'cdrom' && iface !== 'floppy') throw new UserError(`${what}: file= is missing (an empty drive is a CD-ROM or a floppy drive)`);
    if (media === 'cdrom' && iface !== 'ide') throw new UserError(`${what}: a CD-ROM is an IDE drive (if=ide)`);
    // A CD-ROM is read-only whatever readonly= says.
    const readOnly = media === 'cdrom' || onOff(props.get('readonly'), `${what}: readonly=`);
    // QEMU's ide-hd refuses a read-only image ("Block node is read-only").
    if (readOnly && iface === 'ide' && media === 'disk') throw new UserError(`${what}: an IDE hard disk cannot be read-only (QEMU refuses it too; use -snapshot)`);
    let unit: number;
    const index = props.get('index');
    if (index !== undefined) {
      unit = parseNumber(index, `${what}: index=`);
      const max = iface === 'ide' ? 3 : 1;
      if (unit > max) throw new UserError(`${what}: index=${unit} is out of range for if=${iface} (0-${max})`);
    } else {
      unit = (iface === 'ide' ? [0, 1, 2, 3] : [0, 1]).find((u) => !taken.has(`${iface}${u}`)) ?? -1;
      if (unit < 0) throw new UserError(`${what}: every ${iface} unit is taken`);
    }
    claim(iface, unit, '-drive');
    out.push({ what: '-drive', path, interface: iface, unit, media, format: props.get('format'), readOnly, snapshot: onOff(props.get('snapshot'), `${what}: snapshot=`) });
  }
  return out;
}

/** `-boot c|d|a|order=LETTERS[,...]`: QEMU's boot order letters. */
export function parseBoot(text: string): string {
  const what = `-boot ${text}`;
  const { props } = parseQemuOpts(text, what, null);
  if (props.has('')) props.set('order', props.get('')!);
  props.delete('');
  noOtherProps(props, ['order', 'strict', 'menu'], what);
  if (props.has('menu') && onOff(props.get('menu'), `${what}: menu=`)) throw new UserError(`${what}: menu=on is not supported`);
  if (props.has('strict') && onOff(props.get('strict'), `${what}: strict=`)) throw new UserError(`${what}: strict=on is not supported`);
  const order = props.get('order') ?? 'cad';
  if (!/^[abcdn]+$/.test(order)) throw new UserError(`${what}: the boot order is letters of a (floppy), c (disk), d (CD-ROM), n (network)`);
  if (new Set(order).size !== order.length) throw new UserError(`${what}: boot device ${[...order].find((c, i) => order.indexOf(c) !== i)} given twice`);
  if (order.length > 3) throw new UserError(`${what}: at most three boot devices on a PC`);
  return order;
}

/** `-icount shift=N|auto[,align=off][,sleep=on|off]` (or just N|auto). */
export function parseIcount(text: string): { shift: number } | { auto: true } {
  const what = `-icount ${text}`;
  const { props } = parseQemuOpts(text, what, null);
  if (props.has('')) props.set('shift', props.get('')!);
  props.delete('');
  noOtherProps(props, ['shift', 'align', 'sleep'], what);
  if (props.has('align') && props.get('align') !== 'off') throw new UserError(`${what}: align=on is not supported`);
  const sleep = props.get('sleep');
  if (sleep !== undefined && sleep !== 'on' && sleep !== 'off') throw new UserError(`${what}: sleep= is on or off`);
  const shift = props.get('shift');
  if (shift === undefined) throw new UserError(`${what}: shift= is missing`);
  if (shift === 'auto') return { auto: true };
  if (!/^\d+$/.test(shift) || Number(shift) > ICOUNT_MAX_SHIFT) throw new UserError(`${what}: shift must be 0-${ICOUNT_MAX_SHIFT} or auto`);
  return { shift: Number(shift) };
}

/** `-machine [type=]pc[,accel=tcg]`, `-M pc`, `-accel tcg`: the one machine we are. */
function checkMachine(text: string, what: string): void {
  const { name, props } = parseQemuOpts(text, what, 'type');
  let type = name ?? props.get('type');
  if (type !== undefined && type.includes('=')) type = undefined;
  props.delete('type');
  if (type !== undefined && type !== 'pc' && type !== 'pc-i440fx-7.2') throw new UserError(`${what}: machine "${type}" is not supported (only pc)`);
  noOtherProps(props, ['accel'], what);
  const accel = props.get('accel');
  if (accel !== undefined && accel !== 'tcg') throw new UserError(`${what}: accel=${accel} is not supported (only tcg)`);
}

/** QEMU's -m: a size with an optional k/M/G/T suffix (MiB without one), or size=SIZE. */
export function parseMemory(text: string): number {
  const what = `-m ${text}`;
  const { props } = parseQemuOpts(text, what, null);
  if (props.has('')) props.set('size', props.get('')!);
  props.delete('');
  for (const k of props.keys()) {
    if (k !== 'size') throw new UserError(`${what}: ${k}= is not supported`);
  }
  const size = props.get('size') ?? '';
  const m = /^(\d+(?:\.\d+)?)([kKmMgGtT]?)$/.exec(size.trim());
  if (!m) throw new UserError(`${what}: not a size (a number with an optional k, M, G or T suffix)`);
  const unit = { '': 2 ** 20, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.round(parseFloat(m[1]!) * unit);
  // QEMU takes 0 as "the default".
  if (bytes === 0) return DEFAULT_MEMORY_MIB;
  if (bytes % 2 ** 20 !== 0) throw new UserError(`${what}: bmbt-dbg takes whole MiB`);
  const mib = bytes / 2 ** 20;
  if (mib < 2 || mib > 2048) throw new UserError(`${what}: ${mib} MiB is out of range (2-2048)`);
  return mib;
}

/** QEMU's pc machine default (hw/i386/pc.c: 128 MiB). */
export const DEFAULT_MEMORY_MIB = 128;

/** The built-in isa-debug-exit (kept without -device so our samples end; see decisions.md). */
export const BUILTIN_DEBUG_EXIT: DebugExitSpec = { iobase: 0xf4, iosize: 4 };

/** Lines of `--help`'s "Examples:" (command, what it does). */
const EXAMPLES: [string, string][] = [
  ['$0 --kernel samples/build/hello.elf', 'boot a multiboot kernel in the terminal UI'],
  ['$0 --gdb 1234 --kernel k.elf', 'the same, with gdb attaching to :1234 (the guest waits for it)'],
  ['$0 --ui none --kernel bzImage --initrd rd.gz', 'Linux headless, its console on stdio'],
  ['$0 --bios /usr/share/seabios/bios.bin', 'SeaBIOS on the PC board (8: its VGA screen in the UI)'],
  ['$0 -s -S -kernel k.elf -nographic', 'QEMU\'s spelling: gdb on :1234, paused, no UI'],
  ['$0 dashboard --kernel k.elf', 'live charts of the running guest'],
];

export function parseCli(argv: string[]): CliOptions | 'help' | 'version' {
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
    .option('m', { alias: 'memory', type: 'string', describe: 'guest RAM, MiB or with a k/M/G suffix (default 128, as QEMU)' })
    .option('serial', { type: 'string', describe: 'COM1: stdio | mon:stdio | stderr | file:PATH | chardev:ID | null | none (no COM1)' })
    .option('debugcon', { type: 'string', describe: 'port 0xE9 console (and SeaBIOS\'s log on 0x402): stdio | stderr | file:PATH | chardev:ID | none' })
    .option('device', { type: 'string', array: true, describe: 'isa-debug-exit[,iobase=N,iosize=N] | isa-debugcon[,iobase=N,chardev=ID] | pc-testdev | pci-testdev' })
    .option('chardev', { type: 'string', array: true, describe: 'file,id=ID,path=P | stdio,id=ID | null,id=ID' })
    .option('nodefaults', { type: 'boolean', describe: 'QEMU\'s bare board: no COM1 unless -serial, no VGA, no isa-debug-exit at 0xF4, no debug console unless -debugcon' })
    .option('display', { type: 'string', describe: 'none: no terminal UI (as --ui none)' })
    .option('nographic', { type: 'boolean', describe: 'no terminal UI, serial on stdio' })
    .option('reboot', { type: 'boolean', default: true, describe: '-no-reboot: a guest reset or triple fault ends the run (status 0)' })
    .option('shutdown', { type: 'boolean', default: true, describe: '-no-shutdown: power-off pauses the machine instead of ending the run' })
    .option('machine', { alias: 'M', type: 'string', describe: 'pc[,accel=tcg] (the only machine)' })
    .option('accel', { type: 'string', describe: 'tcg (the only accelerator)' })
    .option('icount', { type: 'string', describe: 'shift=N (2^N ns per instruction, 0-10) | shift=auto (guest time follows wall time)' })
    .option('monitor', { type: 'string', describe: 'none (no QEMU monitor; gdb\'s `monitor` and the UI\'s command line serve its commands)' })
    .option('net', { type: 'string', describe: 'none (the board has no NIC)' })
    .option('nic', { type: 'string', describe: 'none (the board has no NIC)' })
    .option('parallel', { type: 'string', describe: 'none (the board has no parallel port)' })
    .option('vga', { type: 'string', describe: 'std (default) | none' })
    .option('smp', { type: 'string', describe: `[cpus=]N: N CPUs, 1-${MAX_CPUS} (QEMU's spelling; default 1)` })
    .option('d', { type: 'string', array: true, describe: 'log items, QEMU\'s layout: int,cpu_reset,guest_errors,unimp,in_asm,exec,cpu,fpu,nochain (help lists them)' })
    .option('D', { type: 'string', describe: 'log file for -d (default stderr)' })
    .option('ui', { type: 'string', describe: 'none | tui | dashboard (default: tui on a terminal, none otherwise)' })
    .option('max-insns', { type: 'string', describe: 'stop after N retired instructions (exit status 124)' })
    .option('load', { type: 'string', array: true, describe: 'raw binary FILE@ADDR loaded into memory' })
    .option('entry', { type: 'string', describe: 'entry point for --load images (32-bit protected mode, flat)' })
    .option('bios', { type: 'string', describe: 'BIOS image mapped at the top of 4 GiB (QEMU: -bios)' })
    .option('boot-sector', { type: 'string', describe: 'a 512-byte boot sector run at 0000:7C00 in real mode, without a BIOS' })
    .option('gdb', { type: 'string', describe: 'GDB server on [HOST:]PORT (default host 127.0.0.1)' })
    .option('s', { type: 'boolean', describe: 'shorthand for --gdb 1234 (as QEMU)' })
    .option('S', { type: 'boolean', describe: 'start paused (as QEMU)' })
    .option('wait', { type: 'boolean', default: true, describe: 'with --gdb, wait for the debugger before running (--no-wait to run at once)' })
    .option('cpu', { type: 'string', describe: `CPU model: ${CPU_MODELS.map((m) => m.name).join(' | ')} (QEMU: -cpu; default pentium2; help lists them)` })
    .option('ns-per-insn', { type: 'string', describe: 'virtual nanoseconds per instruction (default 1; -icount shift=N is 2^N)' })
    .option('snapshot-file', { type: 'string', describe: 'keep the monitor\'s savevm snapshots in FILE across runs' })
    .option('loadvm', { type: 'string', describe: 'start from snapshot NAME of the --snapshot-file (QEMU: -loadvm)' })
    .option('record', { type: 'string', describe: 'record the run to FILE: the start state and every input from outside the guest' })
    .option('replay', { type: 'string', describe: 'replay a run recorded with --record, instruction for instruction' })
    .option('hda', { type: 'string', describe: 'IDE primary master hard disk, a raw image (QEMU: -hda)' })
    .option('hdb', { type: 'string', describe: 'IDE primary slave hard disk' })
    .option('hdc', { type: 'string', describe: 'IDE secondary master hard disk' })
    .option('hdd', { type: 'string', describe: 'IDE secondary slave hard disk' })
    .option('cdrom', { type: 'string', description: 'an ISO image in the IDE CD-ROM drive (secondary master; QEMU: -cdrom)' })
    .option('fda', { type: 'string', describe: 'floppy drive A: (1.44 MB, 2.88 MB or 720 KB raw image; QEMU: -fda)' })
    .option('fdb', { type: 'string', describe: 'floppy drive B:' })
    .option('drive', { type: 'string', array: true, describe: 'file=F[,format=raw][,if=ide|floppy][,index=N][,media=disk|cdrom][,readonly=on][,snapshot=on]' })
    .option('boot', { type: 'string', describe: 'boot order: a (floppy), c (disk), d (CD-ROM), order=LETTERS (QEMU: -boot)' })
    .option('snapshot', { type: 'boolean', describe: 'guest writes to the drives are kept in memory and dropped at exit' })
    .option('tb-cache', { type: 'string', describe: `keep translated code across runs in DIR, or off (default $${TB_CACHE_ENV} or ${defaultTbCacheDir({})})` })
    .option('rr-budget', { type: 'string', describe: `MiB of memory for reverse-execution checkpoints (default ${DEFAULT_RR_BUDGET_MIB})` })
    .version(false)
    .option('version', { type: 'boolean', describe: 'print the version and exit' })
    .example(EXAMPLES)
    .strict()
    .help()
    .alias('h', 'help')
    .exitProcess(false)
    .fail((msg, err) => {
      failure = msg ?? err?.message ?? 'invalid arguments';
    })
    .parseSync();
  if (failure) throw new UserError(failure);
  if (parsed.help) return 'help';
  if (parsed.version) return 'version';
  const one = (v: string | string[] | boolean | undefined, name: string): string | undefined => {
    if (Array.isArray(v)) {
      if (v.length > 1) throw new UserError(`--${name} given more than once`);
      return v[0];
    }
    if (typeof v === 'boolean') throw new UserError(`--${name} needs a value`);
    return v;
  };
  const many = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const cmd = parsed._[0];
  if (cmd !== undefined && cmd !== 'dashboard') throw new UserError(`unknown command "${cmd}"`);

  // Accepted spellings that change nothing on this board (checked, so nothing is silently wrong).
  const onlyValue = (name: string, allowed: string[]): string | undefined => {
    const v = one(parsed[name] as string | string[] | undefined, name);
    if (v !== undefined && !allowed.includes(v)) throw new UserError(`-${name} ${v} is not supported (only ${allowed.join(' or ')})`);
    return v;
  };
  const machineText = one(parsed['machine'] as string | string[] | undefined, 'machine');
  if (machineText !== undefined) checkMachine(machineText, `-machine ${machineText}`);
  onlyValue('accel', ['tcg']);
  onlyValue('monitor', ['none']);
  onlyValue('net', ['none']);
  onlyValue('nic', ['none']);
  onlyValue('parallel', ['none']);
  const cpus = parseSmp(one(parsed.smp as string | undefined, 'smp'));
  const vgaText = onlyValue('vga', ['std', 'none']);
  const display = onlyValue('display', ['none']);

  const nodefaults = Boolean(parsed.nodefaults);
  const nographic = Boolean(parsed.nographic);
  let ui = one(parsed.ui as string | undefined, 'ui') ?? 'auto';
  if (!['none', 'tui', 'dashboard', 'auto'].includes(ui)) throw new UserError(`--ui: "${ui}" is not none, tui or dashboard`);
  if (display !== undefined || nographic) {
    if (ui !== 'auto' && ui !== 'none') throw new UserError(`--ui ${ui} contradicts ${nographic ? '-nographic' : '-display none'}`);
    ui = 'none';
  }
  const mem = one(parsed.m as string | undefined, 'm');
  const memoryMiB = mem === undefined ? DEFAULT_MEMORY_MIB : parseMemory(mem);
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
  if ((parsed.initrd ?? []).length > 0 && !kernel) throw new UserError('--initrd needs --kernel (the initrd goes with a kernel)');
  if (parsed.bootSector !== undefined && (kernel || loads.length > 0)) throw new UserError('--boot-sector cannot be combined with --kernel or --load');
  const maxText = one(parsed.maxInsns as string | undefined, 'max-insns');
  const gdbText = one(parsed.gdb as string | undefined, 'gdb');
  let gdb = gdbText !== undefined ? parseGdbAddress(gdbText) : null;
  if (parsed.s && !gdb) gdb = { host: '127.0.0.1', port: 1234 };

  const nsText = one(parsed.nsPerInsn as string | undefined, 'ns-per-insn');
  const icountText = one(parsed.icount as string | undefined, 'icount');
  if (nsText !== undefined && icountText !== undefined) throw new UserError('--ns-per-insn and -icount set the same rate: give one');
  let nsPerInsn = nsText === undefined ? 1 : Number(nsText);
  if (!(nsPerInsn > 0) || !Number.isFinite(nsPerInsn)) throw new UserError(`--ns-per-insn: "${nsText}" is not a positive number`);
  const cpuModel = one(parsed.cpu as string | undefined, 'cpu') ?? null;
  if (cpuModel !== null && cpuModel !== 'help' && !findCpuModel(cpuModel)) {
    throw new UserError(`-cpu: unknown CPU model "${cpuModel}" (known: ${CPU_MODELS.map((m) => m.name).join(', ')})`);
  }
  let icountAuto = false;
  if (icountText !== undefined) {
    const ic = parseIcount(icountText);
    if ('auto' in ic) icountAuto = true;
    else nsPerInsn = 2 ** ic.shift;
  }

  const chardevs = new Map<string, Sink>();
  for (const c of many(parsed.chardev as string | string[] | undefined)) parseChardev(c, chardevs);
  const devices: Devices = { debugExits: [], debugcons: [], pcTestdev: false, pciTestdev: false };
  for (const d of many(parsed.device as string | string[] | undefined)) parseDevice(d, chardevs, devices);

  // COM1: -serial as QEMU (none: no device; null: a device that discards); -nographic
  // puts it on stdio; -nodefaults leaves it out unless -serial names one.
  const serialTexts = many(parsed.serial as string | string[] | undefined);
  if (serialTexts.length > 1) throw new UserError('a second -serial (COM2) is not supported: the board has one UART');
  const serialText = serialTexts[0];
  const serialDevice = serialText !== undefined ? serialText !== 'none' : !nodefaults;
  const serial = serialText === undefined || serialText === 'none' ? (serialDevice ? { kind: 'stdio' as const } : { kind: 'none' as const })
    : parseSink(serialText, '-serial', chardevs);

  const debugcon = parseSink(one(parsed.debugcon as string | undefined, 'debugcon') ?? 'none', '--debugcon', chardevs);
  const logTexts = many(parsed.d as string | string[] | undefined);
  if (logTexts.some((t) => t.split(',').includes('help'))) {
    process.stdout.write(logHelp());
    return 'help';
  }
  const log = parseLogOptions(logTexts, one(parsed.D as string | undefined, 'D') ?? null);
  const snapshotFile = one(parsed.snapshotFile as string | undefined, 'snapshot-file') ?? null;
  const loadvm = one(parsed.loadvm as string | undefined, 'loadvm') ?? null;
  if (loadvm !== null && snapshotFile === null) throw new UserError('-loadvm needs --snapshot-file FILE (where the snapshots are kept)');
  const record = one(parsed.record as string | undefined, 'record') ?? null;
  const replay = one(parsed.replay as string | undefined, 'replay') ?? null;
  if (record !== null && replay !== null) throw new UserError('--record and --replay cannot be used together');
  if (replay !== null && loadvm !== null) throw new UserError('--replay starts from the state the recording holds: -loadvm cannot be used with it');
  const tbCache = tbCacheDir(one(parsed.tbCache as string | undefined, 'tb-cache'));
  const budgetText = one(parsed.rrBudget as string | undefined, 'rr-budget');
  const rrBudgetMiB = budgetText === undefined ? DEFAULT_RR_BUDGET_MIB : parseNumber(budgetText, '--rr-budget');
  if (rrBudgetMiB < 1 || rrBudgetMiB > 65536) throw new UserError(`--rr-budget: ${rrBudgetMiB} MiB is out of range (1-65536)`);
  const drives = parseDrives(
    ['hda', 'hdb', 'hdc', 'hdd'].map((n) => one(parsed[n] as string | string[] | undefined, n)),
    ['fda', 'fdb'].map((n) => one(parsed[n] as string | string[] | undefined, n)),
    one(parsed.cdrom as string | string[] | undefined, 'cdrom'),
    many(parsed.drive as string | string[] | undefined),
  );
  // A replay starts from the disk contents the recording started from: the recording
  // must not change the image (QEMU's record/replay needs its blkreplay driver likewise).
  const snapshotAll = Boolean(parsed.snapshot);
  const written = drives.find((d) => !snapshotAll && !d.snapshot && !d.readOnly && d.path !== '');
  if (written && (record !== null || replay !== null)) {
    throw new UserError(`${record !== null ? '--record' : '--replay'} with ${written.what} ${written.path}: the guest would write the image, so a replay would not start from the same disk; add -snapshot`);
  }
  const bootText = one(parsed.boot as string | string[] | undefined, 'boot');
  return {
    command: cmd === 'dashboard' ? 'dashboard' : 'run',
    drives,
    bootOrder: bootText === undefined ? null : parseBoot(bootText),
    snapshot: Boolean(parsed.snapshot),
    kernel,
    initrd: (parsed.initrd ?? []).flatMap((s: string) => s.split(',')).filter((s: string) => s.length > 0),
    append: one(parsed.append as string | undefined, 'append') ?? '',
    memoryMiB,
    serial,
    serialDevice,
    debugcon,
    builtinDebugcons: !nodefaults ? [0xe9, 0x402] : debugcon.kind !== 'none' ? [0xe9] : [],
    debugcons: devices.debugcons,
    // Without -device isa-debug-exit our own at 0xF4 stays, unless -nodefaults.
    debugExits: devices.debugExits.length > 0 ? devices.debugExits : nodefaults ? [] : [BUILTIN_DEBUG_EXIT],
    pcTestdev: devices.pcTestdev,
    pciTestdev: devices.pciTestdev,
    vga: vgaText !== undefined ? vgaText === 'std' : !nodefaults,
    noReboot: parsed.reboot === false,
    noShutdown: parsed.shutdown === false,
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
    cpus,
    icountAuto,
    log,
    snapshotFile,
    loadvm,
    record,
    replay,
    rrBudgetMiB,
    tbCache,
  };
}

/** `-d ITEMS` (may be given more than once, as QEMU) and `-D FILE`. */
function parseLogOptions(texts: string[], file: string | null): CliOptions['log'] {
  const items: LogItem[] = [];
  for (const t of texts) for (const it of parseLogItems(t)) if (!items.includes(it)) items.push(it);
  return { items, file };
}

/** The environment variable that sets --tb-cache's default (a directory, or off). */
export const TB_CACHE_ENV = 'BMBT_TB_CACHE';

/** Where the translation cache lives unless told: under the user's cache directory. */
export function defaultTbCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'bmbt-dbg', 'tb');
}

/** --tb-cache's value (or $BMBT_TB_CACHE's, or the default) as a directory, or null for off. */
function tbCacheDir(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  const v = given ?? env[TB_CACHE_ENV] ?? defaultTbCacheDir(env);
  if (v === 'off' || v === 'none' || v === '0') return null;
  if (v === '') throw new UserError('--tb-cache: give a directory, or off');
  return resolve(v);
}
