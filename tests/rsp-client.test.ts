// The RSP client against a scripted in-process stub: framing, checksums, acks and
// retransmission, no-ack mode, run-length and binary escapes, async stop replies, the
// 0x03 interrupt, O output, qXfer, timeouts.
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RspClient, RspError, RspTimeoutError, checksum, decodeRunLength, encodeRunLength, escapeBinary,
  framePacket, hexEncode, isOutputPacket, latin1Bytes, latin1String, parseStopReply,
  parseTargetXmlRegisters, unescapeBinary, I386_LAYOUT,
} from './support/rsp-client.js';
import { skipWithoutQemu, startQemu } from './support/qemu.js';
import { HARNESS_ELF, LAYOUT } from './support/harness-layout.js';

const bytes = (s: string) => latin1Bytes(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
const str = (b: Uint8Array) => latin1String(b);

describe('framing helpers', () => {
  it('frames with a modulo-256 checksum', () => {
    expect(str(framePacket('g'))).toBe('$g#67');
    expect(str(framePacket(''))).toBe('$#00');
    expect(str(framePacket('qSupported'))).toBe(`$qSupported#${checksum(bytes('qSupported')).toString(16).padStart(2, '0')}`);
    expect(checksum(bytes('OK'))).toBe(0x9a);
  });

  it('escapes and unescapes # $ } *', () => {
    const data = Uint8Array.of(0x23, 0x24, 0x7d, 0x2a, 0x00, 0xff, 0x41);
    const esc = escapeBinary(data);
    expect([...esc]).toEqual([0x7d, 0x03, 0x7d, 0x04, 0x7d, 0x5d, 0x7d, 0x0a, 0x00, 0xff, 0x41]);
    expect([...unescapeBinary(esc)]).toEqual([...data]);
    expect(() => unescapeBinary(Uint8Array.of(0x41, 0x7d))).toThrow(RspError);
  });

  it('decodes run-length encoding as gdb does', () => {
    // '0* ' = '0' plus 32-29 = 3 more; 'x*"' = 'x' plus 5 more
    expect(str(decodeRunLength(bytes('0* ')))).toBe('0000');
    expect(str(decodeRunLength(bytes('ab*"c')))).toBe('abbbbbbc');
    expect(str(decodeRunLength(bytes('no runs')))).toBe('no runs');
    expect(() => decodeRunLength(bytes('*"'))).toThrow(RspError);
    expect(() => decodeRunLength(bytes('a*'))).toThrow(RspError);
  });

  it('round-trips the run-length encoder (never emitting # or $ counts)', () => {
    for (const n of [1, 3, 4, 5, 6, 7, 8, 9, 40, 99, 100, 300]) {
      const data = bytes('q' + '0'.repeat(n) + 'z');
      const enc = encodeRunLength(data);
      expect(enc.includes(0x23) || enc.includes(0x24)).toBe(false);
      expect(str(decodeRunLength(enc))).toBe(str(data));
    }
  });

  it('parses stop replies', () => {
    const t = parseStopReply('T05thread:p01.01;watch:00107000;04:78563412;swbreak:;');
    expect(t.kind).toBe('stop');
    expect(t.signal).toBe(5);
    expect(t.thread).toBe('p01.01');
    expect(t.watch).toEqual({ kind: 'watch', addr: 0x107000 });
    expect(t.swbreak).toBe(true);
    expect(t.hwbreak).toBe(false);
    expect([...t.registers.get(4)!]).toEqual([0x78, 0x56, 0x34, 0x12]);
    expect(parseStopReply('T02thread:01;').signal).toBe(2);
    expect(parseStopReply('S0b').signal).toBe(11);
    expect(parseStopReply('W00').kind).toBe('exited');
    expect(parseStopReply('X09;process:a').kind).toBe('terminated');
    expect(parseStopReply('T05hwbreak:;').hwbreak).toBe(true);
    expect(parseStopReply('T05awatch:1000;').watch).toEqual({ kind: 'awatch', addr: 0x1000 });
    expect(() => parseStopReply('OK')).toThrow(RspError);
    expect(isOutputPacket('O48690a')).toBe(true);
    expect(isOutputPacket('OK')).toBe(false);
  });

  it('reads registers from target XML, skipping comments', () => {
    const xml = `<feature><reg name="eax" bitsize="32" regnum="0"/><reg name="ecx" bitsize="32"/>
      <!--reg name="cs_base" bitsize="32"/--><reg name='st0' bitsize='80' regnum='25'/><reg name="fctrl" bitsize="32"/></feature>`;
    expect(parseTargetXmlRegisters(xml)).toEqual([
      { name: 'eax', bitsize: 32, regnum: 0 }, { name: 'ecx', bitsize: 32, regnum: 1 },
      { name: 'st0', bitsize: 80, regnum: 25 }, { name: 'fctrl', bitsize: 32, regnum: 26 },
    ]);
    expect(I386_LAYOUT.at(-1)).toMatchObject({ name: 'mxcsr', offset: 340, size: 4 });
  });
});

// ---- a scripted stub ------------------------------------------------------------------

interface StubConn {
  socket: net.Socket;
  /** packets received (payloads), acks and raw bytes */
  packets: string[];
  raw: string[];
  acksReceived: string;
  send(payload: string, opts?: { badChecksum?: boolean }): void;
  noAck: boolean;
}

type Handler = (pkt: string, c: StubConn) => void;

class Stub {
  server: net.Server;
  conns: StubConn[] = [];
  constructor(readonly handler: Handler, readonly opts: { nakFirst?: number; interrupt?: (c: StubConn) => void } = {}) {
    this.server = net.createServer((socket) => this.accept(socket));
  }
  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }
  close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
  private accept(socket: net.Socket): void {
    let buf = '';
    let naks = this.opts.nakFirst ?? 0;
    let lastSent = '';
    const c: StubConn = {
      socket, packets: [], raw: [], acksReceived: '', noAck: false,
      send: (payload, o = {}) => {
        const cs = checksum(latin1Bytes(payload));
        lastSent = `$${payload}#${cs.toString(16).padStart(2, '0')}`;
        const sentCs = o.badChecksum ? (cs + 1) & 0xff : cs;
        socket.write(latin1Bytes(`$${payload}#${sentCs.toString(16).padStart(2, '0')}`));
      },
    };
    this.conns.push(c);
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      buf += latin1String(d);
      for (;;) {
        if (buf.length === 0) return;
        const ch = buf[0]!;
        if (ch === '+' || ch === '-') {
          c.acksReceived += ch;
          buf = buf.slice(1);
          // a '-' asks for the last reply again
          if (ch === '-' && lastSent) socket.write(latin1Bytes(lastSent));
          continue;
        }
        if (ch === '\x03') {
          buf = buf.slice(1);
          c.raw.push('^C');
          this.opts.interrupt?.(c);
          continue;
        }
        if (ch !== '$') {
          c.raw.push(ch);
          buf = buf.slice(1);
          continue;
        }
        const hash = buf.indexOf('#');
        if (hash < 0 || buf.length < hash + 3) return;
        const payload = buf.slice(1, hash);
        const cs = parseInt(buf.slice(hash + 1, hash + 3), 16);
        buf = buf.slice(hash + 3);
        if (cs !== checksum(latin1Bytes(payload))) {
          socket.write('-');
          continue;
        }
        if (naks > 0) {
          naks--;
          socket.write('-');
          continue;
        }
        if (!c.noAck) socket.write('+');
        c.packets.push(payload);
        this.handler(payload, c);
      }
    });
  }
}

