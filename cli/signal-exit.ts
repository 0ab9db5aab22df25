// SIGINT, SIGTERM and SIGHUP end a process without its exit handlers. What must happen at
// the end of a run (drives flushed and closed, the translation cache written) registers
// here: one handler per signal runs every cleanup, then, when nothing else handles the
// signal (the terminal UI quits on it by itself), ends the process with the signal's
// status through process.exit, so the exit handlers run too.

const SIGNALS: [NodeJS.Signals, number][] = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]];
const cleanups: (() => void)[] = [];
let installed = false;

/** Run `cleanup` when a terminating signal comes (and end the run, if nobody else will). */
export function onTerminatingSignal(cleanup: () => void): void {
  cleanups.push(cleanup);
  if (installed) return;
  installed = true;
  for (const [sig, n] of SIGNALS) {
    process.on(sig, () => {
      for (const f of cleanups) {
        try {
          f();
        } catch {
          // the process is ending: the other cleanups still run
        }
      }
      if (process.listenerCount(sig) === 1) process.exit(128 + n);
    });
  }
}
