// Fuzzing the gdb server (issue 16): valid packets with random arguments for every packet
// it knows, mutations of them (bytes, checksums, truncation, escapes, run-length
// encoding, NULs, 1 MB packets, noise), resumes interrupted at random moments,
// detaches, kills and disconnects in the middle of a packet. After every packet: the
// server answers `?` and `g` (and the replies are well formed); a packet answered with
// an error (or not a packet at all) changed nothing (registers, memory, breakpoints,
// settings); a valid write answered OK did all of it; a Ctrl-C after a resume is
// answered within 100 ms.
//
// Seeded: BMBT_FUZZ_SEED=N repeats a run, BMBT_FUZZ=N sends N packets. 100,000 in CI
// (CI set) or with BMBT_FULL=1; 10,000 in a local `npm test` (the figure is printed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { bootSample, type BootedSample } from '../support/samples.js';
import { DebugController } from '../../src/debug/controller.js';
import { startGdbServer, REFUSAL, type GdbServer } from '../../gdbstub/server.js';
import { REGISTERS, G_PACKET_BYTES } from '../../gdbstub/target-description.js';
import { PacketGen, checksum, framed, type FuzzPacket } from './fuzz-packets.js';
import { latencyProbe } from '../support/latency.js';

const FULL = Boolean(process.env.CI) || process.env.BMBT_FULL === '1';
const PACKETS = process.env.BMBT_FUZZ ? Number(process.env.BMBT_FUZZ) : FULL ? 100_000 : 10_000;
const SEED = process.env.BMBT_FUZZ_SEED ? Number(process.env.BMBT_FUZZ_SEED) : 0x16f022;
const LATENCY_MS = 100;
const HANG_MS = 5000;

let g: BootedSample;
let ctl: DebugController;
let server: GdbServer;
const notes: string[] = [];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A raw connection that checks every byte the server sends. */
class Conn {
  private state: 'idle' | 'body' | 'cs1' | 'cs2' = 'idle';
  private body: number[] = [];
  private cs = '';
  readonly replies: string[] = [];
  readonly problems: string[] = [];
  acks = 0;
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      for (const b of d) this.byte(b);
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('error', () => {});
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new Conn(s)));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  }

  private byte(b: number): void {
    switch (this.state) {
      case 'idle':
        if (b === 0x24) {
          this.state = 'body';
          this.body = [];
        } else if (b === 0x2b) this.acks++;
        else if (b !== 0x2d) this.problems.push(`stray byte 0x${b.toString(16)} between packets`);
        return;
      case 'body':
        if (b === 0x23) this.state = 'cs1';
        else if (b === 0x24) this.problems.push('unescaped $ inside a reply');
        else this.body.push(b);
        return;
      case 'cs1':
        this.cs = String.fromCharCode(b);
        this.state = 'cs2';
        return;
      case 'cs2': {
        this.cs += String.fromCharCode(b);
        this.state = 'idle';
        const body = Buffer.from(this.body);
        const text = body.toString('latin1');
        if (!/^[0-9a-f]{2}$/.test(this.cs) || parseInt(this.cs, 16) !== checksum(body)) this.problems.push(`bad checksum on reply '${text.slice(0, 40)}'`);
        const binary = /^[ml]/.test(text) && !/^mp?[0-9a-f.]+$/.test(text); // qXfer data, not a thread list
        if (!binary && !/^[\x20-\x7e]*$/.test(text)) this.problems.push(`non-printable reply '${text.slice(0, 40)}'`);
        if (!binary && !/^(|OK|E[0-9a-f]{2}|E\.[ -~]+|[0-9a-f]+|[TS][0-9a-f]{2}.*|[WX][0-9a-f]{2}(;process:1)?|O[0-9a-f]+|QC.*|mp?[0-9a-f.]+|l|[01]|vCont;.*|Text=0;Data=0;Bss=0|PacketSize=.*)$/.test(text)) {
          this.problems.push(`unexpected reply '${text.slice(0, 60)}'`);
        }
        this.replies.push(text);
        return;
      }
    }
  }

  send(b: Buffer | string): void {
    if (!this.closed) this.sock.write(b);
  }

  /** Resolves true when cond holds, false after timeoutMs (or when closed, if `orClosed`). */
  async until(cond: () => boolean, timeoutMs: number, orClosed = true): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if ((orClosed && this.closed) || performance.now() > deadline) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, Math.min(20, deadline - performance.now())));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  destroy(): void {
    this.sock.destroy();
  }
}

