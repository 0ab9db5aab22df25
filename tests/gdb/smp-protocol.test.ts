// gdb's thread packets on -smp 2, at the packet level (in process, as protocol.test.ts):
// the SMP test guest (tests/guests/smp), thread N is CPU N-1 as in QEMU. qfThreadInfo /
// qsThreadInfo list both, qC names the stopped one, Hg picks whose registers g reads, Hc
// or vCont;s:TID picks the CPU a step moves (the other stays), and stop replies carry the
// thread of the CPU that stopped: the AP for its breakpoint, the BSP for a breakpoint
// only it runs even when gdb had thread 2 selected.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RspClient, parseStopReply } from '../support/rsp-client.js';
import { guestMachine, type GuestMachine } from '../support/guest-machine.js';
import { SMP_GUEST, smpSymbol } from '../support/smp-guest.js';
import { DebugController } from '../../src/debug/controller.js';
import { startGdbServer, type GdbServer } from '../../gdbstub/server.js';
import { saveCpuState, type CpuState } from '../../src/cpu/cpu-state.js';

let g: GuestMachine;
let ctl: DebugController;
let server: GdbServer;
let client: RspClient | null = null;

beforeEach(async () => {
  g = guestMachine(['--kernel', SMP_GUEST, '-smp', '2']);
  ctl = new DebugController(g.pc, { sliceInsns: 50_000 });
  server = await startGdbServer(ctl, { port: 0 });
});

afterEach(async () => {
  client?.close();
  client = null;
  if (ctl.state === 'running') await ctl.pause('test');
  await server.close();
});

async function connect(): Promise<RspClient> {
  client = await RspClient.connect(server.port, '127.0.0.1', { timeoutMs: 10_000 });
  await client.qSupported();
  return client;
}

/** CPU i's state as the machine keeps it (the engine's, or its saved record). */
function cpuState(i: number): CpuState {
  const v = g.pc.smp!.cpus[i]!;
  return v.saved ?? saveCpuState(g.pc.cpu);
}

/** The general registers and EIP a `g` reply gives. */
async function readGeneral(c: RspClient): Promise<number[]> {
  const r = await c.readRegisters();
  return [r.eax, r.ecx, r.edx, r.ebx, r.esp, r.ebp, r.esi, r.edi, r.eip];
}

function expected(s: CpuState): number[] {
  return [...[...s.regs].slice(0, 8).map((x) => x >>> 0), s.eip >>> 0];
}

const icounts = (): number[] => g.pc.smp!.cpus.map((v) => v.icount);

