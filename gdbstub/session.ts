// One gdb connection: packets in, replies out, all through the debugger controller.
//
// All-stop mode: after a resume (c, s, vCont) the next stop of the controller, whoever
// caused it (a breakpoint, Ctrl-C from gdb, the UI's pause key), is reported to gdb as
// the stop reply. Everything that arrives from the network is validated; a malformed
// packet gets an error or the empty reply and changes nothing.
import type { Socket } from 'node:net';
import type { DebugTarget, StopReason } from '../src/debug/target.js';
import { isX87Register } from '../src/debug/x87-registers.js';
import { newMonitorSession, runMonitorCommand, type MonitorSession } from '../src/debug/monitor.js';
import { describeStop, stopContext } from '../src/debug/describe-stop.js';
import {
  MAX_PACKET, PacketDecoder, escapeBinary, frame, fromHex, hexOfText, latin1, leHex, parseHex, toHex, unescapeBinary, type RspInput,
} from './packet.js';
import { G_PACKET_BYTES, REGISTERS, REGISTER_OFFSETS, TARGET_FILES, type RegisterDef } from './target-description.js';
import { answer, effect, perform, type Decision } from './packet-effect.js';
import type { RegisterWrite } from '../src/debug/registers.js';

/** Largest m/M read or write (the hex reply must fit in PacketSize). */
export const MAX_MEMORY_XFER = MAX_PACKET / 2;
const MAX_WATCH_LEN = 0x10000;
const SIGINT = 2;
const SIGQUIT = 3;
const SIGTRAP = 5;
const SIGKILL = 9;

export interface SessionOptions {
  /** One-line notes for the user (connections, detach). */
  note?: (msg: string) => void;
  /** Every packet in and out (the CLI logs them to stderr with BMBT_GDB_TRACE=1). */
  trace?: (dir: '<-' | '->', text: string) => void;
  /** Called once when the connection is gone. */
  onClose?: () => void;
}

/** `cpu`: the CPU a step applies to (0-based), when the packet names one. */
type Action = { kind: 'c' | 's' | 't'; addr?: number; cpu?: number };

/** Order of a G packet's writes: control registers, then EFLAGS, then selectors, then the rest. */
function writeRank(name: string): number {
  if (/^cr[0-4]$/.test(name)) return 0;
  if (name === 'eflags') return 1;
  if (/^[cdefgs]s$/.test(name)) return 2;
  return 3;
}

export class GdbSession {
  private readonly decoder = new PacketDecoder();
  private ackMode = true;
  /** Packets received and not yet acknowledged (the '+' rides on the next write). */
  private acksOwed = 0;
  private lastReply: Buffer | null = null;
  private multiprocess = false;
  /** The CPU `Hc` named for steps, or -1 (the selected one). */
  private stepCpu = -1;
  /**
   * gdb's current thread (its `Hg`, or the thread of the last stop reply), -1 before any:
   * register and memory packets apply to it even when the UI or a monitor command
   * selected another CPU meanwhile (gdb caches what it read of its thread).
   */
  private gdbCpu = -1;
  private swbreak = false;
  private hwbreak = false;
  /** A resume is outstanding: the controller's next stop is reported to gdb. */
  private waiting = false;
  private queue: Promise<void> = Promise.resolve();
  /** Packets received and not yet served (an interrupt waits for them). */
  private pendingPackets = 0;
  private closed = false;
  private readonly unsubscribe: () => void;
  /**
   * Breakpoints and watchpoints this connection inserted, by `type:addr:len`: whether we
   * created it in the controller (not the UI), and whether gdb has taken it out since the
   * last stop. gdb takes every breakpoint out when the guest stops and puts it back when
   * it resumes; taken out, it stays in the controller until the resume (the UI's
   * Breakpoints pane and `monitor info breakpoints` still show it, and a continue from
   * the UI still stops there), and going back in it keeps its number.
   */
  private readonly points = new Map<string, { created: boolean; out: boolean }>();
  /** The controller's number of each breakpoint gdb has had, so it keeps it when put back. */
  private readonly pointIds = new Map<string, number>();
  /** The guest moved while gdb was stopped (the UI stepped it): gdb's registers are stale. */
  private movedBehindGdb = false;
  readonly monitor: MonitorSession = newMonitorSession();