const isStop = (r: string): boolean => /^[TSWX][0-9a-f]{2}/.test(r);
const isError = (r: string): boolean => /^E/.test(r);

/** What a refused or failed packet must not have changed. */
interface State {
  regs: string;
  mem: Buffer;
  points: string;
}

/** The pages watched for changes: the IVT and the sample's image, data and stack. */
const ARENA_PAGES = [0, ...Array.from({ length: 0x20 }, (_, i) => 0x100 + i)];
/** Two buffers taken in turn (a 132 KB copy per packet would keep the GC busy). */
const memCopies = [Buffer.alloc(ARENA_PAGES.length * 0x1000), Buffer.alloc(ARENA_PAGES.length * 0x1000)];
let nextCopy = 0;

/** The arena's bytes, read from RAM's backing pages without allocating. */
function copyArena(into: Buffer): Buffer {
  const mem = g.pc.phys;
  ARENA_PAGES.forEach((page, i) => {
    const off = mem.readOffset(page);
    if (off >= 0) into.set(mem.u8.subarray(off, off + 0x1000), i * 0x1000);
    else into.fill(0, i * 0x1000, (i + 1) * 0x1000);
  });
  return into;
}

function takeState(): State {
  return {
    regs: JSON.stringify(ctl.registers()),
    mem: copyArena(memCopies[nextCopy++ & 1]!),
    points: JSON.stringify([ctl.breakpoints(), ctl.watchpoints()]),
  };
}

/** `before` against the machine now. */
function sameState(before: State): string | null {
  if (before.regs !== JSON.stringify(ctl.registers())) return 'registers changed';
  if (!before.mem.equals(copyArena(memCopies[nextCopy++ & 1]!))) return 'memory changed';
  if (before.points !== JSON.stringify([ctl.breakpoints(), ctl.watchpoints()])) return 'breakpoints or watchpoints changed';
  return null;
}

function expectedG(): string {
  const r = ctl.registers();
  return REGISTERS.map((d) => Buffer.from(d.read(r)).toString('hex')).join('');
}

interface Figures {
  packets: number;
  valid: number;
  mutated: number;
  noise: number;
  resumes: number;
  interrupts: number;
  /** Worst stop latency (the smaller of wall and CPU time, tests/support/latency.ts), and in wall time. */
  worstLatencyMs: number;
  worstWallLatencyMs: number;
  disconnects: number;
  reconnects: number;
  kills: number;
  bigPackets: number;
  crashes: number;
  hangs: number;
  corruptions: number;
  failures: string[];
}

class Fuzzer {
  c!: Conn;
  ack = true;
  phys = false;
  private exchanges = 0;
  private lastSentinel = '';
  readonly fig: Figures = {
    packets: 0, valid: 0, mutated: 0, noise: 0, resumes: 0, interrupts: 0, worstLatencyMs: 0, worstWallLatencyMs: 0, disconnects: 0, reconnects: 0, kills: 0,
    bigPackets: 0, crashes: 0, hangs: 0, corruptions: 0, failures: [],
  };
  readonly gen: PacketGen;

  constructor(seed: number) {
    this.gen = new PacketGen(seed, {
      registerBlock: () => Buffer.from(expectedG(), 'hex'),
      readMemory: (a, n, phys) => ctl.readMemory(a, n, phys),
      keeps: (a, n, phys) => Array.from({ length: n }, (_, i) => {
        const pa = phys ? (a + i) >>> 0 : ctl.translate((a + i) >>> 0);
        if (pa === null) return false;
        const mem = g.pc.phys;
        const r = mem.readOffset(pa >>> 12);
        const w = mem.writeOffset(pa >>> 12);
        return r >= 0 && (w === r || w < 0);
      }),
      physical: () => this.phys,
      hasPoint: (type, addr, kind) =>
        type <= 1
          ? ctl.breakpoints().some((b) => b.addr === addr && b.hw === (type === 1))
          : ctl.watchpoints().some((w) => w.addr === addr && w.len === kind && w.kind === ['watch', 'rwatch', 'awatch'][type - 2]),
      symbols: [...g.symbols.values()].filter((a) => a >= 0x100000 && a < 0x110000),
    });
  }

