// The gdb server at the packet level, in process: a machine, its debugger controller and
// startGdbServer, driven by the RSP client of the QEMU oracle tests.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { bootSample, type BootedSample } from '../support/samples.js';
import { RspClient, parseStopReply } from '../support/rsp-client.js';
import { DebugController } from '../../src/debug/controller.js';
import { startGdbServer, REFUSAL, type GdbServer } from '../../gdbstub/server.js';
import { G_PACKET_BYTES, REGISTERS } from '../../gdbstub/target-description.js';

let g: BootedSample;
let ctl: DebugController;
let server: GdbServer;
let clients: RspClient[] = [];

async function connect(opts: { noAck?: boolean } = {}): Promise<RspClient> {
  const c = await RspClient.connect(server.port, '127.0.0.1', { timeoutMs: 5000 });
  clients.push(c);
  await c.qSupported(undefined, opts);
  return c;
}

const sym = (name: string): number => g.symbols.get(name)!;

/** Put `jmp $` at the current EIP so that the guest runs until stopped. */
async function spinForever(c: RspClient): Promise<number> {
  const pc = g.pc.cpu.pc;
  await c.writeMemory(pc, Uint8Array.of(0xeb, 0xfe));
  return pc;
}

beforeEach(async () => {
  g = bootSample('buggy');
  ctl = new DebugController(g.pc, { sliceInsns: 200_000 });
  server = await startGdbServer(ctl, { port: 0 });
});

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  if (ctl.state === 'running') await ctl.pause('test');
  await server.close();
});

