// The guest's console on the process's stdio for a run without the terminal UI (headless,
// or under gdb): stdin goes to COM1 as it arrives, and output leaves at the end of every
// run slice (about every 10 ms while the guest runs) and at every stop, so kernel lines
// arrive as the guest writes them and a shell echoes keys at once.
import type { CliOptions } from './options.js';
import type { Guest } from './guest.js';
import type { DebugTarget } from '../src/debug/target.js';

export interface StdioConsole {
  /** Whether stdin has ended (or was never the guest's input). */
  readonly inputEnded: boolean;
  flush(): void;
  /** Detach from the controller and from stdin. */
  close(): void;
}

export function attachStdioConsole(ctl: DebugTarget, guest: Guest, opts: CliOptions): StdioConsole {
  const flush = (): void => {
    guest.serial.flush();
    guest.debugcon.flush();
    guest.log?.flush();
  };
  const unsubscribe = ctl.subscribe((e) => {
    if (e.type === 'slice' || e.type === 'stop') flush();
  });
  const stdin = process.stdin;
  const fromStdin = opts.serial.kind === 'stdio';
  let ended = !fromStdin;
  const onData = (d: Buffer): void => ctl.serialInput(d);
  const onEnd = (): void => {
    ended = true;
    // A guest waiting for input learns that none will come.
    ctl.kick();
  };
  if (fromStdin) {
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onEnd);
  }
  return {
    get inputEnded() {
      return ended;
    },
    flush,
    close() {
      unsubscribe();
      flush();
      guest.serial.finish();
      if (fromStdin) {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.off('error', onEnd);
        stdin.pause();
        stdin.unref?.();
      }
    },
  };
}