  fail(kind: 'hangs' | 'corruptions' | 'crashes', what: string, p: FuzzPacket | null): void {
    this.fig[kind]++;
    if (this.fig.failures.length < 20) {
      this.fig.failures.push(`${kind}: ${what} (packet ${this.fig.packets}${p ? `: ${JSON.stringify((p.payload ?? p.bytes.toString('latin1')).slice(0, 80))}` : ''})`);
    }
  }

  async connect(): Promise<void> {
    this.c = await Conn.open(server.port);
    this.fig.reconnects++;
    this.ack = true;
    this.phys = false;
    this.c.send('+');
    this.c.send(framed('qSupported:multiprocess+;swbreak+;hwbreak+'));
    if (this.gen.rand() < 0.5) this.c.send(framed('QStartNoAckMode'));
    const r = await this.tail(null);
    if (r === null) return;
    // The first replies were answers, not a refusal: the server took this gdb at once.
    if (r.some((x) => x === REFUSAL)) this.fail('hangs', 'a new connection was refused', null);
    if (r.length >= 2 && r[1] === 'OK') this.ack = false;
  }

  /**
   * Sends `bytes`, then `?`, `g`, `qqemu.PhyMemMode` and a sentinel, and returns the
   * replies that came before the `?` one (null on a hang, counted). The tail's replies are
   * checked: a stop reply, the register file, the memory mode.
   */
  async tail(p: FuzzPacket | null, bytes: Buffer = p?.bytes ?? Buffer.alloc(0)): Promise<string[] | null> {
    const c = this.c;
    let s = this.gen.sentinel(this.exchanges++);
    while (s.reply === this.lastSentinel) s = this.gen.sentinel(this.exchanges++);
    this.lastSentinel = s.reply;
    const mark = c.replies.length;
    const acks = c.acks;
    // 'zz' ends a half-received checksum (a bad one: z is no hex digit); '$' resynchronises.
    c.send(Buffer.concat([bytes, Buffer.from('zz'), framed('?'), framed('g'), framed('qqemu.PhyMemMode'), s.packet]));
    if (!(await c.until(() => c.replies.length > mark && c.replies[c.replies.length - 1] === s.reply, HANG_MS))) {
      this.fail('hangs', c.closed ? 'the server closed the connection' : 'no answer to ? and g', p);
      return null;
    }
    const got = c.replies.slice(mark);
    const [q, regs, phys] = got.slice(-4, -1);
    if (q === undefined || !isStop(q)) this.fail('corruptions', `? answered '${q}'`, p);
    if (regs === undefined || regs.length !== G_PACKET_BYTES * 2 || regs !== expectedG()) this.fail('corruptions', 'g did not answer the register file', p);
    if (phys !== '0' && phys !== '1') this.fail('corruptions', `qqemu.PhyMemMode answered '${phys}'`, p);
    else this.phys = phys === '1';
    if (!this.ack && c.acks !== acks) this.fail('corruptions', 'acknowledgements after QStartNoAckMode', p);
    if (this.ack && c.acks - acks < 4) this.fail('corruptions', 'packets not acknowledged in ack mode', p);
    return got.slice(0, -4);
  }

  /** A packet that is not a resume or an end: one exchange, and the state rules. */
  async plain(p: FuzzPacket): Promise<void> {
    const before = takeState();
    const physBefore = this.phys;
    const ackBefore = this.ack;
    const replies = await this.tail(p);
    if (replies === null) return;
    const answers = replies.filter((r) => !/^O[0-9a-f]/.test(r) || r === 'OK');
    if (p.origin === 'noise') {
      // Not a packet: no answer of its own (a '-' in it makes the server repeat its last).
      if (answers.some((r) => r !== answers[0]) || (!ackBefore && answers.length > 0)) this.fail('corruptions', `noise answered ${JSON.stringify(answers)}`, p);
    } else if (answers.length !== 1) {
      this.fail('corruptions', `${answers.length} answers: ${JSON.stringify(answers.map((r) => r.slice(0, 20)))}`, p);
      return;
    }
    const reply = answers[0] ?? '';
    const refused = p.origin === 'noise' || isError(reply) || reply === '';
    const unchanged = refused || p.cls === 'read' || (p.cls === 'monitor' && p.origin === 'valid' && /^qRcmd,(696e666f|78|69636f756e74|68656c70|66726f62|64656c6574652031)/.test(p.payload!));
    if (unchanged) {
      const why = sameState(before) ?? (this.phys !== physBefore ? 'the memory mode changed' : null) ?? (this.ack !== ackBefore ? 'ack mode changed' : null);
      if (why) this.fail('corruptions', `${why} by a packet answered '${reply.slice(0, 20)}'`, p);
      return;
    }
    if (p.payload === 'QStartNoAckMode' && reply === 'OK') this.ack = false;
    if (p.origin === 'valid' && reply === 'OK' && p.applied) {
      const why = p.applied();
      if (why) this.fail('corruptions', why, p);
    }
  }