  constructor(readonly ctl: DebugTarget, readonly socket: Socket, private readonly opts: SessionOptions = {}) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.teardown());
    // The peer's end (gdb gone, maybe in the middle of a packet): the next gdb may come now.
    socket.on('end', () => this.teardown());
    socket.on('close', () => this.teardown());
    this.unsubscribe = ctl.subscribe((e) => {
      if (e.type !== 'stop') return;
      if (this.waiting) {
        this.waiting = false;
        this.sendStop(e.reason);
      } else if (!this.movedBehindGdb && e.reason.kind !== 'killed' && e.reason.kind !== 'exited') {
        // All-stop gdb reads nothing it did not ask for (a stop reply or an `O` packet now
        // would be taken for the answer to its next request): say it where the user is.
        this.movedBehindGdb = true;
        this.opts.note?.('the guest moved while gdb was stopped: gdb shows the old registers until it resumes (in gdb: maintenance flush register-cache)');
      }
    });
    // gdb's `target remote` expects a stopped target (QEMU stops the VM too); packets
    // are served once it is (their queue starts behind the pause).
    if (ctl.status().state === 'running') this.queue = ctl.pause('gdb attach').then(() => undefined);
  }

  // ---- input -----------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.decoder.push(chunk, (e) => this.onInput(e));
  }

  private onInput(e: RspInput): void {
    switch (e.kind) {
      case 'ack':
      case 'noise':
        return;
      case 'nak':
        if (this.ackMode && this.lastReply) this.write(this.lastReply);
        return;
      case 'interrupt':
        // After the packets that came before it: a `c` still in the queue (`$c#63` and
        // 0x03 in one read) is the run it stops. With nothing to stop it does nothing.
        if (this.waiting) void this.ctl.pause('gdb');
        else if (this.pendingPackets > 0) this.enqueue(() => void (this.waiting && this.ctl.pause('gdb')), false);
        return;
      case 'bad-checksum':
        if (this.ackMode) this.write(Buffer.from('-'));
        return;
      case 'oversized':
        if (this.ackMode) this.acksOwed++;
        this.enqueue(() => this.reply('E22'));
        return;
      case 'packet': {
        // The '+' goes out with the reply (one write), or once the packet has been handled.
        if (this.ackMode) this.acksOwed++;
        if (this.waiting) {
          // Any packet while the guest runs stops it, as in QEMU; the packet is dropped.
          this.flushAck();
          void this.ctl.pause('gdb');
          return;
        }
        const payload = e.payload;
        this.enqueue(() => this.handle(payload));
        return;
      }
    }
  }

  /** `packet`: a packet (counted while it waits), not an interrupt. */
  private enqueue(fn: () => Promise<void> | void, packet = true): void {
    if (packet) this.pendingPackets++;
    this.queue = this.queue
      .then(fn)
      .catch((err: unknown) => {
        // A bug, not a protocol error: answer, say it in one line, keep serving.
        this.opts.note?.(`internal error while serving gdb: ${(err as Error)?.message ?? String(err)}`);
        if (!this.waiting) this.reply('E22');
      })
      .then(() => {
        if (packet) this.pendingPackets--;
        this.flushAck();
      });
  }

  private flushAck(): void {
    if (this.acksOwed > 0) this.write(Buffer.alloc(0));
  }

  // ---- output ----------------------------------------------------------------------------

  private write(buf: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.acksOwed > 0) {
      buf = Buffer.concat([Buffer.from('+'.repeat(this.acksOwed)), buf]);
      this.acksOwed = 0;
    }
    if (buf.length > 0) this.socket.write(buf);
  }

  private reply(text: string): void {
    this.replyBytes(Buffer.from(text, 'latin1'));
  }

  private replyBytes(payload: Uint8Array): void {
    const f = frame(payload);
    this.lastReply = f;
    this.opts.trace?.('->', latin1(payload.subarray(0, 200)));
    this.write(f);
  }

  /** Console output for gdb (`O` packets), in pieces that fit a packet. */
  private output(text: string): void {
    const hex = hexOfText(text);
    for (let i = 0; i < hex.length; i += 2048) this.reply('O' + hex.slice(i, i + 2048));
  }

  /** gdb's id of a CPU's thread (QEMU's: thread = CPU index + 1, process 1); default the selected one. */
  private threadIdOf(cpu: number): string {
    const t = (cpu + 1).toString(16).padStart(2, '0');
    return this.multiprocess ? `p01.${t}` : t;
  }

  private get threadId(): string {
    return this.threadIdOf(this.ctl.selectedCpu());
  }

  stopReply(reason: StopReason, forQuery = false): string {
    if (reason.kind === 'exited') return `W${leHex(reason.code & 0xff, 1)}${this.multiprocess ? ';process:1' : ''}`;
    if (reason.kind === 'killed') return `X${leHex(SIGKILL, 1)}${this.multiprocess ? ';process:1' : ''}`;
    const r = this.ctl.registers();
    let sig = SIGTRAP;
    let extra = '';
    if (!forQuery) {
      if (reason.kind === 'interrupt') sig = SIGINT;
      // QEMU reports a guest shutdown held by -no-shutdown as SIGQUIT.
      else if (reason.kind === 'shutdown') sig = SIGQUIT;
      else if (reason.kind === 'breakpoint') {
        // gdb knows a breakpoint by its linear address and takes EIP for the PC; where they
        // differ (real mode, a segment base) a "breakpoint hit" at a PC where it has none
        // makes gdb resume silently. Without the reason it reports a SIGTRAP, as with QEMU.
        if (reason.pc !== r.eip) extra = '';
        else if (reason.hw && this.hwbreak) extra = 'hwbreak:;';
        else if (!reason.hw && this.swbreak) extra = 'swbreak:;';
      } else if (reason.kind === 'watchpoint') extra = `${reason.watch}:${(reason.addr >>> 0).toString(16)};`;
      else if (reason.kind === 'history-begin') extra = 'replaylog:begin;';
    }
    // Expedite esp, ebp and eip: after a stepi gdb then needs no `g` to show the frame.
    this.gdbCpu = this.ctl.selectedCpu();
    return `T${leHex(sig, 1)}thread:${this.threadId};04:${leHex(r.gpr[4]!, 4)};05:${leHex(r.gpr[5]!, 4)};08:${leHex(r.eip, 4)};${extra}`;
  }

  private sendStop(reason: StopReason): void {
    // Stops gdb has no words for are said on its console, as the headless notes say them.
    const r = this.ctl.registers();
    const say = (text: string): void => this.output(`bmbt-dbg: ${text}\n`);
    if (reason.kind === 'halted' || reason.kind === 'triple-fault' || reason.kind === 'budget' || reason.kind === 'shutdown') {
      say(describeStop(reason, stopContext(this.ctl, true)));
    } else if (reason.kind === 'breakpoint' && reason.pc !== r.eip) {
      const cs = r.seg[1]!.sel.toString(16).padStart(4, '0');
      say(`breakpoint ${reason.id} at linear 0x${reason.pc.toString(16)} hit at ${cs}:${r.eip.toString(16).padStart(4, '0')} (EIP is $pc)`);
    }
    this.reply(this.stopReply(reason));
  }

  // ---- dispatch --------------------------------------------------------------------------

  private async handle(payload: Uint8Array): Promise<void> {
    if (this.closed) return;
    const text = latin1(payload);
    this.opts.trace?.('<-', text.slice(0, 200));
    // Registers and linear memory are those of gdb's thread.
    const g = this.gdbCpu;
    let selectedBefore: number | null = null;
    if (g >= 0 && 'gGpPmMX'.includes(text[0] ?? '') && this.ctl.selectedCpu() !== g && this.ctl.status().state !== 'running') {
      selectedBefore = this.ctl.selectedCpu();
      this.ctl.selectCpu(g);
    }
    // Decide first (parse and check everything), then perform: see packet-effect.ts.
    const d = this.decide(text, payload);
    let refused = false;
    await perform(d, (t) => {
      refused = /^E[0-9A-Fa-f]{2}$/.test(t);
      this.reply(t);
    });
    // A refused packet leaves everything as it was, the other front ends' CPU too.
    if (refused && selectedBefore !== null) this.ctl.selectCpu(selectedBefore);
  }

  private decide(text: string, payload: Uint8Array): Decision {
    switch (text[0]) {
      case '?':
        return answer(text === '?' ? this.stopReply(this.ctl.status().lastStop, true) : 'E22');
      case 'g':
        return answer(text === 'g' ? this.readAllRegisters() : 'E22');
      case 'G':
        return this.writeAllRegisters(text.slice(1));
      case 'p':
        return answer(this.readOneRegister(text.slice(1)));
      case 'P':
        return this.writeOneRegister(text.slice(1));
      case 'm':
        return answer(this.readMemory(text.slice(1)));
      case 'M':
        return this.writeMemoryHex(text.slice(1));
      case 'X':
        return this.writeMemoryBinary(payload);
      case 'c':
      case 's':
      case 'C':
      case 'S':
        return this.simpleResume(text);
      case 'Z':
      case 'z':
        return this.point(text);
      case 'H': {
        // Hg: the CPU whose registers g/p/G/P see; Hc: the one s steps. Any (0) or all (-1)
        // keep the selection.
        const t = /^H[gcm]/.test(text) ? this.parseThread(text.slice(2), true) : null;
        if (t === null) return answer('E22');
        if (t < 0) return answer('OK');
        if (text[1] === 'c') return effect({ commit: () => (this.stepCpu = t) });
        return effect({ change: () => this.ctl.selectCpu(t), commit: () => (this.gdbCpu = t) });
      }
      case 'T':
        return answer(this.validThread(text.slice(1), false) ? 'OK' : 'E22');
      case 'D':
        return this.detach(text);
      case 'k':
        return text === 'k' ? this.kill(null) : answer('');
      case 'b':
        return text === 'bs' || text === 'bc' ? this.reverse(text === 'bs' ? 'step' : 'continue') : answer('');
      case 'q':
      case 'Q':
        return this.query(text);
      case 'v':
        return this.vPacket(text);
      default:
        return answer('');
    }
  }

  /** bs / bc: reverse execution (src/debug/reverse.ts); the stop comes as after a resume. */
  private reverse(what: 'step' | 'continue'): Decision {
    if (!this.ctl.canReverse()) return answer('E22');
    return effect({
      commit: () => (this.waiting = true),
      reply: null,
      after: async () => {
        if ((await this.ctl.reverse(what, 'gdb')) === null) {
          this.waiting = false;
          this.reply('E22');
        }
      },
    });
  }

  // ---- registers -------------------------------------------------------------------------

  private readAllRegisters(): string {
    const r = this.ctl.registers();
    let s = '';
    for (const def of REGISTERS) s += toHex(def.read(r));
    return s;
  }

  /**
   * The write of `def` from gdb's bytes, null when they are its current value, 'E14' when
   * they differ and the register cannot be written (fs_base, gs_base, efer).
   */
  private registerWrite(def: RegisterDef, bytes: Uint8Array, current: Uint8Array): RegisterWrite | null | 'E14' {
    if (bytes.every((b, i) => b === current[i])) return null;
    if (!def.writeName) return 'E14';
    if (isX87Register(def.name) || def.bitsize !== 32) return { name: def.writeName, bytes: Uint8Array.from(bytes) }; // st0-7, xmm0-7
    return { name: def.writeName, value: new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) };
  }

  private writeAllRegisters(hex: string): Decision {
    const bytes = fromHex(hex);
    if (!bytes) return answer('E22');
    // A shorter G (cut on a register boundary) writes the registers it covers.
    const n = REGISTER_OFFSETS.findIndex((off, i) => off + REGISTERS[i]!.bitsize / 8 > bytes.length);
    const count = n < 0 ? REGISTERS.length : n;
    if (bytes.length > G_PACKET_BYTES || (n >= 0 && REGISTER_OFFSETS[n] !== bytes.length) || count === 0) return answer('E22');
    const snap = this.ctl.registers();
    const writes: RegisterWrite[] = [];
    for (let i = 0; i < count; i++) {
      const def = REGISTERS[i]!;
      const off = REGISTER_OFFSETS[i]!;
      const w = this.registerWrite(def, bytes.subarray(off, off + def.bitsize / 8), def.read(snap));
      if (w === 'E14') return answer('E14');
      if (w !== null) writes.push(w);
    }
    // The control registers and EFLAGS (VM) decide how a selector loads: they go first.
    writes.sort((a, b) => writeRank(a.name) - writeRank(b.name));
    return effect({ change: () => this.ctl.setRegisters(writes) });
  }

  private readOneRegister(arg: string): string {
    const n = parseHex(arg, 4);
    if (n === null) return 'E22';
    const def = REGISTERS[n];
    if (!def) return 'E14';
    return toHex(def.read(this.ctl.registers()));
  }

  private writeOneRegister(arg: string): Decision {
    const eq = arg.indexOf('=');
    if (eq < 0) return answer('E22');
    const n = parseHex(arg.slice(0, eq), 4);
    const bytes = fromHex(arg.slice(eq + 1));
    if (n === null || !bytes) return answer('E22');
    const def = REGISTERS[n];
    if (!def) return answer('E14');
    if (bytes.length !== def.bitsize / 8) return answer('E22');
    const w = this.registerWrite(def, bytes, def.read(this.ctl.registers()));
    if (w === 'E14') return answer('E14');
    return w === null ? effect({}) : effect({ change: () => this.ctl.setRegisters([w]) });
  }

  // ---- memory ----------------------------------------------------------------------------

  /** `ADDR,LEN` with a 32-bit address and a length within limits. */
  private addrLen(text: string, maxLen: number): { addr: number; len: number } | 'E22' | 'E14' {
    const m = /^([0-9a-fA-F]{1,16}),([0-9a-fA-F]{1,16})$/.exec(text);
    if (!m) return 'E22';
    const addr = parseInt(m[1]!, 16);
    const len = parseInt(m[2]!, 16);
    if (len > maxLen) return 'E22';
    if (addr > 0xffffffff) return 'E14';
    return { addr, len };
  }

  private readMemory(arg: string): string {
    const a = this.addrLen(arg, MAX_MEMORY_XFER);
    if (typeof a === 'string') return a;
    if (a.len === 0) return 'E22';
    // Never wrap past 4 GiB; stop at the first unmapped byte (a short reply is allowed).
    const len = Math.min(a.len, 0x100000000 - a.addr);
    const phys = this.monitor.physicalMemory;
    const all = this.ctl.readMemory(a.addr, len, phys);
    if (all) return toHex(all);
    let n = 0;
    while (n < len && this.ctl.readMemory(a.addr + n, 1, phys)) n++;
    if (n === 0) return 'E14';
    return toHex(this.ctl.readMemory(a.addr, n, phys)!);
  }

  /** A write of `data` at `addr`: the controller checks every byte's page before it writes one. */
  private store(addr: number, data: Uint8Array): Decision {
    if (data.length === 0) return effect({});
    if (addr + data.length > 0x100000000) return answer('E14');
    const phys = this.monitor.physicalMemory;
    return effect({ change: () => this.ctl.writeMemory(addr, data, phys) });
  }

  private writeMemoryHex(arg: string): Decision {
    const colon = arg.indexOf(':');
    if (colon < 0) return answer('E22');
    const a = this.addrLen(arg.slice(0, colon), MAX_MEMORY_XFER);
    if (typeof a === 'string') return answer(a);
    const data = fromHex(arg.slice(colon + 1));
    if (!data || data.length !== a.len) return answer('E22');
    return this.store(a.addr, data);
  }

  private writeMemoryBinary(payload: Uint8Array): Decision {
    const colon = payload.indexOf(0x3a);
    if (colon < 0) return answer('E22');
    const a = this.addrLen(latin1(payload.subarray(1, colon)), MAX_PACKET);
    if (typeof a === 'string') return answer(a);
    const data = unescapeBinary(payload.subarray(colon + 1));
    if (!data || data.length !== a.len) return answer('E22');
    return this.store(a.addr, data);
  }

  // ---- breakpoints and watchpoints -------------------------------------------------------

  /**
   * Z/z TYPE,ADDR,KIND[;cond...]. What follows the kind (a condition list, commands) is
   * taken and ignored on both, as QEMU 7.2 does (measured: `z0,100810,9a59;9;0` removes
   * the breakpoint and answers OK); we advertise no ConditionalBreakpoints, so gdb sends
   * none.
   */
  private point(text: string): Decision {
    const m = /^([Zz])([0-4]),([0-9a-fA-F]{1,16}),([0-9a-fA-F]{1,8})(;.*)?$/.exec(text);
    if (!m) return answer('E22');
    const insert = m[1] === 'Z';
    const type = Number(m[2]);
    const addr = parseInt(m[3]!, 16);
    const kind = parseInt(m[4]!, 16);
    if (addr > 0xffffffff) return answer('E22');
    if (type >= 2 && (kind < 1 || kind > MAX_WATCH_LEN || addr + kind > 0x100000000)) return answer('E22');
    const key = `${type}:${addr}:${type >= 2 ? kind : 0}`;
    const watch = (['watch', 'rwatch', 'awatch'] as const)[type - 2];
    const have = this.points.get(key);
    if (!insert) {
      if (!have || have.out) return answer('E22');
      return effect({ commit: () => (have.out = true) });
    }
    // Back in before a resume: it never left the controller, unless another front end
    // (the monitor's delete, the UI) took it out meanwhile; then it goes in again.
    const inController = watch
      ? this.ctl.watchpoints().some((w) => w.addr === addr && w.len === kind && w.kind === watch)
      : this.ctl.breakpoints().some((b) => b.addr === addr && b.hw === (type === 1));
    if (have && inController) return effect({ commit: () => (have.out = false) });
    return effect({
      change: () => {
        let created: boolean;
        let id: number;
        if (watch) {
          created = !this.ctl.watchpoints().some((w) => w.addr === addr && w.len === kind && w.kind === watch);
          id = this.ctl.addWatchpoint(addr, kind, watch, this.pointIds.get(key)).id;
        } else {
          const hw = type === 1;
          created = !this.ctl.breakpoints().some((b) => b.addr === addr && b.hw === hw);
          id = this.ctl.addBreakpoint(addr, { hw, owner: 'gdb', id: this.pointIds.get(key) }).id;
        }
        if (created) this.pointIds.set(key, id);
        this.points.set(key, { created, out: false });
        return true;
      },
    });
  }

  /** At a resume: what gdb took out and did not put back is gone. */
  private dropRemovedPoints(): void {
    for (const [key, p] of this.points) {
      if (!p.out) continue;
      this.points.delete(key);
      if (p.created) this.removePoint(key);
    }
  }

  private removePoint(key: string): void {
    const [t, a, k] = key.split(':').map(Number) as [number, number, number];
    const watch = (['watch', 'rwatch', 'awatch'] as const)[t - 2];
    if (watch) this.ctl.removeWatchpoint(a, k, watch);
    else this.ctl.removeBreakpoint(a, t === 1);
  }

  private removeAllPoints(): void {
    for (const [key, p] of this.points) if (p.created) this.removePoint(key);
    this.points.clear();
  }

  // ---- threads ---------------------------------------------------------------------------

  /** Thread ids naming a CPU (or any/all): 1, 0, -1, p1.2, p1, p1.-1, p-1.-1, p0.0 ... */
  private validThread(id: string, allowAll: boolean): boolean {
    return this.parseThread(id, allowAll) !== null;
  }

  /**
   * A thread id: the CPU's index (thread N is CPU N-1), -1 for any or all (with
   * `allowAll`; "any", 0, is always allowed), null when it names no thread of ours.
   */
  private parseThread(id: string, allowAll: boolean): number | null {
    const m = /^(?:p(-1|[0-9a-fA-F]{1,8})(?:\.(-1|[0-9a-fA-F]{1,8}))?|(-1|[0-9a-fA-F]{1,8}))$/.exec(id);
    if (!m) return null;
    const n = this.ctl.cpus().length;
    if (m[1] !== undefined && !(m[1] === '-1' ? allowAll : parseInt(m[1], 16) <= 1)) return null;
    const tid = m[3] ?? m[2];
    if (tid === undefined) return m[1] === '-1' || parseInt(m[1]!, 16) === 0 ? -1 : allowAll ? -1 : 0;
    if (tid === '-1') return allowAll ? -1 : null;
    const t = parseInt(tid, 16);
    if (t === 0) return -1;
    return t <= n ? t - 1 : null;
  }

  // ---- resuming --------------------------------------------------------------------------

  private simpleResume(text: string): Decision {
    // c[addr] s[addr] Csig[;addr] Ssig[;addr]; signals are not delivered to a bare machine.
    const m = /^([cs])([0-9a-fA-F]{1,8})?$/.exec(text) ?? /^([CS])[0-9a-fA-F]{2}(?:;([0-9a-fA-F]{1,8}))?$/.exec(text);
    if (!m) return answer('E22');
    const addr = m[2] !== undefined ? parseInt(m[2], 16) : undefined;
    return this.resume({ kind: m[1]!.toLowerCase() as 'c' | 's', ...(addr !== undefined ? { addr } : {}) });
  }

  private resume(a: Action): Decision {
    const ctl = this.ctl;
    const resuming = (): void => {
      this.dropRemovedPoints();
      this.movedBehindGdb = false;
    };
    if (ctl.status().state === 'exited') return effect({ commit: resuming, reply: () => this.stopReply(ctl.status().lastStop) });
    if (a.kind === 't') return effect({ commit: resuming, reply: `T00thread:${this.threadId};` });
    const addr = a.addr;
    return effect({
      ...(addr !== undefined ? { change: () => ctl.setRegister('eip', addr) } : {}),
      commit: () => {
        resuming();
        // The controller's next stop is gdb's stop reply; if someone else (the UI) is
        // running the guest already, that is the one.
        this.waiting = true;
      },
      reply: null,
      after: async () => {
        if (ctl.status().state === 'running') return;
        // All-stop, as QEMU by default: a step moves the CPU it names, the others stay.
        if (a.kind === 's') {
          const cpu = a.cpu ?? (this.stepCpu >= 0 ? this.stepCpu : -1);
          if (cpu >= 0) ctl.selectCpu(cpu);
          await ctl.stepInstruction(1, 'gdb');
        }
        else ctl.resume('gdb');
      },
    });
  }

  private vCont(text: string): Decision {
    if (text === 'vCont?') return answer('vCont;c;C;s;S;t');
    if (!text.startsWith('vCont;')) return answer('');
    let chosen: Action | null = null;
    for (const part of text.slice(6).split(';')) {
      const m = /^([cst]|[CS][0-9a-fA-F]{2})(?::(.+))?$/.exec(part);
      if (!m) return answer('E22');
      const t = m[2] === undefined ? -1 : this.parseThread(m[2], true);
      if (t === null) return answer('E22');
      if (chosen === null) chosen = { kind: m[1]![0]!.toLowerCase() as Action['kind'], ...(t >= 0 ? { cpu: t } : {}) };
    }
    if (!chosen) return answer('E22');
    return this.resume(chosen);
  }

  // ---- detach and kill -------------------------------------------------------------------

  private detach(text: string): Decision {
    const m = /^D(?:;([0-9a-fA-F]{1,8}))?$/.exec(text);
    if (!m || (m[1] !== undefined && parseInt(m[1], 16) !== 1)) return answer('E22');
    return effect({
      after: () => {
        this.removeAllPoints();
        this.opts.note?.('gdb detached; the guest runs on');
        if (this.ctl.status().state === 'stopped') this.ctl.resume('gdb detach');
        this.socket.end();
        this.teardown();
      },
    });
  }

  /** k (no reply) or vKill (OK first). */
  private kill(reply: string | null): Decision {
    return effect({
      reply,
      after: async () => {
        this.opts.note?.('killed by gdb');
        this.removeAllPoints();
        this.socket.end();
        this.teardown();
        await this.ctl.kill('gdb');
      },
    });
  }

  // ---- queries ---------------------------------------------------------------------------

  private query(text: string): Decision {
    const name = text.split(/[:,;]/, 1)[0]!;
    switch (name) {
      case 'qSupported': {
        const features = text.slice('qSupported:'.length).split(';');
        return effect({
          commit: () => {
            this.multiprocess = features.includes('multiprocess+');
            this.swbreak = features.includes('swbreak+');
            this.hwbreak = features.includes('hwbreak+');
          },
          reply:
            `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;vContSupported+;multiprocess+;swbreak+;hwbreak+;QStartNoAckMode+` +
            (this.ctl.canReverse() ? ';ReverseStep+;ReverseContinue+' : ''),
        });
      }
      case 'QStartNoAckMode':
        // The OK still carries the packet's '+' (owed acks are counted as packets arrive).
        return text === name ? effect({ commit: () => (this.ackMode = false) }) : answer('E22');
      case 'qXfer':
        return answer(this.qXfer(text));
      case 'qAttached':
        return answer('1');
      case 'qC':
        return answer(text === 'qC' ? `QC${this.threadId}` : '');
      case 'qfThreadInfo':
        return answer(`m${this.ctl.cpus().map((c) => this.threadIdOf(c.index)).join(',')}`);
      case 'qsThreadInfo':
        return answer('l');
      case 'qThreadExtraInfo': {
        const t = this.parseThread(text.slice('qThreadExtraInfo,'.length), false);
        if (t === null) return answer('E22');
        const cpu = this.ctl.cpus()[Math.max(t, 0)]!;
        const st = cpu.state === 'running' ? 'running' : 'halted';
        return answer(hexOfText(`CPU#${cpu.index} [${st}]`));
      }
      case 'qOffsets':
        return answer('Text=0;Data=0;Bss=0');
      case 'qSymbol':
        return answer('OK');
      case 'qRcmd': {
        const cmd = fromHex(text.slice('qRcmd,'.length));
        if (!text.startsWith('qRcmd,') || !cmd) return answer('E22');
        // A monitor command is checked by the command language before it acts; its
        // errors are said in its output, and the packet itself succeeded.
        let out = '';
        return effect({
          change: async () => {
            out = await runMonitorCommand(this.ctl, Buffer.from(cmd).toString('utf8'), this.monitor);
            return true;
          },
          commit: () => {
            if (out) this.output(out);
          },
        });
      }
      case 'Qqemu.PhyMemMode':
        if (text === 'Qqemu.PhyMemMode:1' || text === 'Qqemu.PhyMemMode:0') {
          const on = text.endsWith('1');
          return effect({ commit: () => (this.monitor.physicalMemory = on) });
        }
        return answer('E22');
      case 'qqemu.PhyMemMode':
        return answer(this.monitor.physicalMemory ? '1' : '0');
      default:
        return answer('');
    }
  }

  private qXfer(text: string): string {
    const m = /^qXfer:([^:]*):([^:]*):([^:]*):([0-9a-fA-F]{1,8}),([0-9a-fA-F]{1,8})$/.exec(text);
    if (!m) return text.startsWith('qXfer:features:read:') ? 'E00' : '';
    if (m[1] !== 'features' || m[2] !== 'read') return '';
    const file = TARGET_FILES.get(m[3]!);
    const offset = parseInt(m[4]!, 16);
    const length = parseInt(m[5]!, 16);
    if (file === undefined) return 'E00';
    const data = Buffer.from(file, 'utf8');
    if (offset > data.length) return 'E00';
    const chunk = data.subarray(offset, offset + Math.min(length, MAX_PACKET / 2));
    const last = offset + chunk.length >= data.length;
    return (last ? 'l' : 'm') + latin1(escapeBinary(chunk));
  }

  private vPacket(text: string): Decision {
    if (text.startsWith('vCont')) return this.vCont(text);
    if (text === 'vMustReplyEmpty') return answer('');
    const kill = /^vKill;([0-9a-fA-F]{1,8})$/.exec(text);
    if (kill) return parseInt(kill[1]!, 16) !== 1 ? answer('E22') : this.kill('OK');
    if (text.startsWith('vKill')) return answer('E22');
    return answer('');
  }

  // ---- lifetime --------------------------------------------------------------------------

  /** Ends this connection (the server is closing). */
  close(): void {
    if (!this.socket.destroyed) this.socket.end();
    this.teardown();
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting = false;
    this.unsubscribe();
    // gdb's breakpoints go with gdb; the guest stays as it is (running or stopped).
    this.removeAllPoints();
    this.opts.onClose?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
