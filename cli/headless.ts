// Headless mode: console to stdio, no UI. Runs the machine in slices on the event loop
// so serial input from stdin is served. The exit status says how the run ended; our own
// statuses are even, so none is ever an isa-debug-exit status ((value << 1) | 1 is odd):
//   isa-debug-exit write of v      (v << 1 | 1) & 0xff, as QEMU
//   ACPI S5 power-off              0 (QEMU)
//   guest reset or triple fault    with -no-reboot: 0 and a line on stderr saying which (QEMU
//                                  exits 0); without it the machine resets and runs on
//   halted for good / idle, input ended   0 (QEMU would wait forever)
//   --max-insns reached            124 (as timeout(1): the run was cut short)
//   user error                     2;  internal error 70
// With -no-shutdown, power-off and a -no-reboot reset pause the machine instead: the
// process waits (as QEMU) until it is interrupted.
import type { CliOptions } from './options.js';
import type { Guest } from './main.js';
import { shutdownText } from '../gdbstub/session.js';
import { RunClock, formatRunStats, wantRunStats } from './run-stats.js';

const SLICE = 20_000_000;

export const EXIT_MAX_INSNS = 124;

function note(msg: string): void {
  process.stderr.write(`bmbt-dbg: ${msg}\n`);
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export async function runHeadless(guest: Guest, opts: CliOptions): Promise<number> {
  const { machine, serial, debugcon, log } = guest;
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
  const clock = new RunClock();
  let end = 'error';
  try {
    for (;;) {
      const left = limit - machine.cpu.icount;
      if (left <= 0) {
        note(`stopped after ${machine.cpu.icount} instructions (--max-insns)`);
        end = 'max-insns';
        return EXIT_MAX_INSNS;
      }
      const before = machine.cpu.icount;
      const stop = clock.slice(() => machine.run(Math.min(SLICE, left)));
      serial.flush();
      debugcon.flush();
      log?.flush();
      end = stop.kind;
      switch (stop.kind) {
        case 'exit':
          return stop.code & 0xff;
        case 'power-off':
          if (opts.noShutdown) return pausedForever(`guest ${shutdownText('power-off')} after ${machine.cpu.icount} instructions; paused (-no-shutdown)`);
          note(`guest powered off (ACPI S5) after ${machine.cpu.icount} instructions`);
          return 0;
        case 'guest-reset': {
          const what = `guest ${shutdownText(stop.cause)} at ${hex(machine.cpu.pc)} after ${machine.cpu.icount} instructions`;
          if (opts.noShutdown) return pausedForever(`${what}; paused (-no-shutdown)`);
          note(`${what}; -no-reboot ends the run`);
          return 0;
        }
        case 'halted-forever':
          note(`guest halted with interrupts disabled at ${hex(machine.cpu.pc)} after ${machine.cpu.icount} instructions`);
          return 0;
        case 'triple-fault':
          // As QEMU without -no-reboot: the machine was reset and runs on.
          note(`guest triple fault; machine reset after ${machine.cpu.icount} instructions`);
          break;
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
            // input has ended and nothing happens for a long while. With -icount auto the
            // guest is waiting for wall time to reach its next timer: wait for that.
            const wallPaced = stop.waitNs !== undefined;
            if (!wallPaced) idleSlices++;
            if (stdinEnded && idleSlices > 500) {
              note('guest is idle and input has ended');
              return 0;
            }
            const ms = wallPaced ? Math.min(50, Math.max(1, Math.ceil(stop.waitNs! / 1e6))) : 2;
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, ms);
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
    log?.flush();
    if (wantRunStats()) process.stderr.write(formatRunStats(clock.stats(machine, end)));
    if (serialFromStdin) {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      stdin.unref?.();
    }
  }
}

/** -no-shutdown without a debugger: the machine stays paused until the process is stopped. */
function pausedForever(msg: string): Promise<number> {
  note(msg);
  return new Promise<number>(() => {
    setInterval(() => {}, 1 << 30);
  });
}