  /** A resume: its error, or its stop (by itself, or by a Ctrl-C at a random moment). */
  async resume(p: FuzzPacket): Promise<void> {
    this.fig.resumes++;
    const c = this.c;
    const before = takeState();
    const mark = c.replies.length;
    const answered = (): boolean => c.replies.slice(mark).some((r) => isStop(r) || isError(r) || r === '');
    c.send(p.bytes);
    const wait = this.gen.int(25);
    const probe = latencyProbe(wait);
    await c.until(answered, wait, true);
    if (!answered()) {
      if (c.closed) return this.fail('hangs', 'the server closed the connection on a resume', p);
      this.fig.interrupts++;
      probe.fired();
      c.send(Buffer.from([0x03]));
      if (!(await c.until(answered, HANG_MS))) return this.fail('hangs', 'no stop reply to Ctrl-C', p);
      const l = probe.stopped();
      this.fig.worstLatencyMs = Math.max(this.fig.worstLatencyMs, l.ms);
      this.fig.worstWallLatencyMs = Math.max(this.fig.worstWallLatencyMs, l.wallMs);
    }
    const reply = c.replies.slice(mark).find((r) => isStop(r) || isError(r) || r === '')!;
    if (isError(reply) || reply === '') {
      const why = sameState(before);
      if (why) this.fail('corruptions', `${why} by a resume answered '${reply}'`, p);
    }
    await this.tail(null);
    if (ctl.state === 'exited') await this.revive();
  }

  /** D, k, vKill: an error changes nothing; otherwise the connection ends, and the next gdb comes at once. */
  async end(p: FuzzPacket): Promise<void> {
    const c = this.c;
    const before = takeState();
    const mark = c.replies.length;
    c.send(p.bytes);
    await c.until(() => c.closed || c.replies.length > mark, 2000, true);
    if (!c.closed) {
      const reply = c.replies[mark] ?? '';
      if (reply === 'OK') await c.until(() => c.closed, 2000, true);
      if (!c.closed) {
        if (isError(reply) || reply === '') {
          const why = sameState(before);
          if (why) this.fail('corruptions', `${why} by a packet answered '${reply}'`, p);
          await this.tail(null);
          return;
        }
        return this.fail('hangs', `'${reply}' and the connection stays`, p);
      }
    }
    if (/^(k|vKill;1)$/.test(p.payload ?? '')) this.fig.kills++;
    c.destroy();
    await this.connect();
    if (ctl.state === 'exited') await this.revive();
  }

  /** gdb gone in the middle of a packet, and a new one at once. */
  async disconnectMidPacket(): Promise<void> {
    this.fig.disconnects++;
    const f = this.gen.valid().bytes;
    this.c.send(f.subarray(0, 1 + this.gen.int(Math.max(1, f.length - 2))));
    this.c.destroy();
    await this.connect();
  }

  /** Back to the sample as it was (after an exit or kill, and now and then). */
  async revive(): Promise<void> {
    await ctl.loadSnapshot('fuzz-start', 'fuzz');
  }

  async packet(): Promise<void> {
    const p = this.gen.next();
    this.fig.packets++;
    this.fig[p.origin === 'valid' ? 'valid' : p.origin === 'mutated' ? 'mutated' : 'noise']++;
    if (p.bytes.length > 0x100000) this.fig.bigPackets++;
    if (p.origin === 'noise') return this.plain(p);
    if (p.cls === 'resume') return this.resume(p);
    if (p.cls === 'end') return this.end(p);
    return this.plain(p);
  }
}

beforeAll(async () => {
  g = bootSample('buggy');
  ctl = new DebugController(g.pc, {});
  // Into main: real state (stack, globals) to protect.
  ctl.addBreakpoint(g.symbols.get('process_orders')!);
  await ctl.continue();
  ctl.removeBreakpoint(g.symbols.get('process_orders')!);
  await ctl.saveSnapshot('fuzz-start');
  server = await startGdbServer(ctl, { port: 0 }, { note: (m) => notes.push(m) });
});

