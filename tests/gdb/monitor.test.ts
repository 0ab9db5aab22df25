// The monitor commands (gdb's `monitor ...`, the UI's command line) on a controller.
import { describe, expect, it } from 'vitest';
import { bootSample } from '../support/samples.js';
import { DebugController } from '../../src/debug/controller.js';
import { newMonitorSession, runMonitorCommand } from '../../src/debug/monitor.js';
import type { ElfSymbol } from '../../src/boot/elf.js';

function setup(name = 'buggy') {
  const g = bootSample(name);
  const symbols: ElfSymbol[] = [...g.symbols].map(([n, value]) => ({ name: n, value, size: 0, type: 2 }) as ElfSymbol);
  const ctl = new DebugController(g.pc, { symbols, sliceInsns: 100_000 });
  const run = (line: string, session = newMonitorSession()) => runMonitorCommand(ctl, line, session);
  return { g, ctl, run };
}

describe('monitor commands', () => {
  it('help lists every command', async () => {
    const { run } = setup();
    const help = await run('help');
    for (const c of ['info registers', 'info tb ADDR', 'info irq', 'info tlb', 'info mem', 'tb flush', 'stepb', 'icount', 'system_reset', 'xp/NFU ADDR', 'physmem']) {
      expect(help).toContain(c);
    }
  });

  it('info registers shows hidden segment state, descriptor tables, CRs and DRs', async () => {
    const { run } = setup();
    const r = await run('info registers');
    expect(r).toMatch(/^EAX=2badb002 /);
    expect(r).toMatch(/^CS =0008 00000000 ffffffff 00c09b00/m);
    expect(r).toMatch(/^GDT= +00009560 00000017$/m);
    expect(r).toMatch(/^CR0=00000011 CR2=00000000/m);
    expect(r).toMatch(/^DR6=ffff0ff0 DR7=00000400$/m);
  });

  it('info tb, info tb ADDR (symbol, $pc, SYM+OFF), tb flush', async () => {
    const { g, ctl, run } = setup();
    ctl.addBreakpoint(g.symbols.get('apply_order')!);
    await ctl.continue();
    await ctl.continue();
    expect(await run('info tb')).toMatch(/^TB cache: \d+ TBs .*\ntranslated: \d+ TBs, \d+ instructions, \d+ guest bytes\nchained links: .*\nflushes: 1, invalidations: \d+\nlookups: .*hit rate [\d.]+%\nTB executions/);
    const tb = await run('info tb find_item');
    expect(tb).toMatch(/^TB #\d+ pc=00100d55 /);
    expect(tb).toMatch(/executed [1-9]\d* times/);
    expect(tb).toContain('generated JavaScript:');
    expect(tb).toMatch(/links out:\n {2}out\[0\]/);
    expect(await run('info tb find_item+6')).toMatch(/pc=00100d55/);
    expect(await run('info tb $pc')).toMatch(/pc=00100d9c/);
    expect(await run('info tb nosuchsymbol')).toMatch(/^error: no symbol "nosuchsymbol"/);
    const n = g.pc.exec.tbs.size;
    expect(await run('tb flush')).toBe(`flushed ${n} TBs\n`);
    expect(g.pc.exec.tbs.size).toBe(0);
    expect(await run('tb')).toMatch(/^error: usage: tb flush/);
  });

  it('stepb runs exactly N translated blocks; icount counts retired instructions', async () => {
    const { g, run } = setup();
    expect(await run('icount')).toBe('0\n');
    const out = await run('stepb 3');
    expect(out).toMatch(/^stepped 3 blocks, (\d+) instructions/);
    const n = Number(/, (\d+) instructions/.exec(out)![1]);
    expect(await run('icount')).toBe(`${n}\n`);
    expect(g.pc.cpu.icount).toBe(n);
    // The first blocks of _start: cli..lgdt (ends at the far jump), ljmp, then the segment loads...
    expect(n).toBeGreaterThan(3);
    expect(await run('stepb 0')).toMatch(/^error: stepb: 0 is out of range/);
    expect(await run('stepb x')).toMatch(/^error: stepb: "x" is not a count/);
  });

  it('xp dumps physical memory in the formats and units asked for', async () => {
    const { g, run } = setup();
    g.pc.writePhysical(0x200000, Uint8Array.of(0x41, 0x42, 0xff, 0xff, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0));
    expect(await run('xp /4xw 0x200000')).toBe('00200000: ffff4241 00000001 00000002 00000003\n');
    expect(await run('xp /2xb 0x200000')).toBe('00200000: 41 42\n');
    expect(await run('xp /2xh 0x200000')).toBe('00200000: 4241 ffff\n');
    expect(await run('xp /1dh 0x200002')).toBe('00200002: -1\n');
    expect(await run('xp /1uh 0x200002')).toBe('00200002: 65535\n');
    expect(await run('xp /1xg 0x200000')).toBe('00200000: 00000001ffff4241\n');
    expect(await run('xp /3cb 0x200000')).toBe("00200000: 'A' 'B' '\\xff'\n");
    // /c without a unit: bytes, as QEMU's and gdb's x (it printed words).
    expect(await run('xp /3c 0x200000')).toBe("00200000: 'A' 'B' '\\xff'\n");
    expect(await run('xp 0x200004')).toBe('00200004: 00000001\n');
    // Addresses as gdb's x/i writes them, symbol offsets in hex: they can be typed back.
    expect(await run('xp /2i 0x10000c')).toBe('0x0010000c <_start>:  cli\n0x0010000d <_start+0x1>:  cld\n');
    expect(await run('xp /4xw')).toMatch(/^error: /);
    expect(await run('xp /99999xw 0')).toMatch(/^error: xp count: 99999 is out of range/);
  });

  it('info irq, pic, pit, serial, tlb, mem, breakpoints', async () => {
    const { g, ctl, run } = setup('paging');
    ctl.addBreakpoint(0x100000 + 0x10, { owner: 'ui' });
    ctl.addWatchpoint(0x40000000, 4, 'awatch');
    // Run until paging is on (the sample prints its first line then).
    for (let i = 0; i < 50 && !(g.pc.cpu.cr0 & 0x80000000); i++) await ctl.stepBlock(100);
    expect(g.pc.cpu.cr0 & 0x80000000).not.toBe(0);
    expect(await run('info irq')).toMatch(/^INTR=0 .*\nmaster: IRR=00 ISR=00 IMR=[0-9a-f]{2} base=[0-9a-f]{2}\nslave : /);
    expect(await run('info pic')).toMatch(/^INTR=0\nmaster: irr=0x0 /);
    const pit = await run('info pit');
    expect(pit).toMatch(/^channel 0: mode=/);
    // Times and counts in decimal, not as hexadecimal fractions (periodNs=0x3461859.277b434).
    expect(pit).not.toMatch(/=0x[0-9a-f]+\.[0-9a-f]/);
    expect(pit).toMatch(/periodNs=[\d.]+ /);
    expect(await run('info serial')).toMatch(/^COM1: base=0x3f8 /);
    const tlb = await run('info tlb');
    expect(tlb).toMatch(/^00000000: 00000000 -SW|^00001000: 00001000 -SW/m);
    expect(tlb).toMatch(/^00400000: 00400000 large /m);
    expect(tlb).toMatch(/software TLB: \d+ valid entries/);
    const mem = await run('info mem');
    expect(mem).toMatch(/^paging on: CR3=00110000 CR4.PSE=1 CR4.PAE=0; \d+ mapped pages/);
    expect(mem).toMatch(/^00000000-00800000 -> 00000000 -w-$/m);
    expect(await run('info breakpoints')).toBe('#1 break  00100010 <_start+0x4> (ui)\n#2 awatch 40000000 len 4\n');
    expect(await run('info')).toMatch(/^error: info what/);
    expect(await run('info nothing')).toMatch(/^error: unknown info command "nothing"/);
  });

  it('system_reset resets the machine; physmem switches the session; unknown commands are errors', async () => {
    const { g, run } = setup();
    await run('stepb 5');
    expect(await run('system_reset')).toBe('machine reset; eip 0000fff0\n');
    expect(g.pc.cpu.cr0 & 1).toBe(0);
    const s = newMonitorSession();
    expect(await run('physmem', s)).toBe('memory accesses use linear addresses\n');
    expect(await run('physmem on', s)).toBe('memory accesses use physical addresses\n');
    expect(s.physicalMemory).toBe(true);
    expect(await run('physmem off', s)).toBe('memory accesses use linear addresses\n');
    expect(await run('physmem maybe', s)).toMatch(/^error: usage/);
    expect(await run('frobnicate')).toBe('error: unknown command "frobnicate"; try "help"\n');
    expect(await run('   ')).toBe('');
  });
});
