// A recording (--record FILE, QEMU's rr=record): the machine's state when it started,
// every input from outside the guest at the exact point of the run it arrived at, and
// the guest's serial output with the instruction count of each byte (so a replay can
// check itself). Everything else the guest does follows from these: the machine is
// deterministic (its clock is the instruction count).
//
//   0   "BMBTRREC"            magic
//   8   u32 LE version        (RECORDING_VERSION)
//   12  u32 LE header length, then the header (JSON, UTF-8)
//       the start state: a snapshot file (src/snapshot/snapshot-file.ts) of header.snapshotBytes
//   then chunks, each: u32 LE length, 8 bytes of its SHA-256, deflate-raw JSON { events, out }
//
// The last chunk holds the 'end' event; a file without it was cut short.
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ExternalInput } from '../machine/pc-machine.js';
import type { CpuState } from '../cpu/cpu-state.js';
import { UserError } from '../user-error.js';

export const RECORDING_MAGIC = 'BMBTRREC';
export const RECORDING_VERSION = 1;

/**
 * A point of a run: the instruction count, the virtual time (which moves on alone while
 * the CPU halts) and, when the run had stopped there at a breakpoint, its address (the
 * loop may have delivered an interrupt before that stop, at the same count).
 */
export interface Position {
  icount: number;
  ns: number;
  bp?: number;
}

export type LogEvent =
  /** An input from outside the guest, applied at `p`. */
  | { k: 'input'; p: Position; input: ExternalInput }
  /** A debugger wrote registers: the CPU as it was after the write. */
  /** `cpuIndex`: with several CPUs, the one the debugger had selected (its state is `cpu`). */
  | { k: 'cpu'; p: Position; cpu: CpuState; cpuIndex?: number }
  /** -icount shift=auto chose a new rate. */
  | { k: 'rate'; p: Position; nsPerInsn: number }
  /** One instruction was stepped with interrupts held off (a debugger's stepi); it ended at `end`. */
  | { k: 'step'; p: Position; end: Position }
  /** The recording ends here: how the run ended. */
  | { k: 'end'; p: Position; how: string };

export interface RecordingHeader {
  writer: string;
  /** The machine configuration (machineFingerprint). */
  fingerprint: string;
  /** Digests of the images a guest reset boots again (a direct boot's kernel and modules). */
  boot: string;
  /** Wall-clock time the recording started (ms since the epoch). */
  started: number;
  snapshotBytes: number;
}

export interface Recording {
  header: RecordingHeader;
  /** The start state: a snapshot file with one snapshot. */
  snapshotFile: Uint8Array;
  events: LogEvent[];
  /** The serial output: [icount, byte] pairs, in order. */
  out: number[];
}

export class RecordingError extends UserError {}

export function encodeRecordingHead(header: RecordingHeader, snapshotFile: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(16);
  head.write(RECORDING_MAGIC, 0, 'latin1');
  head.writeUInt32LE(RECORDING_VERSION, 8);
  head.writeUInt32LE(json.length, 12);
  return Buffer.concat([head, json, snapshotFile]);
}

export function encodeChunk(events: LogEvent[], out: number[]): Buffer {
  const body = deflateRawSync(Buffer.from(JSON.stringify({ events, out }), 'utf8'), { level: 1 });
  const head = Buffer.alloc(12);
  head.writeUInt32LE(body.length, 0);
  createHash('sha256').update(body).digest().copy(head, 4, 0, 8);
  return Buffer.concat([head, body]);
}

/** Parse a recording; every problem is one line naming `what` (the file). */
export function decodeRecording(buf: Uint8Array, what: string): Recording {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 16 || b.toString('latin1', 0, 8) !== RECORDING_MAGIC) throw new RecordingError(`${what}: not a bmbt-dbg recording`);
  const version = b.readUInt32LE(8);
  if (version !== RECORDING_VERSION) {
    throw new RecordingError(`${what}: recording format version ${version} is not supported (this bmbt-dbg reads version ${RECORDING_VERSION})`);
  }
  const hlen = b.readUInt32LE(12);
  let header: RecordingHeader;
  try {
    header = JSON.parse(b.toString('utf8', 16, 16 + hlen)) as RecordingHeader;
    if (typeof header.fingerprint !== 'string' || !Number.isInteger(header.snapshotBytes)) throw new Error('header');
  } catch {
    throw new RecordingError(`${what}: the recording is damaged (its header)`);
  }
  let at = 16 + hlen;
  if (at + header.snapshotBytes > b.length) throw new RecordingError(`${what}: the recording is truncated (in its start state)`);
  const snapshotFile = b.subarray(at, at + header.snapshotBytes);
  at += header.snapshotBytes;
  const events: LogEvent[] = [];
  const out: number[] = [];
  const lastIcount = (): number => events.length ? events[events.length - 1]!.p.icount : 0;
  while (at < b.length) {
    if (at + 12 > b.length) break;
    const len = b.readUInt32LE(at);
    if (at + 12 + len > b.length) break;
    const body = b.subarray(at + 12, at + 12 + len);
    if (!createHash('sha256').update(body).digest().subarray(0, 8).equals(b.subarray(at + 4, at + 12))) {
      throw new RecordingError(`${what}: the recording is damaged after instruction ${lastIcount()} (checksum mismatch)`);
    }
    try {
      const chunk = JSON.parse(inflateRawSync(body).toString('utf8')) as { events: LogEvent[]; out: number[] };
      events.push(...chunk.events);
      out.push(...chunk.out);
    } catch {
      throw new RecordingError(`${what}: the recording is damaged after instruction ${lastIcount()}`);
    }
    at += 12 + len;
  }
  if (events.length === 0 || events[events.length - 1]!.k !== 'end') {
    throw new RecordingError(`${what}: the recording is truncated: it stops after instruction ${lastIcount()} without its end (was the recording process killed?)`);
  }
  return { header, snapshotFile, events, out };
}