afterAll(async () => {
  if (ctl.state === 'running') await ctl.pause('test');
  await server.close();
});

describe('gdb server fuzzing', () => {
  it(`${PACKETS} packets (seed 0x${SEED.toString(16)}): no crash, no hang, no state corruption, Ctrl-C within ${LATENCY_MS} ms`, async () => {
    const fz = new Fuzzer(SEED);
    const t0 = performance.now();
    console.log(`[fuzz] seed 0x${SEED.toString(16)} (BMBT_FUZZ_SEED=0x${SEED.toString(16)} repeats it), ${PACKETS} packets` +
      (FULL || process.env.BMBT_FUZZ ? '' : ' (local run: 100000 with CI=true or BMBT_FULL=1, any number with BMBT_FUZZ=N)'));
    await fz.connect();
    while (fz.fig.packets < PACKETS && fz.fig.failures.length < 20) {
      const r = fz.gen.int(1000);
      if (r < 2) await fz.disconnectMidPacket();
      else if (r < 3) await fz.revive();
      await fz.packet();
    }
    fz.c.destroy();
    fz.fig.crashes += notes.filter((n) => /internal error/.test(n)).length;
    const problems = fz.c.problems;
    const { failures, ...figures } = fz.fig;
    console.log(`[fuzz] ${JSON.stringify({ ...figures, worstLatencyMs: Math.round(figures.worstLatencyMs), worstWallLatencyMs: Math.round(figures.worstWallLatencyMs), seconds: Math.round((performance.now() - t0) / 1000) })}`);
    expect(failures).toEqual([]);
    expect(problems).toEqual([]);
    expect(fz.fig.crashes).toBe(0);
    expect(fz.fig.packets).toBeGreaterThanOrEqual(PACKETS);
    expect(fz.fig.worstLatencyMs).toBeLessThan(LATENCY_MS);
    // Every kind of packet and event happened.
    for (const k of ['valid', 'mutated', 'noise', 'resumes', 'interrupts', 'disconnects', 'kills'] as const) expect(fz.fig[k], k).toBeGreaterThan(0);
  }, 30 * 60_000);

  it('bytes while the guest runs: noise is ignored, a packet or 0x03 stops it with a well-formed stop reply', async () => {
    await server.whenDetached();
    await ctl.loadSnapshot('fuzz-start', 'test');
    const pc = g.pc.cpu.pc;
    const saved = g.pc.readLinear(pc, 2)!;
    await ctl.writeMemory(pc, Uint8Array.of(0xeb, 0xfe)); // jmp $
    // The fuzzing's monitor commands leave breakpoints of their own (the UI's kind).
    for (const id of [...ctl.breakpoints(), ...ctl.watchpoints()].map((b) => b.id)) ctl.removeBreakpointById(id);
    const gen = new PacketGen(SEED + 1, {
      registerBlock: () => Buffer.from(expectedG(), 'hex'), readMemory: () => null, keeps: () => [], physical: () => false, hasPoint: () => false, symbols: [0x100000],
    });
    const c = await Conn.open(server.port);
    c.send('+');
    for (let round = 0; round < 20; round++) {
      const n = c.replies.length;
      c.send(framed('c'));
      await sleep(5);
      expect(ctl.state).toBe('running');
      for (let i = 0; i < 20; i++) c.send(gen.noise());
      await sleep(5);
      expect(ctl.state).toBe('running');
      c.send(round % 2 ? Buffer.from([0x03]) : Buffer.concat([framed('m100000,4'), gen.noise()]));
      // As gdb does: nothing more until the stop reply.
      expect(await c.until(() => c.replies.slice(n).some((r) => /^T02/.test(r)), HANG_MS)).toBe(true);
      expect(ctl.state).toBe('stopped');
      // The last reply is not a stop reply any more (a '-' in the noise repeats the last reply).
      const k = c.replies.length;
      c.send(framed('qC'));
      expect(await c.until(() => c.replies.slice(k).includes('QC01'), HANG_MS)).toBe(true);
    }
    expect(c.problems).toEqual([]);
    c.destroy();
    await ctl.writeMemory(pc, saved);
  });
});
