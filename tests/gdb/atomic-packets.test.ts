// Issue 16: a packet answered with an error leaves the machine untouched (registers,
// memory, breakpoints, session settings); a packet that succeeds applies all of it. An
// independent fuzzer saw `G` answer E14 after it had written EBX and FOP, and a `z0` with
// a condition list answer E22 while the breakpoint stayed in.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { bootSample, type BootedSample } from '../support/samples.js';
import { RspClient, hexEncode } from '../support/rsp-client.js';
import { DebugController } from '../../src/debug/controller.js';
import { startGdbServer, type GdbServer } from '../../gdbstub/server.js';
import { REGISTERS, REGNUM, REGISTER_OFFSETS } from '../../gdbstub/target-description.js';

let g: BootedSample;
let ctl: DebugController;
let server: GdbServer;
let c: RspClient;

const sym = (name: string): number => g.symbols.get(name)!;
const off = (name: string): number => REGISTER_OFFSETS[REGNUM.get(name)!]!;

/** Everything a packet could change: registers (all of the CPU's), low memory, points. */
function machineState(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ ...ctl.registers(), icount: 0 }));
  h.update(g.pc.readPhysical(0, 0x200000));
  h.update(JSON.stringify({ bps: ctl.breakpoints(), w: ctl.watchpoints(), st: ctl.state }));
  return h.digest('hex');
}

async function g0(): Promise<Uint8Array> {
  return Uint8Array.from(Buffer.from(await c.request('g'), 'hex'));
}

beforeEach(async () => {
  g = bootSample('buggy');
  ctl = new DebugController(g.pc, { sliceInsns: 200_000 });
  server = await startGdbServer(ctl, { port: 0 });
  c = await RspClient.connect(server.port, '127.0.0.1', { timeoutMs: 5000 });
  await c.qSupported(undefined, { noAck: false });
  await c.loadTargetDescription();
});

afterEach(async () => {
  c.close();
  if (ctl.state === 'running') await ctl.pause('test');
  await server.close();
});

describe('a packet answered with an error changes nothing', () => {
  it('G that cannot write one of its registers (fs_base) writes none of them (it wrote EBX and FOP)', async () => {
    const before = machineState();
    const regs = await g0();
    regs.set([1, 2, 3, 4], off('ebx'));
    regs.set([5, 0, 0, 0], off('fop'));
    regs.set([9, 9, 9, 9], off('fs_base')); // read-only here
    expect(await c.request(`G${hexEncode(regs)}`)).toBe('E14');
    expect(machineState()).toBe(before);
  });

  it('G or P loading a segment register whose descriptor cannot be read is refused whole', async () => {
    const before = machineState();
    expect(g.pc.cpu.protectedMode).toBe(true);
    const regs = await g0();
    regs.set([1, 2, 3, 4], off('ebx'));
    regs.set([0x78, 0x56, 0x34, 0x12], off('cr2')); // written before the selector: put back
    regs.set([0xf8, 0x7f, 0, 0], off('ds')); // far past the GDT's limit
    expect(await c.request(`G${hexEncode(regs)}`)).toBe('E14');
    expect(machineState()).toBe(before);
    expect(await c.request(`P${REGNUM.get('ds')!.toString(16)}=f87f0000`)).toBe('E14');
    expect(await c.request(`P${REGNUM.get('cs')!.toString(16)}=00000000`)).toBe('E14'); // a null CS
    expect(machineState()).toBe(before);
  });

  it('malformed G, P, M and X packets change nothing', async () => {
    const before = machineState();
    const regs = await g0();
    regs.set([1, 2, 3, 4], off('ebx'));
    const hex = hexEncode(regs);
    for (const p of [
      `G${hex}0`, // odd length
      `G${hex.slice(0, -2)}zz`, // non-hex at the end
      `G${hex.slice(0, off('ebp') * 2 + 2)}`, // cut inside EBP
      `G${hex}00000000`, // longer than the register file
      'P3=0102', 'P3=0102030405', 'P3=zz020304', `P${REGISTERS.length.toString(16)}=01020304`,
      'M100000,4:deadbe', 'M100000,2:deadbeef', 'M100000,4:deadbeez', 'Mfffffffe,4:01020304',
      'X100000,4:ab', 'X100000,1:}',
    ]) {
      expect(await c.request(p), p).toMatch(/^E/);
      expect(machineState(), p).toBe(before);
    }
  });

  it('settings packets with a bad argument change no setting', async () => {
    expect(await c.request('Qqemu.PhyMemMode:2')).toBe('E22');
    expect(await c.request('qqemu.PhyMemMode')).toBe('0');
    expect(await c.request('QStartNoAckModeX')).not.toBe('OK');
    // Still in ack mode: the next packet is acknowledged (the client would retransmit).
    expect(await c.request('?')).toMatch(/^T05/);
    expect(c.retransmits).toBe(0);
  });

  it('a resume with a bad address neither moves EIP nor runs', async () => {
    const before = machineState();
    for (const p of ['c1234567890', 'sxyz', 'C05;zz', 'S0;100000', 'vCont;c;q']) expect(await c.request(p), p).toBe('E22');
    expect(ctl.state).toBe('stopped');
    expect(machineState()).toBe(before);
  });
});