let stub: Stub | undefined;
let client: RspClient | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await stub?.close();
  stub = undefined;
});

async function setup(handler: Handler, opts: ConstructorParameters<typeof Stub>[1] = {}, clientOpts: Parameters<typeof RspClient.connect>[2] = {}): Promise<RspClient> {
  stub = new Stub(handler, opts);
  const port = await stub.listen();
  client = await RspClient.connect(port, '127.0.0.1', { timeoutMs: 2000, ...clientOpts });
  return client;
}

describe('RspClient against a scripted stub', () => {
  it('sends framed packets, acks replies and parses qSupported', async () => {
    const c = await setup((p, s) => {
      if (p.startsWith('qSupported')) s.send('PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+');
      else s.send('');
    });
    const f = await c.qSupported();
    expect(f.get('qXfer:features:read')).toBe(true);
    expect(f.get('PacketSize')).toBe('1000');
    expect(c.packetSize).toBe(0x1000);
    expect(c.ackMode).toBe(true);
    expect(await c.request('vMustReplyEmpty')).toBe('');
    expect(stub!.conns[0]!.packets[0]).toMatch(/^qSupported:multiprocess\+;swbreak\+/);
    await waitFor(() => stub!.conns[0]!.acksReceived.length >= 2);
    expect(stub!.conns[0]!.acksReceived).toBe('++');
  });

  it('retransmits when the stub answers -', async () => {
    const c = await setup((p, s) => s.send(p === '?' ? 'T05thread:01;' : ''), { nakFirst: 2 });
    const st = await c.haltReason();
    expect(st.signal).toBe(5);
    expect(c.retransmits).toBe(2);
    expect(stub!.conns[0]!.packets).toEqual(['?']);
  });

  it('answers a corrupted reply with - and takes the retransmission', async () => {
    let first = true;
    const c = await setup((p, s) => {
      if (p === 'g') {
        s.send('00112233', { badChecksum: first });
        first = false;
      }
    });
    expect(await c.request('g')).toBe('00112233');
    expect(c.badChecksums).toBe(1);
  });

  it('switches to no-ack mode when offered', async () => {
    const c = await setup((p, s) => {
      if (p.startsWith('qSupported')) s.send('PacketSize=400;QStartNoAckMode+');
      else if (p === 'QStartNoAckMode') {
        s.send('OK');
        s.noAck = true;
      } else if (p === 'm1000,4') s.send('deadbeef');
    });
    await c.qSupported();
    expect(c.ackMode).toBe(false);
    // the client acked the qSupported reply and the OK, then stopped acking
    await waitFor(() => stub!.conns[0]!.acksReceived.length >= 2);
    const acksBefore = stub!.conns[0]!.acksReceived;
    expect(acksBefore).toBe('++');
    expect([...await c.readMemory(0x1000, 4)]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    await sleep(50);
    expect(stub!.conns[0]!.acksReceived).toBe(acksBefore); // no more acks from the client
  });

  it('decodes run-length encoded replies and binary escapes', async () => {
    const c = await setup((p, s) => {
      if (p === 'g') s.send('0*"1*!'); // '0' and 5 more ('"' = 34 = 29 + 5), '1' and 4 more
      else if (p.startsWith('qXfer:features:read:target.xml:0,')) s.send('m<a>' + latin1String(escapeBinary(bytes('#$}*'))));
      else if (p.startsWith('qXfer:features:read:target.xml:')) s.send('l</a>');
    });
    expect(await c.request('g')).toBe('00000011111');
    expect(await c.fetchFeatures()).toBe('<a>#$}*</a>');
    expect(stub!.conns[0]!.packets).toContain('qXfer:features:read:target.xml:7,ffb');
  });

  it('reads memory in chunks and writes with M, or X when accepted', async () => {
    const mem = new Uint8Array(0x3000).map((_, i) => i & 0xff);
    let xOk = false;
    const c = await setup((p, s) => {
      let m: RegExpMatchArray | null;
      if ((m = p.match(/^m([0-9a-f]+),([0-9a-f]+)$/))) {
        const a = parseInt(m[1]!, 16);
        s.send(hexEncode(mem.subarray(a, a + parseInt(m[2]!, 16))));
      } else if ((m = p.match(/^M([0-9a-f]+),([0-9a-f]+):([0-9a-f]*)$/))) {
        const a = parseInt(m[1]!, 16);
        mem.set(Uint8Array.from(m[3]!.match(/../g)!.map((h) => parseInt(h, 16))), a);
        s.send('OK');
      } else if ((m = p.match(/^X([0-9a-f]+),([0-9a-f]+):/s))) {
        if (!xOk) return s.send('');
        const a = parseInt(m[1]!, 16);
        mem.set(unescapeBinary(latin1Bytes(p.slice(m[0].length))), a);
        s.send('OK');
      } else if (p.startsWith('qSupported')) s.send('PacketSize=200');
    });
    await c.qSupported();
    const got = await c.readMemory(0x10, 0x400);
    expect([...got]).toEqual([...mem.subarray(0x10, 0x410)]);
    const reads = stub!.conns[0]!.packets.filter((p) => p.startsWith('m'));
    expect(reads.length).toBe(Math.ceil(0x400 / c.memoryChunk));
    await c.writeMemory(0x2000, Uint8Array.of(1, 2, 3, 0x23, 0x7d));
    expect([...mem.subarray(0x2000, 0x2005)]).toEqual([1, 2, 3, 0x23, 0x7d]);
    expect(stub!.conns[0]!.packets.some((p) => p.startsWith('M2000,5:'))).toBe(true);
    // a client that finds X accepted uses it (binary, escaped)
    xOk = true;
    const c2 = await RspClient.connect((stub!.server.address() as net.AddressInfo).port, '127.0.0.1', { timeoutMs: 2000 });
    try {
      await c2.writeMemory(0x2100, Uint8Array.of(0x24, 0x2a, 0x00));
      expect([...mem.subarray(0x2100, 0x2103)]).toEqual([0x24, 0x2a, 0x00]);
    } finally {
      c2.close();
    }
  });

  it('parses g per the i386 layout and writes registers with P', async () => {
    const regs = new Uint8Array(344);
    const dv = new DataView(regs.buffer);
    dv.setUint32(0, 0x11223344, true); // eax
    dv.setUint32(32, 0x00100000, true); // eip
    dv.setUint32(36, 0x246, true); // eflags
    dv.setUint32(40, 8, true); // cs
    dv.setUint32(76, 0x80000011, true); // cr0 (after fs_base gs_base k_gs_base)
    const c = await setup((p, s) => {
      if (p === 'g') s.send(hexEncode(regs));
      else if (p.startsWith('P')) s.send('OK');
    });
    const r = await c.readRegisters();
    expect(r.eax).toBe(0x11223344);
    expect(r.eip).toBe(0x100000);
    expect(r.eflags).toBe(0x246);
    expect(r.cs).toBe(8);
    expect(r.cr0).toBe(0x80000011);
    expect(r.all.get('mxcsr')).toBe(0);
    await c.writeRegister('eip', 0x1234);
    await c.writeRegister(0, 0xffffffff);
    expect(stub!.conns[0]!.packets.slice(-2)).toEqual(['P8=34120000', 'P0=ffffffff']);
  });

  it('gets an asynchronous stop reply after c, with O output before it', async () => {
    const c = await setup((p, s) => {
      if (p === 'c') {
        setTimeout(() => s.send('O' + hexEncode(bytes('hello\n'))), 20);
        setTimeout(() => s.send('T05thread:p01.01;hwbreak:;'), 60);
      }
    });
    const st = await c.cont();
    expect(st.signal).toBe(5);
    expect(st.hwbreak).toBe(true);
    expect(st.output).toBe('hello\n');
    expect(c.isRunning).toBe(false);
  });

  it('interrupts a running target with 0x03', async () => {
    const c = await setup(() => undefined, { interrupt: (s) => s.send('T02thread:01;') });
    const pending = c.cont();
    await waitFor(() => c.isRunning);
    await expect(c.request('g')).rejects.toThrow(/running/);
    c.interrupt();
    const st = await pending;
    expect(st.signal).toBe(2);
    expect(stub!.conns[0]!.raw).toContain('^C');
  });

  it('times out a resume and recovers with interruptAndWait', async () => {
    const c = await setup(() => undefined, { interrupt: (s) => s.send('T02thread:01;') });
    await expect(c.cont(undefined, { timeoutMs: 50 })).rejects.toThrow(RspTimeoutError);
    expect(c.isRunning).toBe(true);
    const st = await c.interruptAndWait();
    expect(st.signal).toBe(2);
    expect(c.isRunning).toBe(false);
  });

  it('reports a missing reply as a timeout naming the packet', async () => {
    const c = await setup(() => undefined);
    await expect(c.request('m0,4', { timeoutMs: 50 })).rejects.toThrow(/within 50 ms.*'m0,4'/);
  });

  it('collects monitor output', async () => {
    const c = await setup((p, s) => {
      if (p.startsWith('qRcmd,')) {
        expect(Buffer.from(p.slice(6), 'hex').toString()).toBe('info tb');
        s.send('O' + hexEncode(bytes('line 1\n')));
        s.send('O' + hexEncode(bytes('line 2\n')));
        s.send('OK');
      }
    });
    expect(await c.monitor('info tb')).toBe('line 1\nline 2\n');
  });

  it('inserts and removes breakpoints and watchpoints, and turns Exx into errors', async () => {
    const c = await setup((p, s) => s.send(p.startsWith('z0,dead') ? 'E22' : 'OK'));
    await c.insertBreakpoint(0x100000);
    await c.insertBreakpoint(0x100010, { hardware: true });
    await c.insertWatchpoint('rwatch', 0x2000, 4);
    await c.removeBreakpoint(0x100000);
    await expect(c.removeBreakpoint(0xdead)).rejects.toThrow(/E22/);
    expect(stub!.conns[0]!.packets).toEqual(['Z0,100000,1', 'Z1,100010,1', 'Z3,2000,4', 'z0,100000,1', 'z0,dead,1']);
  });

  it('kills and detaches', async () => {
    const c = await setup((p, s) => {
      if (p === 'D') s.send('OK');
      if (p === 'k') s.socket.end();
    });
    await c.detach();
    await c.kill();
    expect(c.closed).toBe(true);
    expect(stub!.conns[0]!.packets).toEqual(['D', 'k']);
  });

  it('sends raw bytes for malformed-packet tests', async () => {
    const c = await setup((p, s) => s.send(p === '?' ? 'S05' : ''));
    c.sendRaw('$bad#00');
    await new Promise((r) => setTimeout(r, 20));
    expect((await c.haltReason()).signal).toBe(5);
  });
});

// ---- against QEMU's stub -------------------------------------------------------------------

describe.skipIf(skipWithoutQemu())('RspClient against QEMU', () => {
  it('handshakes, stops at breakpoints and watchpoints, steps, runs monitor commands, interrupts and kills', async () => {
    const q = await startQemu({ kernel: HARNESS_ELF });
    try {
      const c = q.client;
      expect(c.features.get('qXfer:features:read')).toBe(true);
      // target.xml (with its commented-out registers skipped) gives the documented layout
      expect(c.layout.map((r) => r.name)).toEqual(I386_LAYOUT.map((r) => r.name));
      expect(c.layout.at(-1)).toMatchObject({ name: 'mxcsr', offset: 340 });
      expect((await c.haltReason()).signal).toBe(5);

      await c.insertBreakpoint(LAYOUT.harnessReady);
      const st = await c.cont(undefined, { timeoutMs: 20_000 });
      expect(st.signal).toBe(5);
      expect(st.thread).toBe('p01.01');
      expect((await c.readRegisters()).eip).toBe(LAYOUT.harnessReady);
      await c.removeBreakpoint(LAYOUT.harnessReady);
      await expect(c.removeBreakpoint(LAYOUT.harnessReady)).rejects.toThrow(/E22/);

      // a read watchpoint on the context block, which case_entry reads
      await c.insertWatchpoint('rwatch', LAYOUT.caseCtx, 4);
      await c.writeRegister('eip', LAYOUT.caseEntry);
      const w = await c.cont(undefined, { timeoutMs: 5000 });
      expect(w.watch).toEqual({ kind: 'rwatch', addr: LAYOUT.caseCtx });
      await c.removeWatchpoint('rwatch', LAYOUT.caseCtx, 4);

      const before = (await c.readRegisters()).eip;
      expect((await c.step()).signal).toBe(5);
      expect((await c.readRegisters()).eip).not.toBe(before);

      expect(await c.monitor('info registers')).toMatch(/EIP=/);

      // back to the idle loop (hlt with IF=0): only an interrupt stops it
      await c.writeRegister('eip', LAYOUT.harnessReady);
      await expect(c.cont(undefined, { timeoutMs: 200 })).rejects.toThrow(RspTimeoutError);
      expect((await c.interruptAndWait()).signal).toBe(2);

      const mem = await c.readMemory(LAYOUT.gdt, 0x1000);
      expect(mem.length).toBe(0x1000);
      await c.kill();
      expect(c.closed).toBe(true);
    } finally {
      await q.close();
    }
  });
});
