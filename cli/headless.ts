// Headless mode: console to stdio, no UI. Runs the machine in slices on the event loop
// so serial input from stdin is served; exits with the guest's isa-debug-exit status.
import type { CliOptions } from './options.js';
import type { Guest } from './main.js';

const SLICE = 20_000_000;

function note(msg: string): void {
  process.stderr.write(`bmbt-dbg: ${msg}\n`);
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export async function runHeadless(guest: Guest, opts: CliOptions): Promise<number> {
  const { machine, serial, debugcon } = guest;
  let stdinEnded = false;
  let wake: (() => void) | null = null;
  const stdin = process.stdin;
  const onData = (d: Buffer): void => {
    machine.serialInput(d);
    wake?.();
  };
  const onEnd = (): void => {
    stdinEnded = true;
    wake?.();
  };
  const serialFromStdin = opts.serial.kind === 'stdio';
  if (serialFromStdin) {
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onEnd);
  } else stdinEnded = true;
  const limit = opts.maxInsns ?? Infinity;
  let idleSlices = 0;
  try {
    for (;;) {
      const left = limit - machine.cpu.icount;
      if (left <= 0) {
        note(`stopped after ${machine.cpu.icount} instructions (--max-insns)`);
        return 0;
      }
      const before = machine.cpu.icount;
      const stop = machine.run(Math.min(SLICE, left));
      serial.flush();
      debugcon.flush();
      switch (stop.kind) {
        case 'exit':
          return stop.code & 0xff;
        case 'power-off':
          note(`guest powered off (ACPI S5) after ${machine.cpu.icount} instructions`);
          return 0;
        case 'halted-forever':
          note(`guest halted with interrupts disabled at ${hex(machine.cpu.pc)} after ${machine.cpu.icount} instructions`);
          return 0;
        case 'triple-fault':
          note(`guest triple fault; machine reset after ${machine.cpu.icount} instructions`);
          return 1;
        case 'idle':
          if (stdinEnded) {
            note('guest is waiting for input and input has ended');
            return 0;
          }
          await new Promise<void>((r) => (wake = r));
          wake = null;
          break;
        case 'budget':
          if (stop.halted && machine.cpu.icount === before) {
            // Halted between timer ticks that cannot wake it: pace, and give up once
            // input has ended and nothing happens for a long while.
            idleSlices++;
            if (stdinEnded && idleSlices > 500) {
              note('guest is idle and input has ended');
              return 0;
            }
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 2);
            });
            wake = null;
          } else {
            idleSlices = 0;
            await new Promise<void>((r) => setImmediate(r));
          }
          break;
        case 'breakpoint':
        case 'watchpoint':
        case 'exit-request':
          break;
      }
    }
  } finally {
    serial.flush();
    debugcon.flush();
    if (serialFromStdin) {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      stdin.unref?.();
    }
  }
}
