// Headless mode: the debugger controller with no front end, its console on stdio. The
// exit status says how the run ended; our own statuses are even, so none is ever an
// isa-debug-exit status ((value << 1) | 1 is odd):
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
import { guestController, type Guest } from './guest.js';
import type { DebugTarget, StopReason } from '../src/debug/target.js';
import { describeStop, stopContext } from '../src/debug/describe-stop.js';
import { attachStdioConsole } from './stdio-console.js';
import { RunClock, formatRunStats, wantRunStats } from './run-stats.js';

export const EXIT_MAX_INSNS = 124;

export function note(msg: string): void {
  process.stderr.write(`bmbt-dbg: ${msg}\n`);
}

/** The stop as the one-line note of a run without the UI (with the instruction count). */
export function stopNote(ctl: DebugTarget, r: StopReason): string {
  return describeStop(r, stopContext(ctl, true));
}

/** The `end` field of the run statistics. */
function runEnd(r: StopReason): string {
  switch (r.kind) {
    case 'exited': return r.why === 'power-off' ? 'power-off' : r.why === 'reset' ? 'guest-reset' : 'exit';
    case 'halted': return 'halted-forever';
    case 'budget': return 'max-insns';
    default: return r.kind;
  }
}

export async function runHeadless(guest: Guest, opts: CliOptions): Promise<number> {
  const clock = new RunClock();
  const replayer = guest.timeTravel?.replayer ?? null;
  let io: ReturnType<typeof attachStdioConsole> | null = null;
  const ctl = guestController(guest, {
    maxInsns: opts.maxInsns, noShutdown: opts.noShutdown,
    // A replay takes its input from the recording: it has not ended while some is to come.
    inputEnded: () => (io?.inputEnded ?? true) && (replayer === null || replayer.pending === 0),
    timeSlice: (run) => clock.slice(run),
  });
  io = attachStdioConsole(ctl, guest, opts);
  let end = 'error';
  let resets = 0;
  try {
    for (;;) {
      ctl.resume('start');
      const r = await ctl.waitForStop();
      end = runEnd(r);
      switch (r.kind) {
        case 'exited':
          if (r.why) note(stopNote(ctl, r));
          return r.code & 0xff;
        case 'shutdown':
          return pausedForever(stopNote(ctl, r));
        case 'halted':
        case 'idle':
          note(stopNote(ctl, r));
          return 0;
        case 'budget':
          note(stopNote(ctl, r));
          return EXIT_MAX_INSNS;
        case 'triple-fault':
          // As QEMU without -no-reboot: the machine was reset and runs on. A guest that
          // triple-faults again after every reset would flood stderr (QEMU says nothing):
          // the first one is told, the rest counted at the end.
          if (resets++ === 0) note(stopNote(ctl, r));
          break;
        case 'killed':
          return 0;
        default:
          // Nothing else stops a run without a debugger.
          break;
      }
    }
  } finally {
    if (resets > 1) note(`${resets - 1} more triple fault${resets > 2 ? 's' : ''} reset the machine`);
    io.close();
    if (wantRunStats()) process.stderr.write(formatRunStats(clock.stats(ctl, end)));
  }
}

/** -no-shutdown without a debugger: the machine stays paused until the process is stopped. */
function pausedForever(msg: string): Promise<number> {
  note(msg);
  return new Promise<number>(() => {
    setInterval(() => {}, 1 << 30);
  });
}
