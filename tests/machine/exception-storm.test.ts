// Issue 16: an exception storm must not freeze the run loop. A real-mode boot sector whose
// #UD vector points at a UD2 never retires an instruction (its stack wraps inside its own
// segment, so it never reaches anything that would end it), and the instruction count
// used to stand still: --max-insns, the clock, slice ends and stop requests never came.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, skipWithoutNasm } from '../support/nasm.js';
import { runCli } from '../support/cli.js';
import { RspClient } from '../support/rsp-client.js';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { loadBootSector } from '../../src/boot/boot-sector.js';
import { DebugController } from '../../src/debug/controller.js';
import { startGdbServer, type GdbServer } from '../../gdbstub/server.js';
import { STORM_CHARGE, STORM_DELIVERIES } from '../../src/cpu/cpu-exec.js';

const STORM = `bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  mov bx, 0x1000
  mov ss, bx
  mov sp, 0x7000
  mov word [6*4], handler
  mov word [6*4+2], 0
  ud2
handler:
  ud2
times 510-($-$$) db 0
dw 0xaa55
`;
/** The UD2 every delivery lands on: after 13 bytes of set-up, 12 of vector writes and the first UD2. */
const HANDLER = 0x7c00 + 27;

function stormMachine(): PcMachine {
  const m = new PcMachine({});
  loadBootSector(m.phys, m.cpu, assemble(STORM), 'storm');
  return m;
}

let server: GdbServer | null = null;
let client: RspClient | null = null;
afterEach(async () => {
  client?.close();
  client = null;
  await server?.close();
  server = null;
});

describe.skipIf(skipWithoutNasm())('an exception storm', () => {
  it('is charged STORM_CHARGE instructions per delivery past the streak limit, and reported once', () => {
    const m = stormMachine();
    const stop = m.run(1_000_000);
    expect(stop.kind).toBe('budget');
    expect(m.cpu.icount).toBeGreaterThanOrEqual(1_000_000);
    // About one delivery per STORM_CHARGE instructions of the budget.
    expect(m.events.count('exception')).toBeLessThan(STORM_DELIVERIES + 1_000_000 / STORM_CHARGE + 10);
    expect(m.cpu.eip + m.cpu.segBase[1]!).toBe(HANDLER);
    const storms = m.events.recent(['exception-storm']);
    expect(storms).toHaveLength(1);
    expect(storms[0]).toMatchObject({ vector: 6, eip: HANDLER, deliveries: STORM_DELIVERIES + 1 });
  });

  it('headless, --max-insns ends it (status 124)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-storm-'));
    try {
      const img = join(dir, 'storm.img');
      writeFileSync(img, assemble(STORM));
      const r = await runCli(['--ui', 'none', '--boot-sector', img, '--max-insns', '200000000']);
      expect(r.code).toBe(124);
      // (a delivery charged in one piece may carry the count a little past the limit)
      expect(r.stderr).toMatch(/stopped after 2000\d{5} instructions \(--max-insns\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-d int -D FILE: the storm is named once, after the deliveries that led to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmbt-storm-'));
    try {
      const img = join(dir, 'storm.img');
      const log = join(dir, 'int.log');
      writeFileSync(img, assemble(STORM));
      const r = await runCli(['--ui', 'none', '--boot-sector', img, '--max-insns', '2000000', '-d', 'int', '-D', log]);
      expect(r.code).toBe(124);
      const lines = readFileSync(log, 'latin1').split('\n');
      const storm = lines.filter((l) => l.startsWith('bmbt-dbg: exception storm'));
      expect(storm).toEqual([`bmbt-dbg: exception storm: vector 0x06 at EIP ${HANDLER.toString(16).padStart(8, '0')}, ${STORM_DELIVERIES + 1} deliveries with no instruction retired; each further one is charged to the instruction count`]);
      // QEMU's line for each #UD raised (real mode: no delivery lines), before and after it.
      const at = lines.indexOf(storm[0]!);
      expect(lines.slice(0, at).filter((l) => l === 'check_exception old: 0xffffffff new 0x6').length).toBe(STORM_DELIVERIES);
      expect(lines.slice(at + 1).some((l) => l === 'check_exception old: 0xffffffff new 0x6')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gdb: continue, then Ctrl-C stops it within 0.2 s at the faulting UD2', async () => {
    const m = stormMachine();
    const ctl = new DebugController(m, {});
    server = await startGdbServer(ctl, { port: 0 });
    client = await RspClient.connect(server.port, '127.0.0.1', { timeoutMs: 5000 });
    await client.qSupported();
    const running = client.cont();
    await new Promise((r) => setTimeout(r, 300));
    expect(ctl.state).toBe('running');
    const t0 = performance.now();
    client.interrupt();
    const stop = await running;
    expect(performance.now() - t0).toBeLessThan(200);
    expect(stop.signal).toBe(2);
    const regs = await client.readRegisters();
    expect(regs.eip).toBe(HANDLER);
  });
});
