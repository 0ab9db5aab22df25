// The time-travel commands of the command language (commands.ts): QEMU's savevm, loadvm,
// delvm and info snapshots on the target's named snapshots. Kept apart from commands.ts,
// which only dispatches here.
import type { DebugTarget, SnapshotRecord } from './target.js';
import { UserError } from '../user-error.js';

export const SNAPSHOT_HELP: [string, string][] = [
  ['savevm [NAME]', 'snapshot the machine as NAME (replacing one of that name; default vm-DATE)'],
  ['loadvm NAME', 'put the machine in the state of snapshot NAME'],
  ['delvm NAME', 'delete snapshot NAME'],
  ['info snapshots', 'the snapshots (kept in the --snapshot-file, if given)'],
];

/** QEMU's `info snapshots` header (measured on 7.2). */
const INFO_HEADER = 'List of snapshots present on all disks:\nID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT';

const hex8 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** QEMU's default snapshot name: vm-YYYYMMDDHHMMSS (local time). */
function defaultName(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `vm-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/**
 * Runs `cmd` if it is a snapshot command: its output, or null for another command. A
 * mistake is an answer (`error: ...`).
 */
export async function snapshotCommand(t: DebugTarget, cmd: string, args: string[]): Promise<string | null> {
  if (cmd !== 'savevm' && cmd !== 'loadvm' && cmd !== 'delvm') return null;
  if (args.length > 1) return `error: ${cmd}: extraneous characters at the end of line\n`;
  if (cmd !== 'savevm' && args.length === 0) return `error: ${cmd}: a snapshot name is needed\n`;
  try {
    if (cmd === 'delvm') return t.deleteSnapshot(args[0]!) ? `deleted snapshot '${args[0]}'\n` : `error: Snapshot '${args[0]}' does not exist\n`;
    if (cmd === 'savevm') {
      const s = await t.saveSnapshot(args[0] ?? defaultName(), 'monitor');
      const file = t.snapshotFile();
      return `saved snapshot '${s.name}' at instruction ${s.icount}${file ? ` in ${file}` : ''}\n`;
    }
    const s = await t.loadSnapshot(args[0]!, 'monitor');
    return `loaded snapshot '${s.name}': instruction ${s.icount}, eip ${hex8(t.registers().eip)}\n` +
      'gdb: run "maintenance flush register-cache" to see the new registers\n';
  } catch (e) {
    if (e instanceof UserError) return `error: ${e.message}\n`;
    throw e;
  }
}

/** QEMU's `info snapshots` table, with the instruction count filled in. */
export function formatSnapshots(list: readonly SnapshotRecord[]): string {
  if (list.length === 0) return 'There is no snapshot available.';
  const rows = list.map((s) => `${'--'.padEnd(9)} ${s.name.padEnd(17)} ${sizeToStr(s.size).padStart(7)} ${formatDate(s.date)} ${formatClock(s.timeNs)} ${String(s.icount).padStart(10)}` +
    (s.foreign ? '  (another machine configuration)' : ''));
  return `${INFO_HEADER}\n${rows.join('\n')}`;
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