describe('gdb server: protocol', () => {
  it('binds 127.0.0.1 by default and advertises exactly what it implements', async () => {
    expect(server.host).toBe('127.0.0.1');
    const c = await connect({ noAck: false });
    expect(Object.fromEntries(c.features)).toEqual({
      PacketSize: '4000', 'qXfer:features:read': true, vContSupported: true, multiprocess: true, swbreak: true, hwbreak: true, QStartNoAckMode: true,
    });
    expect(await c.request('vMustReplyEmpty')).toBe('');
    expect(await c.request('vCont?')).toBe('vCont;c;C;s;S;t');
    expect(await c.request('qAttached:1')).toBe('1');
    expect(await c.request('qC')).toBe('QCp01.01');
    expect(await c.request('qfThreadInfo')).toBe('mp01.01');
    expect(await c.request('qsThreadInfo')).toBe('l');
    expect(Buffer.from(await c.request('qThreadExtraInfo,p1.1'), 'hex').toString()).toBe('CPU#0 [running]');
    expect(await c.request('qOffsets')).toBe('Text=0;Data=0;Bss=0');
    expect(await c.request('qSymbol::')).toBe('OK');
    for (const h of ['Hgp0.0', 'Hc-1', 'Hgp1.1', 'Hg0', 'Hc1']) expect(await c.request(h)).toBe('OK');
    expect(await c.request('Hgp2.1')).toBe('E22');
    expect(await c.request('Tp1.1')).toBe('OK');
    expect(await c.request('Tp1.2')).toBe('E22');
    for (const u of ['qTStatus', 'vFlashErase:0,1', 'Z9,0,1'.slice(0, 0) + 'jUnknown', '!', 'R00', 'vRun;', 'qXfer:auxv:read::0,10', 'A1,2']) {
      expect(await c.request(u)).toBe('');
    }
    // QStartNoAckMode: after its OK nobody acknowledges.
    await c.startNoAckMode();
    expect(await c.request('?')).toMatch(/^T05thread:p01\.01;/);
  });

  it('serves a target description whose layout matches g, p and P', async () => {
    const c = await connect();
    const { files, layout } = await c.loadTargetDescription();
    expect([...files.keys()]).toEqual(['target.xml', 'i386-core.xml', 'i386-sse.xml', 'bmbt-sys.xml']);
    expect(files.get('i386-core.xml')).toContain('<feature name="org.gnu.gdb.i386.core">');
    expect(files.get('i386-sse.xml')).toContain('<feature name="org.gnu.gdb.i386.sse">');
    expect(layout.map((r) => r.name).slice(0, 16)).toEqual(['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs']);
    for (const n of ['st0', 'fop', 'xmm7', 'mxcsr', 'cr0', 'cr2', 'cr3', 'cr4', 'efer', 'fs_base', 'gs_base']) {
      expect(layout.some((r) => r.name === n)).toBe(true);
    }
    const regs = await c.readRegisters();
    expect(regs.raw.length).toBe(G_PACKET_BYTES);
    expect(regs.eax).toBe(0x2badb002);
    expect(regs.eip).toBe(0x10000c);
    expect(regs.cr0).toBe(0x11);
    expect(regs.all.get('mxcsr')).toBe(0x1f80);
    await c.writeRegister('eax', 0xdeadbeef);
    expect(g.pc.cpu.regs[0]! >>> 0).toBe(0xdeadbeef);
    expect(Buffer.from(await c.readRegister('eax')).readUInt32LE(0)).toBe(0xdeadbeef);
    // XMM0-7 and MXCSR are the SIMD unit's (issue 15)
    const x = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i);
    await c.writeRegister('xmm3', x);
    expect([...g.pc.cpu.simd.U8.subarray(48, 64)]).toEqual([...x]);
    expect([...(await c.readRegister('xmm3'))]).toEqual([...x]);
    await c.writeRegister('mxcsr', 0x7f80);
    expect(g.pc.cpu.simd.mxcsr).toBe(0x7f80);
    expect(Buffer.from(await c.readRegister('mxcsr')).readUInt32LE(0)).toBe(0x7f80);
    await c.writeRegister('mxcsr', 0x1f80);
    await c.writeRegister('xmm3', new Uint8Array(16));
    expect(await c.request(`p${REGISTERS.length.toString(16)}`)).toBe('E14');
    expect(await c.request('P0=1234')).toBe('E22'); // wrong size
    expect(await c.request('Pzz=12345678')).toBe('E22');
    expect(await c.request(`P${(REGISTERS.length + 5).toString(16)}=12345678`)).toBe('E14');
    expect(await c.request('G1234')).toBe('E22'); // cut mid-register
    // G with the same values changes nothing; with a new eax only eax.
    const raw = Uint8Array.from(regs.raw);
    raw.set([1, 0, 0, 0], 0);
    await c.writeRegisterBytes(raw);
    expect(g.pc.cpu.regs[0]).toBe(1);
    expect(g.pc.cpu.eip).toBe(0x10000c);
  });

  it('reads and writes memory with m, M and X; errors as QEMU (E22 bad arguments, E14 faults)', async () => {
    const c = await connect();
    await c.loadTargetDescription();
    const items = sym('items');
    await c.writeMemory(items, Uint8Array.of(1, 2, 3, 0x23, 0x24, 0x7d, 0x2a), { binary: true });
    expect(Array.from(await c.readMemory(items, 7))).toEqual([1, 2, 3, 0x23, 0x24, 0x7d, 0x2a]);
    await c.writeMemory(items, Uint8Array.of(9, 8, 7), { binary: false });
    expect(Array.from(g.pc.readLinear(items, 3)!)).toEqual([9, 8, 7]);
    expect(await c.request(`X${items.toString(16)},0:`)).toBe('OK');
    expect(await c.request('m100000,2001')).toBe('E22'); // longer than PacketSize allows
    expect((await c.request('m100000,2000')).length).toBe(0x4000);
    expect(await c.request('m100000')).toBe('E22');
    expect(await c.request('mxyz,4')).toBe('E22');
    expect(await c.request('m1ffffffff,4')).toBe('E14');
    expect(await c.request('m100000,ffffffffffffffff')).toBe('E22');
    expect(await c.request(`M${items.toString(16)},2:123`)).toBe('E22');
    expect(await c.request(`M${items.toString(16)},3:1234`)).toBe('E22');
    expect(await c.request(`X${items.toString(16)},3:ab`)).toBe('E22');
    // Paging on with an empty page directory: every linear address faults, physical ones do not.
    await c.writeRegister('cr3', 0x200000);
    await c.writeRegister('cr0', 0x80000011);
    expect(await c.request('m100000,4')).toBe('E14');
    expect(await c.request('M100000,1:00')).toBe('E14');
    const out = await c.monitor('physmem on');
    expect(out).toContain('physical');
    expect(await c.request('m10000c,2')).toBe('fafc'); // cli; cld
    expect(await c.request('qqemu.PhyMemMode')).toBe('1');
    expect(await c.request('Qqemu.PhyMemMode:0')).toBe('OK');
    expect(await c.request('m10000c,2')).toBe('E14');
  });

  it('software and hardware breakpoints stop before the instruction with swbreak/hwbreak', async () => {
    const c = await connect();
    await c.insertBreakpoint(sym('find_item'));
    let stop = await c.cont(undefined, { timeoutMs: 5000 });
    expect(stop.signal).toBe(5);
    expect(stop.swbreak).toBe(true);
    expect(stop.thread).toBe('p01.01');
    expect(Buffer.from(stop.registers.get(8)!).readUInt32LE(0)).toBe(sym('find_item')); // expedited eip
    expect(g.pc.cpu.pc).toBe(sym('find_item'));
    // Stepping from a breakpoint executes the instruction there.
    stop = await c.step();
    expect(g.pc.cpu.pc).toBe(sym('find_item') + 1);
    await c.removeBreakpoint(sym('find_item'));
    expect(await c.request(`z0,${sym('find_item').toString(16)},1`)).toBe('E22'); // not inserted
    await c.insertBreakpoint(sym('apply_order'), { hardware: true });
    stop = await c.cont(undefined, { timeoutMs: 5000 });
    expect(stop.hwbreak).toBe(true);
    expect(g.pc.cpu.pc).toBe(sym('apply_order'));
    expect(ctl.breakpoints().map((b) => [b.addr, b.hw, b.owner])).toEqual([[sym('apply_order'), true, 'gdb']]);
  });

  it('watchpoints of 1, 2, 4 and 8 bytes report watch/rwatch/awatch after the access', async () => {
    const c = await connect();
    const total = sym('total');
    for (const [kind, len, type] of [['watch', 1, 'watch'], ['watch', 2, 'watch'], ['rwatch', 4, 'rwatch'], ['awatch', 8, 'awatch']] as const) {
      await c.insertWatchpoint(kind, total, len);
      const stop = await c.cont(undefined, { timeoutMs: 5000 });
      expect(stop.watch).toEqual({ kind: type, addr: total });
      await c.removeWatchpoint(kind, total, len);
      // The accessing instruction has completed: the previous instruction touched total.
      expect(g.pc.cpu.pc).not.toBe(0);
    }
    // gdb takes its points out at every stop and puts back those it keeps as it resumes:
    // one taken out stays listed (and armed) until then.
    expect(ctl.watchpoints()).toHaveLength(1);
    await c.step();
    expect(ctl.watchpoints()).toEqual([]);
    expect(await c.request(`Z2,${total.toString(16)},0`)).toBe('E22');
    expect(await c.request('Z2,ffffffff,8')).toBe('E22');
    expect(await c.request('Z5,1000,1')).toBe('E22');
  });

  it('Ctrl-C stops a running guest with T02 within 100 ms', async () => {
    const c = await connect();
    await spinForever(c);
    const running = c.cont();
    await new Promise((r) => setTimeout(r, 300));
    expect(ctl.state).toBe('running');
    const t0 = performance.now();
    c.interrupt();
    const stop = await running;
    const ms = performance.now() - t0;
    expect(stop.signal).toBe(2);
    expect(ms).toBeLessThan(100);
    expect(ctl.state).toBe('stopped');
  });

  it('a stop caused by another front end is reported to gdb; their breakpoints stop gdb too', async () => {
    const c = await connect();
    await spinForever(c);
    const running = c.cont();
    await new Promise((r) => setTimeout(r, 100));
    await ctl.pause('ui');
    expect((await running).signal).toBe(2);
    await c.writeMemory(g.pc.cpu.pc, Uint8Array.of(0xfa, 0xfc)); // restore cli; cld
    ctl.addBreakpoint(sym('main'), { owner: 'ui' });
    const stop = await c.cont(undefined, { timeoutMs: 5000 });
    expect(stop.swbreak).toBe(true);
    expect(g.pc.cpu.pc).toBe(sym('main'));
  });

  it('reports W with the exit status when the guest exits, and X after kill', async () => {
    const c = await connect();
    const stop = await c.cont(undefined, { timeoutMs: 10_000 });
    expect(stop.raw).toBe('W03;process:1');
    expect(await c.request('?')).toBe('W03;process:1');
    expect(await c.request('vCont;c')).toBe('W03;process:1');
  });

  it('vKill ends the session and kills through the controller', async () => {
    const c = await connect();
    expect(await c.request('vKill;2')).toBe('E22');
    expect(await c.request('vKill;1')).toBe('OK');
    expect(await c.waitClosed(2000)).toBe(true);
    expect(ctl.state).toBe('exited');
    expect(ctl.lastStop.kind).toBe('killed');
  });

  it('bs and bc get an error, never a crash; unknown vCont actions are rejected', async () => {
    const c = await connect();
    expect(await c.request('bs')).toBe('E22');
    expect(await c.request('bc')).toBe('E22');
    expect(await c.request('vCont;x')).toBe('E22');
    expect(await c.request('vCont;s:p9.9')).toBe('E22');
    expect(await c.request('vCont;')).toBe('E22');
    expect(await c.request('vCont;t')).toBe('T00thread:p01.01;');
    expect(g.pc.cpu.eip).toBe(0x10000c);
    const stop = parseStopReply(await c.request('vCont;s:p1.1;c:p1.-1'));
    expect(stop.signal).toBe(5);
    expect(g.pc.cpu.eip).toBe(0x10000d);
  });

  it('D with any pid form: only our process detaches, and detach resumes the guest', async () => {
    const c = await connect();
    await spinForever(c);
    await c.insertBreakpoint(sym('main'));
    for (const bad of ['D;2', 'D;zz', 'D;', 'D;-1', 'D1', 'D;100000000']) expect(await c.request(bad)).toBe('E22');
    expect(ctl.state).toBe('stopped');
    await c.detach(1);
    expect(await c.waitClosed(2000)).toBe(true);
    expect(ctl.state).toBe('running');
    expect(ctl.breakpoints()).toEqual([]); // gdb's breakpoints went with it
  });

  it('refuses a second client with a clear message while the first session goes on', async () => {
    const c = await connect();
    const second = await RspClient.connect(server.port, '127.0.0.1', { timeoutMs: 5000 });
    clients.push(second);
    expect(await second.request('qSupported:multiprocess+')).toBe(REFUSAL);
    expect(await second.waitClosed(3000)).toBe(true);
    expect(await c.request('?')).toMatch(/^T05/);
    expect((await c.readRegisters()).eip).toBe(0x10000c);
  });

  it('re-attach works any number of times; each attach stops the running guest', async () => {
    let c = await connect();
    await spinForever(c);
    await c.detach();
    for (let i = 0; i < 25; i++) {
      await new Promise((r) => setTimeout(r, 5));
      c = await connect();
      expect(await c.request('?')).toMatch(/^T05/);
      expect(ctl.state).toBe('stopped');
      expect((await c.readRegisters()).eip).toBe(0x10000c);
      await c.detach();
      await c.waitClosed(1000);
    }
    expect(server.sessions).toBe(26);
  });

  it('monitor commands answer in O packets', async () => {
    const c = await connect();
    expect(await c.monitor('help')).toMatch(/info tb ADDR/);
    expect(await c.monitor('info registers')).toMatch(/^EAX=2badb002 /);
    expect(await c.monitor('info tb')).toMatch(/^TB cache: /);
    expect(await c.monitor('icount')).toBe('0\n');
    expect(await c.monitor('stepb')).toMatch(/^stepped 1 block/);
    expect(await c.monitor('bogus')).toMatch(/unknown command "bogus"/);
    expect(await c.request('qRcmd,zz')).toBe('E22');
  });

  it('retransmits its last reply on -, and answers - to a bad checksum', async () => {
    const c = await connect({ noAck: false });
    expect(await c.request('qC')).toBe('QCp01.01');
    c.sendRaw('-');
    expect(await c.nextPacket(2000)).toBe('QCp01.01');
    c.close();
    await server.whenDetached();
    // A bad checksum gets '-' and nothing else; the packet sent again gets '+' and the reply.
    const sock = net.connect({ port: server.port, host: '127.0.0.1' });
    let got = '';
    sock.setEncoding('latin1').on('data', (d: string) => (got += d));
    await new Promise((r) => sock.once('connect', r));
    sock.write('$m100000,4#00');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toBe('-');
    sock.write('$m100000,4#ee');
    for (let i = 0; i < 50 && got.length < 14; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toBe('-+$02b0ad1b#4c');
    // Two packets in one write: two acks, two replies, in order.
    got = '';
    sock.write('$qC#b4$qsThreadInfo#c8');
    for (let i = 0; i < 50 && got.length < 19; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got.replace(/\+/g, '')).toBe('$QC01#f5$l#6c');
    expect(got.match(/\+/g)).toHaveLength(2);
    sock.destroy();
  });

  it('k ends the session and kills; c/s with an address and C/S with a signal resume there', async () => {
    const c = await connect();
    const main = sym('main');
    await c.insertBreakpoint(sym('fill_items'));
    let stop = parseStopReply(await c.request(`S05;${main.toString(16)}`));
    expect(stop.signal).toBe(5);
    expect(g.pc.cpu.eip).toBeGreaterThan(main); // one instruction of main ran
    expect(g.pc.cpu.eip).toBeLessThan(main + 8);
    stop = await c.resume(`c${main.toString(16)}`, { timeoutMs: 5000 }); // main again, which calls fill_items first
    expect(stop.swbreak).toBe(true);
    expect(g.pc.cpu.eip).toBe(sym('fill_items'));
    await c.insertBreakpoint(sym('find_item'));
    stop = await c.resume('vCont;C05:p1.1', { timeoutMs: 5000 });
    expect(stop.kind).toBe('stop');
    expect(g.pc.cpu.eip).toBe(sym('find_item'));
    stop = parseStopReply(await c.request('vCont;S05:p1.-1'));
    expect(stop.signal).toBe(5);
    await c.send('k');
    expect(await c.waitClosed(2000)).toBe(true);
    expect(ctl.lastStop.kind).toBe('killed');
  });

  it('memory addresses are linear: m and M go through the page tables', async () => {
    const c = await connect();
    await c.loadTargetDescription();
    // A page directory at 0x200000 whose entry 0x100 (0x40000000) points to a page table
    // at 0x201000 mapping 0x40000000 -> 0x100000 (the kernel's multiboot header).
    await c.writeMemory(0x200000 + 0x100 * 4, Uint8Array.of(0x03, 0x10, 0x20, 0x00));
    await c.writeMemory(0x201000, Uint8Array.of(0x03, 0x00, 0x10, 0x00));
    await c.writeRegister('cr3', 0x200000);
    await c.writeRegister('cr0', 0x80000011);
    expect(await c.request('m40000000,4')).toBe('02b0ad1b'); // 0x1badb002
    await c.writeMemory(0x40000008, Uint8Array.of(0xaa));
    expect(g.pc.readPhysical(0x100008, 1)[0]).toBe(0xaa);
    expect(await c.request('m40001000,4')).toBe('E14');
    // A read that runs into an unmapped page returns what could be read.
    expect(await c.request('m40000ffe,4')).toBe(Buffer.from(g.pc.readPhysical(0x100ffe, 2)).toString('hex'));
  });
});
