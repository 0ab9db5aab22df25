// Typed events of the machine, stamped with the retired-instruction count. Front ends
// read them from bounded rings; nothing is emitted per executed TB (counts are kept on
// the TBs instead), so the log is cheap enough to leave on.
import { RingBuffer } from './ring-buffer.js';

export type MachineEvent =
  | { kind: 'tb-translate'; icount: number; pc: number; phys: number; size: number; ninsns: number; id: number }
  | { kind: 'tb-invalidate'; icount: number; pc: number; phys: number; id: number; reason: string }
  | { kind: 'tb-flush'; icount: number; reason: string; count: number }
  | { kind: 'tb-chain'; icount: number; from: number; to: number; slot: number; fromId: number; toId: number }
  | { kind: 'irq-raise'; icount: number; line: number }
  | { kind: 'irq-lower'; icount: number; line: number }
  /** `cpu`: with several CPUs, the one that took it (absent with one CPU). */
  | { kind: 'irq-deliver'; icount: number; vector: number; eip: number; cpu?: number }
  | { kind: 'exception'; icount: number; vector: number; errorCode: number; eip: number; cpu?: number }
  /** Exceptions delivered back to back with no instruction retiring (see CpuExec.handleException). */
  | { kind: 'exception-storm'; icount: number; vector: number; eip: number; deliveries: number }
  | { kind: 'io'; icount: number; port: number; value: number; size: number; write: boolean }
  | { kind: 'reset'; icount: number; cause: string }
  | { kind: 'unimplemented'; icount: number; eip: number; bytes: number[]; what: string }
  | { kind: 'post'; icount: number; code: number };

export type MachineEventKind = MachineEvent['kind'];

/** Which ring each kind lives in: a burst of one kind does not push out the others. */
const CHANNEL: Record<MachineEventKind, 'tb' | 'irq' | 'io' | 'misc'> = {
  'tb-translate': 'tb', 'tb-invalidate': 'tb', 'tb-flush': 'tb', 'tb-chain': 'tb',
  'irq-raise': 'irq', 'irq-lower': 'irq', 'irq-deliver': 'irq', exception: 'irq', 'exception-storm': 'misc',
  io: 'io', reset: 'misc', unimplemented: 'misc', post: 'misc',
};

export type EventListener = (e: MachineEvent) => void;

export class EventLog {
  readonly rings = {
    tb: new RingBuffer<MachineEvent>(4096),
    irq: new RingBuffer<MachineEvent>(8192),
    io: new RingBuffer<MachineEvent>(2048),
    misc: new RingBuffer<MachineEvent>(512),
  };
  readonly counts = new Map<MachineEventKind, number>();
  private readonly listeners = new Set<EventListener>();
  /** Source of the instruction count stamped on each event. */
  icount: () => number = () => 0;
  /** Port I/O events are off unless asked for: a serial console produces many. */
  traceIo = false;

  /** While set, nothing is recorded (a snapshot being loaded replays no history). */
  muted = false;

  emit(e: MachineEvent): void {
    if (this.muted) return;
    this.rings[CHANNEL[e.kind]].push(e);
    this.counts.set(e.kind, (this.counts.get(e.kind) ?? 0) + 1);
    for (const l of this.listeners) l(e);
  }

  count(kind: MachineEventKind): number {
    return this.counts.get(kind) ?? 0;
  }

  /** Events pushed so far into the ring that holds `kind` (a change means new events there). */
  serial(kind: MachineEventKind): number {
    return this.rings[CHANNEL[kind]].total;
  }

  /** Events of the given kinds, oldest first. */
  recent(kinds: readonly MachineEventKind[], max = Infinity): MachineEvent[] {
    const want = new Set(kinds);
    const chans = new Set(kinds.map((k) => CHANNEL[k]));
    const out: MachineEvent[] = [];
    for (const c of chans) for (const e of this.rings[c].toArray()) if (want.has(e.kind)) out.push(e);
    out.sort((a, b) => a.icount - b.icount);
    return out.length > max ? out.slice(out.length - max) : out;
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  clear(): void {
    for (const r of Object.values(this.rings)) r.clear();
    this.counts.clear();
  }
}
