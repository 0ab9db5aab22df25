// Mount the UI on a terminal: alternate screen, raw mode through Ink, resizes followed;
// whatever ends the session (q, Ctrl-C, a signal, an error) restores the terminal.
import { render } from 'ink';
import type { UiSession } from './model/ui-session.js';
import { Root } from './root.js';
import { hangUp } from './terminal.js';

const ENTER_ALT = '\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l';
const LEAVE_ALT = '\x1b[?25h\x1b[?1049l';

export interface TerminalStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/**
 * Show `session` until it quits. `quitted` resolves when the session asks to quit (its
 * onQuit); the caller wires that. Returns after the terminal is restored.
 */
export async function runTui(session: UiSession, quitted: Promise<void>, io: TerminalStreams = { stdin: process.stdin, stdout: process.stdout }): Promise<void> {
  const { stdin, stdout } = io;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {
      // The terminal may be gone already (SIGHUP).
    }
    stdout.write(LEAVE_ALT);
  };
  const onSignal = (): void => session.quit();
  const onExit = (): void => restore();
  const onResize = (): void => session.resize(stdout.columns ?? 80, stdout.rows ?? 24);
  // A write to a terminal that has gone away fails with EIO: nothing left to draw on.
  const onWriteError = (): void => {};
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', hangUp);
  process.on('SIGINT', onSignal);
  process.on('exit', onExit);
  stdout.on('resize', onResize);
  stdout.on('error', onWriteError);
  stdout.write(ENTER_ALT);
  session.resize(stdout.columns ?? 80, stdout.rows ?? 24);
  session.publishNow();
  const ink = render(<Root session={session} />, {
    stdin,
    stdout,
    exitOnCtrlC: false,
    patchConsole: true,
    // The session already caps snapshots at 30/s; Ink's own throttle would only add latency.
    maxFps: 60,
  });
  try {
    await Promise.race([quitted, ink.waitUntilExit()]);
  } finally {
    ink.unmount();
    ink.cleanup();
    stdout.off('resize', onResize);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', hangUp);
    process.off('SIGINT', onSignal);
    process.off('exit', onExit);
    restore();
    stdout.off('error', onWriteError);
  }
}