describe('a packet that succeeds applies all of it', () => {
  it('G writes every register it changes, system and x87 ones included', async () => {
    const regs = await g0();
    regs.set([1, 2, 3, 4], off('ebx'));
    regs.set([5, 0, 0, 0], off('fop'));
    regs.set([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f], off('st0')); // 1.0
    regs.set([0xfc, 0xff, 0, 0], off('ftag')); // R0 (TOP is 0) valid: the tags follow the contents
    regs.set(Array.from({ length: 16 }, (_, i) => i + 1), off('xmm1'));
    regs.set([0x78, 0x56, 0x34, 0x12], off('cr2'));
    expect(await c.request(`G${hexEncode(regs)}`)).toBe('OK');
    const after = await g0();
    const diff = REGISTERS.filter((r, i) => Buffer.compare(after.subarray(REGISTER_OFFSETS[i]!, REGISTER_OFFSETS[i]! + r.bitsize / 8), regs.subarray(REGISTER_OFFSETS[i]!, REGISTER_OFFSETS[i]! + r.bitsize / 8)) !== 0).map((r) => r.name);
    expect(diff).toEqual([]);
    expect(g.pc.cpu.regs[3]! >>> 0).toBe(0x04030201);
    expect(g.pc.cpu.cr2 >>> 0).toBe(0x12345678);
  });

  it('z with a condition list removes the breakpoint and answers OK, as QEMU 7.2 (measured)', async () => {
    // QEMU: Z0,100810,1 -> OK; z0,100810,9a59;9;0 -> OK; z0,100810,1 -> E22 (gone).
    const at = sym('find_item');
    expect(await c.request(`Z0,${at.toString(16)},1`)).toBe('OK');
    expect(await c.request(`z0,${at.toString(16)},9a59;9;0`)).toBe('OK');
    expect(await c.request(`z0,${at.toString(16)},1`)).toBe('E22');
    // Gone for good: the guest runs to its end past find_item.
    const stop = await c.cont(undefined, { timeoutMs: 10_000 });
    expect(stop.kind).toBe('exited');
  });

  it('Z puts back a breakpoint the monitor deleted meanwhile (it answered OK and left it out)', async () => {
    const at = sym('find_item');
    expect(await c.request(`Z0,${at.toString(16)},1`)).toBe('OK');
    await c.monitor('delete');
    expect(ctl.breakpoints()).toEqual([]);
    expect(await c.request(`z0,${at.toString(16)},1`)).toBe('OK');
    expect(await c.request(`Z0,${at.toString(16)},1`)).toBe('OK');
    expect(ctl.breakpoints().map((b) => b.addr)).toEqual([at]);
  });

  it('Z with a condition list inserts (the conditions are not evaluated: QEMU ignores them too)', async () => {
    const at = sym('find_item');
    expect(await c.request(`Z0,${at.toString(16)},1;X3,220a00;cmds:0,X1,00`)).toBe('OK');
    const stop = await c.cont(undefined, { timeoutMs: 10_000 });
    expect(stop.signal).toBe(5);
    expect(g.pc.cpu.pc).toBe(at);
  });
});
