// Mount the UI on a terminal: the alternate screen (the user's screen and scrollback stay
// as they were), raw mode through Ink, resizes followed, and only the rows that changed
// written (FrameWriter); whatever ends the session (q, Ctrl-C, a signal, an error)
// restores the terminal.
import { render } from 'ink';
import type { UiSession } from './model/ui-session.js';
import { Root } from './root.js';
import { hangUp } from './terminal.js';
import { FrameWriter } from './frame-writer.js';

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
export async function runTui(session: UiSession, quitted: Promise<void>, io: TerminalStreams = { stdin: process.stdin, stdout: process.stdout }): Promise<FrameWriter> {
  const { stdin, stdout } = io;
  let restored = false;
  const frames = new FrameWriter(stdout);
  frames.onFrame = () => session.frameDrawn();
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
  const onResize = (): void => {
    // The terminal moved or cut what was on it: draw everything again.
    frames.invalidate();
    session.resize(stdout.columns ?? 80, stdout.rows ?? 24);
  };
  // A write to a terminal that has gone away fails with EIO: nothing left to draw on.
  const onWriteError = (): void => {};
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', hangUp);
  process.on('SIGINT', onSignal);
  process.on('exit', onExit);
  // Before Ink's own resize listener (on the same stream), so Ink's redraw is a full one.
  stdout.on('resize', onResize);
  stdout.on('error', onWriteError);
  stdout.write(ENTER_ALT);
  session.resize(stdout.columns ?? 80, stdout.rows ?? 24);
  session.publishNow();
  const ink = render(<Root session={session} />, {
    stdin,
    stdout: frames.inkStdout(stdout),
    exitOnCtrlC: false,
    // Debug mode: Ink hands each frame to FrameWriter instead of drawing it itself.
    debug: true,
    patchConsole: false,
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
  return frames;
}
