// The time-travel commands of the command language (commands.ts, so gdb's `monitor` and
// the terminal UI's command line): QEMU's savevm, loadvm, delvm and info snapshots on the
// target's named snapshots, and reverse execution: reverse-stepi, reverse-continue,
// goto ICOUNT, info history. Kept apart from commands.ts, which only dispatches here.
import type { DebugTarget, HistoryRecord, SnapshotRecord, StopReason } from './target.js';
import { UserError } from '../user-error.js';

export const TIME_TRAVEL_HELP: [string, string][] = [
  ['savevm [NAME]', 'snapshot the machine as NAME (replacing one of that name; default vm-DATE)'],
  ['loadvm NAME', 'put the machine in the state of snapshot NAME'],
  ['delvm NAME', 'delete snapshot NAME'],
  ['info snapshots', 'the snapshots (kept in the --snapshot-file, if given)'],
  ['reverse-stepi [N] | rsi [N]', 'back N instructions (default 1)'],
  ['reverse-continue | rc', 'back to the last breakpoint or watchpoint hit (or where history begins)'],
  ['goto ICOUNT', 'to where the instruction count is ICOUNT: back in history, or forward'],
  ['info history', 'reverse execution: checkpoints, memory, where history begins, the present'],
];

/** QEMU's `info snapshots` header (measured on 7.2). */
const INFO_HEADER = 'List of snapshots present on all disks:\nID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT';
const NO_HISTORY = 'no history to travel in (reverse execution is off while recording or replaying)';
const FLUSH_NOTE = 'gdb: run "maintenance flush register-cache" to see the new registers\n';

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** QEMU's default snapshot name: vm-YYYYMMDDHHMMSS (local time). */
function defaultName(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `vm-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

const COMMANDS = new Set(['savevm', 'loadvm', 'delvm', 'reverse-stepi', 'rsi', 'reverse-continue', 'rc', 'goto']);

/**
 * Runs `cmd` if it is a time-travel command: its output, or null for another command. A
 * mistake is an answer (`error: ...`).
 */
export async function timeTravelCommand(t: DebugTarget, cmd: string, args: string[]): Promise<string | null> {
  if (!COMMANDS.has(cmd)) return null;
  try {
    if (cmd === 'savevm' || cmd === 'loadvm' || cmd === 'delvm') return await snapshotCommand(t, cmd, args);
    return await historyCommand(t, cmd, args);
  } catch (e) {
    if (e instanceof UserError) return `error: ${e.message}\n`;
    throw e;
  }
}

async function snapshotCommand(t: DebugTarget, cmd: string, args: string[]): Promise<string> {
  if (args.length > 1) throw new UserError(`${cmd}: extraneous characters at the end of line`);
  if (cmd !== 'savevm' && args.length === 0) throw new UserError(`${cmd}: a snapshot name is needed`);
  if (cmd === 'delvm') {
    if (!t.deleteSnapshot(args[0]!)) throw new UserError(`Snapshot '${args[0]}' does not exist`);
    return `deleted snapshot '${args[0]}'\n`;
  }
  if (cmd === 'savevm') {
    const s = await t.saveSnapshot(args[0] ?? defaultName(), 'monitor');
    const file = t.snapshotFile();
    return `saved snapshot '${s.name}' at instruction ${s.icount}${file ? ` in ${file}` : ''}\n`;
  }
  const s = await t.loadSnapshot(args[0]!, 'monitor');
  return `loaded snapshot '${s.name}': instruction ${s.icount}, eip ${hex8(t.registers().eip)}\n${FLUSH_NOTE}`;
}

function parseCount(text: string | undefined, what: string, max: number): number {
  if (text === undefined) return 1;
  if (!/^\d{1,12}$/.test(text.replace(/_/g, ''))) throw new UserError(`${what}: "${text}" is not a count`);
  const n = Number(text.replace(/_/g, ''));
  if (n < 1 || n > max) throw new UserError(`${what}: ${n} is out of range (1-${max})`);
  return n;
}

async function historyCommand(t: DebugTarget, cmd: string, args: string[]): Promise<string> {
  if (!t.canReverse()) throw new UserError(NO_HISTORY);
  const where = (): string => {
    const h = t.history();
    const st = t.status();
    return `instruction ${st.icount}, eip ${hex8(t.registers().eip)}${h?.present != null ? ` (in the past; the present is at ${h.present})` : ''}\n`;
  };
  if (cmd === 'goto') {
    if (args.length !== 1) throw new UserError('usage: goto ICOUNT');
    const text = args[0]!.replace(/_/g, '');
    if (!/^\d{1,15}$/.test(text)) throw new UserError(`goto: "${args[0]}" is not an instruction count`);
    const r = await t.goto(Number(text), 'monitor');
    return `${r?.kind === 'history-begin' ? `history begins at instruction ${t.status().icount}: ` : ''}${where()}${FLUSH_NOTE}`;
  }
  if (cmd === 'reverse-stepi' || cmd === 'rsi') {
    const n = parseCount(args[0], cmd, 1_000_000);
    let r: StopReason | null = null;
    for (let i = 0; i < n; i++) {
      r = await t.reverse('step', 'monitor');
      if (r?.kind === 'history-begin') break;
    }
    return `${r?.kind === 'history-begin' ? 'no more history: ' : ''}${where()}${FLUSH_NOTE}`;
  }
  if (args.length > 0) throw new UserError(`${cmd}: extraneous characters at the end of line`);
  const r = await t.reverse('continue', 'monitor');
  const what = r?.kind === 'breakpoint' ? `breakpoint at ${hex8(r.pc)}: ` : r?.kind === 'watchpoint' ? `${r.watch} ${hex8(r.addr)}: ` : 'no hit: history begins at ';
  return `${what}${where()}${FLUSH_NOTE}`;
}

/** QEMU's `info snapshots` table, with the instruction count filled in. */
export function formatSnapshots(list: readonly SnapshotRecord[]): string {
  if (list.length === 0) return 'There is no snapshot available.';
  const rows = list.map((s) => `${'--'.padEnd(9)} ${s.name.padEnd(17)} ${sizeToStr(s.size).padStart(7)} ${formatDate(s.date)} ${formatClock(s.timeNs)} ${String(s.icount).padStart(10)}` +
    (s.foreign ? '  (another machine configuration)' : ''));
  return `${INFO_HEADER}\n${rows.join('\n')}`;
}

export function formatHistory(h: HistoryRecord | null, icount: number): string {
  if (h === null) return 'no history (reverse execution is off while recording or replaying)';
  return [
    `history from instruction ${h.begin} to ${h.present ?? icount}${h.present !== null ? ` (in the past, at ${icount})` : ''}`,
    `checkpoints: ${h.checkpoints} kept (${h.checkpointsTaken} taken, ${h.checkpointsTaken ? (h.checkpointMs / h.checkpointsTaken).toFixed(1) : 0} ms each), ${(h.bytes / 1048576).toFixed(1)} MiB of ${(h.budget / 1048576).toFixed(0)} MiB`,
    `inputs logged: ${h.events}`,
  ].join('\n');
}

/** QEMU's size_to_str: three significant digits and a binary unit. */
export function sizeToStr(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(3))} ${units[i]}`;
}

function formatDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Virtual time as QEMU's VM CLOCK column: HH:MM:SS.mmm. */
function formatClock(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(Math.floor(ms / 3_600_000))}:${p(Math.floor(ms / 60_000) % 60)}:${p(Math.floor(ms / 1000) % 60)}.${p(ms % 1000, 3)}`;
}