describe('gdb packets on -smp 2', () => {
  it('a refused packet on gdb\'s thread leaves the CPU another front end selected (a good one follows gdb\'s thread)', async () => {
    const c = await connect();
    expect(await c.request('Hgp1.2')).toBe('OK');
    // The UI (say) looks at the BSP; gdb then sends a G too short to be a register file.
    expect(ctl.selectCpu(0)).toBe(true);
    expect(await c.request('G0011')).toMatch(/^E[0-9a-f]{2}$/);
    expect(ctl.selectedCpu()).toBe(0);
    expect(await c.request('p8')).toMatch(/^[0-9a-f]{8}$/);
    expect(ctl.selectedCpu()).toBe(1);
  });

  it('qfThreadInfo, qsThreadInfo, qC, qThreadExtraInfo; an AP breakpoint stops with thread:p01.02; Hg picks whose registers g reads', async () => {
    const c = await connect();
    expect(await c.request('qfThreadInfo')).toBe('mp01.01,p01.02');
    expect(await c.request('qsThreadInfo')).toBe('l');
    expect(await c.request('qC')).toBe('QCp01.01');
    expect(Buffer.from(await c.request('qThreadExtraInfo,p1.1'), 'hex').toString()).toBe('CPU#0 [running]');
    expect(Buffer.from(await c.request('qThreadExtraInfo,p1.2'), 'hex').toString()).toBe('CPU#1 [halted]');
    expect(await c.request('Tp1.2')).toBe('OK');
    expect(await c.request('Tp1.3')).toBe('E22');
    expect(await c.request('Hgp1.3')).toBe('E22');

    const apMain = smpSymbol('ap_main');
    await c.insertPoint(0, apMain);
    const stop = await c.cont(undefined, { timeoutMs: 30_000 });
    expect(stop.kind).toBe('stop');
    expect(stop.signal).toBe(5);
    expect(stop.thread).toBe('p01.02');
    expect(stop.swbreak).toBe(true);
    expect(stop.raw).toMatch(/^T05thread:p01\.02;/);
    // The expedited EIP is the AP's.
    expect(Buffer.from(stop.registers.get(8)!).readUInt32LE(0)).toBe(apMain);
    expect(await c.request('qC')).toBe('QCp01.02');
    expect(Buffer.from(await c.request('qThreadExtraInfo,p1.2'), 'hex').toString()).toBe('CPU#1 [running]');
    // g: the stopped thread's registers (CPU 1), then CPU 0's after Hg1, CPU 1's after Hg2.
    expect(await readGeneral(c)).toEqual(expected(cpuState(1)));
    expect((await readGeneral(c))[8]).toBe(apMain);
    expect(await c.request('Hgp1.1')).toBe('OK');
    const bsp = await readGeneral(c);
    expect(bsp).toEqual(expected(cpuState(0)));
    expect(bsp[8]).not.toBe(apMain);
    expect(await c.request('Hgp1.2')).toBe('OK');
    expect(await readGeneral(c)).toEqual(expected(cpuState(1)));
    expect((await readGeneral(c))[8]).toBe(apMain);
    // The plain thread ids without multiprocess syntax work too.
    expect(await c.request('Hg1')).toBe('OK');
    expect((await readGeneral(c))[8]).toBe(bsp[8]);
    expect(await c.request('Hg2')).toBe('OK');
    expect((await readGeneral(c))[8]).toBe(apMain);
    // p reads the selected thread's register too (eip is register 8).
    expect(Buffer.from(await c.readRegister(8)).readUInt32LE(0)).toBe(apMain);
  }, 60_000);

  it('Hc2 + s and vCont;s:p1.2 step only CPU 1, vCont;s:p1.1 only CPU 0; a BSP-only breakpoint with thread 2 selected reports thread 1', async () => {
    const c = await connect();
    const apMain = smpSymbol('ap_main');
    await c.insertPoint(0, apMain);
    expect((await c.cont(undefined, { timeoutMs: 30_000 })).thread).toBe('p01.02');
    await c.removePoint(0, apMain);
    const [bsp0, ap0] = icounts() as [number, number];
    const bspEip = cpuState(0).eip;

    // gdb looks at thread 1, steps thread 2 (Hc): CPU 1 moves, CPU 0 stays.
    expect(await c.request('Hgp1.1')).toBe('OK');
    expect(await c.request('Hcp1.2')).toBe('OK');
    let s = await c.step();
    expect(s.thread).toBe('p01.02');
    expect(icounts()).toEqual([bsp0, ap0 + 1]);
    expect(cpuState(1).eip).toBe(apMain + 4); // mov ax, 0x10
    expect(cpuState(0).eip).toBe(bspEip);
    // vCont;s naming thread 2 (and c for the others, which all-stop leaves stopped).
    s = await c.resume('vCont;s:p1.2;c');
    expect(s.thread).toBe('p01.02');
    expect(icounts()).toEqual([bsp0, ap0 + 2]);
    expect(cpuState(1).eip).toBe(apMain + 6); // mov ds, ax
    expect(Buffer.from(s.registers.get(8)!).readUInt32LE(0)).toBe(apMain + 6);
    // vCont;s naming thread 1: CPU 0 moves, the stop is thread 1's.
    s = await c.resume('vCont;s:p1.1');
    expect(s.thread).toBe('p01.01');
    expect(icounts()).toEqual([bsp0 + 1, ap0 + 2]);
    expect(cpuState(0).eip).not.toBe(bspEip);
    expect(cpuState(1).eip).toBe(apMain + 6);
    expect(await c.request('qC')).toBe('QCp01.01');

    // Thread 2 selected for registers and steps; a breakpoint in putc, which only the BSP
    // runs (it alone prints): the stop is thread 1's, at putc.
    expect(await c.request('Hgp1.2')).toBe('OK');
    expect(await c.request('Hcp1.2')).toBe('OK');
    expect((await readGeneral(c))[8]).toBe(apMain + 6);
    const putc = smpSymbol('putc');
    await c.insertPoint(0, putc);
    s = await c.cont(undefined, { timeoutMs: 30_000 });
    expect(s.raw).toMatch(/^T05thread:p01\.01;/);
    expect(Buffer.from(s.registers.get(8)!).readUInt32LE(0)).toBe(putc);
    expect(await c.request('qC')).toBe('QCp01.01');
    expect((await readGeneral(c))[8]).toBe(putc);
    expect(cpuState(0).eip).toBe(putc);
    // The AP ran on meanwhile (it took its place in the round robin).
    expect(icounts()[1]).toBeGreaterThan(ap0 + 2);
    expect(parseStopReply(await c.request('?')).thread).toBe('p01.01');
  }, 60_000);
});
