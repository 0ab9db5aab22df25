// Fuzzing the gdb server: more than 10,000 malformed or mutated packets (bad checksums,
// truncated, oversized, non-hex, huge lengths and addresses, unknown commands, raw binary,
// bytes while the guest runs, abrupt disconnects mid-packet). The server stays up, every
// reply is a well-formed packet (or an ack), and invalid packets change no guest state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { createHash } from 'node:crypto';
import { bootSample, type BootedSample } from '../support/samples.js';
import { RspClient } from '../support/rsp-client.js';
import { DebugController } from '../../src/debug/controller.js';
import { startGdbServer, type GdbServer } from '../../gdbstub/server.js';

let g: BootedSample;
let ctl: DebugController;
let server: GdbServer;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(0x5eed);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const hexN = (digits: number): string => Array.from({ length: digits }, () => '0123456789abcdef'[int(16)]).join('');

function checksum(s: Buffer): number {
  let c = 0;
  for (const b of s) c = (c + b) & 0xff;
  return c;
}
function framed(payload: string | Buffer, badChecksum = false): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  let cs = checksum(body);
  if (badChecksum) cs = (cs + 1 + int(255)) & 0xff;
  return Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${cs.toString(16).padStart(2, '0')}`)]);
}

// Valid packets that would change state (the bad-checksum and truncation cases use them).
const STATEFUL = ['M100000,4:deadbeef', 'X100000,2:ab', 'G' + '00'.repeat(64), 'P0=01020304', 'P8=00001000', 'c', 's', 'C05', 'S05', 'vCont;c', 'vCont;s:p1.1', 'k', 'vKill;1', 'D', 'D;1', 'Z0,100000,1', 'Z2,1062e0,4', 'z0,100000,1', 'QStartNoAckMode', `qRcmd,${Buffer.from('system_reset').toString('hex')}`, `qRcmd,${Buffer.from('tb flush').toString('hex')}`, 'Qqemu.PhyMemMode:1', 'c100000'];
// Valid packets that only read (mutations of these that still parse must not change state).
const READONLY = ['g', 'm100000,40', 'm1062e0,4', 'p8', 'p0', '?', 'qC', 'qfThreadInfo', 'qsThreadInfo', 'qAttached', 'qOffsets', 'Hgp0.0', 'Hc-1', 'Tp1.1', 'vCont?', 'qXfer:features:read:target.xml:0,ffb', 'qSupported:multiprocess+;swbreak+;hwbreak+', 'qThreadExtraInfo,p1.1', 'qTStatus', 'vMustReplyEmpty'];
const SAFE_HEADS = new Set(['g', 'm', 'p', '?', 'H', 'T', 'q', 'x', 'y', 'j', 'n', 'w', 'l', 'o', 'f', 'h', 'u', 'E', 'N', 'O', 'U', 'W', 'Y', 'L', 'J', 'K']);
const SENTINEL = 'qThreadExtraInfo,p01.01';

function safeMutation(p: string): boolean {
  return p.length > 0 && SAFE_HEADS.has(p[0]!) && !p.startsWith('qRcmd') && !p.includes('PhyMemMode') && p !== SENTINEL;
}

function mutate(p: string): string {
  const b = Buffer.from(p, 'latin1');
  const out = [...b];
  const n = 1 + int(3);
  for (let i = 0; i < n; i++) {
    const at = int(out.length + 1);
    switch (int(4)) {
      case 0: if (out.length) out[Math.min(at, out.length - 1)] = 0x20 + int(95); break;
      case 1: out.splice(at, 1); break;
      case 2: out.splice(at, 0, 0x20 + int(95)); break;
      default: out.splice(at, 0, ...out.slice(0, int(8))); break;
    }
  }
  return Buffer.from(out.filter((c) => c !== 0x24 && c !== 0x23 && c !== 0x7d)).toString('latin1');
}

/** One malformed input: bytes to send. */
function malformed(kind: number): Buffer {
  switch (kind) {
    case 0: // bad checksum on any packet, state-changing ones included
      return framed(pick([...STATEFUL, ...READONLY]), true);
    case 1: { // truncated: cut anywhere before the checksum ends, then resynchronised by the next '$'
      // Cut inside the body: whatever follows (a '$', noise without '#') cannot complete it.
      const f = framed(pick([...STATEFUL, ...READONLY]));
      return f.subarray(0, 1 + int(f.length - 4));
    }
    case 2: // oversized, with a correct checksum
      return framed('M100000,4:' + 'ab'.repeat(0x2000 + int(1000)));
    case 3: // non-hex and malformed arguments
      return framed(pick([
        'mzz,4', 'm100000,', 'm,4', 'M10000g,1:00', 'M100000,1:0', 'M100000,1:zz', 'M100000,2:00', 'X100000,4:ab', 'X100000,1:}',
        'Pq=1', 'P0=zzzzzzzz', 'P0', 'P=00', 'Gxyz', 'G0', 'G' + '00'.repeat(2000), 'Z0,xyz,1', 'Z0,100000', 'Z7,0,1', 'z0,,', 'Z2,1062e0,0',
        'vCont;q', 'vCont;c:zz', 'vCont;s:p2.1', 'vCont', 'vCont;', 'p-1', 'pzz', 'Hgpx.y', 'Hq1', 'T', 'Tzz', 'qRcmd,zz', 'qRcmd,1', 'qXfer:features:read:nope.xml:0,10',
        'qXfer:features:read:target.xml:zz,10', 'qXfer:features:read:target.xml:ffff,10', 'c1234567890', 'sxyz', 'C', 'Czz', 'S05;zz', 'D;zz', 'D;2', 'D;', 'vKill;2', 'vKill;zz', 'kk',
        'bs', 'bc', 'b', 'QStartNoAckModeX', 'Qqemu.PhyMemMode:2', '?x', 'gg', 'i', 'I', 'r', 'R',
      ]));
    case 4: // huge lengths and addresses
      return framed(pick([
        `m0,${hexN(8)}`, `m${hexN(16)},${hexN(16)}`, `m${hexN(17)},4`, 'mffffffffffffffff,1', 'm100000,ffffffffffffffff', `M0,${hexN(10)}:00`, 'Mffffffff,2:0000',
        `Z2,0,${hexN(9)}`, 'Z0,1ffffffff,1', 'Z2,fffffffe,8', `X${hexN(12)},1:a`, `p${hexN(9)}`, `P${hexN(6)}=00000000`, 'qXfer:features:read:target.xml:ffffffffff,1',
      ]));
    case 5: { // unknown commands
      const head = pick(['j', 'n', 'w', 'y', 'o', 'u', 'E', 'N', 'O', 'U', 'W', 'Y', 'L', 'J', 'K']);
      return framed(pick([head + hexN(int(20)), 'qFooBar', 'QBaz:1', 'vFoo;bar', 'qXfer:auxv:read::0,100', 'qL1200000000000000000', 'qGetTLSAddr:1,2,3', 'vFile:open:6a,0,0', 'jThreads', '']));
    }
    case 6: { // raw binary between packets (no '$' or '#': a random frame with a valid checksum could be anything)
      const n = 1 + int(64);
      return Buffer.from(Array.from({ length: n }, () => { const v = int(256); return v === 0x24 || v === 0x23 ? 0x25 : v; }));
    }
    case 7: { // raw binary inside a packet
      const body = Buffer.from(Array.from({ length: 1 + int(200) }, () => { const v = int(256); return v === 0x24 || v === 0x23 ? 0x20 : v; }));
      const safe = SAFE_HEADS.has(String.fromCharCode(body[0]!)) && !body.toString('latin1').startsWith('qRcmd');
      return framed(body, !safe || rand() < 0.5);
    }
    default: { // mutations of valid packets
      const base = pick([...READONLY, ...STATEFUL]);
      const m = mutate(base);
      return framed(m, !safeMutation(m));
    }
  }
}

/** A raw connection that checks every byte the server sends. */
class Conn {
  private readonly sock: net.Socket;
  private state: 'idle' | 'body' | 'cs1' | 'cs2' = 'idle';
  private body: number[] = [];
  private cs = '';
  readonly replies: string[] = [];
  readonly problems: string[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(sock: net.Socket) {
    this.sock = sock;
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
      s.once('error', reject);
    });
  }

  private byte(b: number): void {
    switch (this.state) {
      case 'idle':
        if (b === 0x24) {
          this.state = 'body';
          this.body = [];
        } else if (b !== 0x2b && b !== 0x2d) this.problems.push(`stray byte 0x${b.toString(16)} between packets`);
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
        const binary = /^[ml]/.test(text) && !/^m[0-9a-f]/.test(text.slice(0, 2)); // qXfer data
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

  /** Resynchronises (two filler bytes end any half-received checksum) and waits for the sentinel's reply. */
  async sync(timeoutMs = 5000): Promise<void> {
    const want = Buffer.from('CPU#0 [running]').toString('hex');
    const before = this.replies.filter((r) => r === want).length;
    this.send(Buffer.concat([Buffer.from('00'), framed(SENTINEL)]));
    const deadline = Date.now() + timeoutMs;
    while (this.replies.filter((r) => r === want).length <= before) {
      if (this.closed) throw new Error('the server closed the connection');
      if (Date.now() > deadline) throw new Error(`no reply to the sentinel; last replies: ${this.replies.slice(-5).join(' | ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.closed || Date.now() > deadline) throw new Error(`condition not met; last replies: ${this.replies.slice(-5).join(' | ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 20);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** A new client is served only once the server has seen the previous one go. */
async function detached(): Promise<void> {
  await server.whenDetached();
}

function state(): string {
  const r = ctl.registers();
  const h = createHash('sha256');
  h.update(JSON.stringify({ ...r, icount: 0 }));
  h.update(g.machine.readPhysical(0, 0x200000));
  h.update(JSON.stringify({ bps: ctl.breakpoints(), w: ctl.watchpoints(), st: ctl.state, tbs: g.machine.exec.tbs.stats.flushes }));
  return h.digest('hex');
}

beforeAll(async () => {
  g = bootSample('buggy');
  ctl = new DebugController(g.machine, { sliceInsns: 100_000 });
  // Run into main so that there is real state (stack, globals) to protect.
  ctl.addBreakpoint(g.symbols.get('process_orders')!);
  await ctl.continue();
  ctl.removeBreakpoint(g.symbols.get('process_orders')!);
  server = await startGdbServer(ctl, { port: 0 });
});

afterAll(async () => {
  if (ctl.state === 'running') await ctl.pause('test');
  await server.close();
});

describe('gdb server fuzzing', () => {
  it('survives 10,000+ malformed packets with well-formed replies and no state change', async () => {
    const before = state();
    let sent = 0;
    const counts = new Array<number>(9).fill(0);
    for (const noAck of [false, true]) {
      const c = await Conn.open(server.port);
      c.send('+');
      if (noAck) c.send(framed('QStartNoAckMode'));
      await c.sync();
      for (let batch = 0; batch < 110; batch++) {
        for (let i = 0; i < 50; i++) {
          const kind = int(9);
          counts[kind]!++;
          c.send(malformed(kind));
          sent++;
        }
        await c.sync();
      }
      expect(c.problems).toEqual([]);
      expect(state()).toBe(before);
      c.destroy();
      await detached();
    }
    expect(sent).toBeGreaterThanOrEqual(10_000);
    expect(counts.every((n) => n > 500)).toBe(true);
    expect(state()).toBe(before);
  }, 60_000);

  it('abrupt disconnects mid-packet leave the server up and the guest as it was', async () => {
    const before = state();
    for (let i = 0; i < 200; i++) {
      const c = await Conn.open(server.port);
      const f = framed(pick(STATEFUL));
      c.send(Buffer.concat([Buffer.from('+'), f.subarray(0, 1 + int(f.length - 2))]));
      if (i % 2) await new Promise((r) => setImmediate(r));
      c.destroy();
      await detached();
    }
    await detached();
    const c = await Conn.open(server.port);
    await c.sync();
    expect(c.problems).toEqual([]);
    c.destroy();
    expect(state()).toBe(before);
  });

  it('bytes while the guest runs: noise is ignored, a packet or 0x03 stops it with a well-formed stop reply', async () => {
    await detached();
    const rc = await RspClient.connect(server.port);
    await rc.qSupported();
    const pc = g.machine.cpu.pc;
    const saved = g.machine.readLinear(pc, 2)!;
    await rc.writeMemory(pc, Uint8Array.of(0xeb, 0xfe)); // jmp $
    rc.close();
    await detached();
    const c = await Conn.open(server.port);
    c.send('+');
    await c.sync();
    for (let round = 0; round < 20; round++) {
      const n = c.replies.length;
      c.send(framed('c'));
      await new Promise((r) => setTimeout(r, 5));
      expect(ctl.state).toBe('running');
      for (let i = 0; i < 20; i++) c.send(Buffer.from(malformed(6).filter((b) => b !== 0x03))); // noise, no 0x03
      await new Promise((r) => setTimeout(r, 5));
      expect(ctl.state).toBe('running');
      c.send(round % 2 ? Buffer.from([0x03]) : Buffer.concat([framed('m100000,4'), malformed(int(6))]));
      // As gdb does: nothing more until the stop reply.
      await c.until(() => c.replies.slice(n).some((r) => /^T02/.test(r)));
      await c.sync();
      expect(ctl.state).toBe('stopped');
    }
    expect(c.problems).toEqual([]);
    c.destroy();
    await g.machine.writeLinear(pc, saved);
  });
});
