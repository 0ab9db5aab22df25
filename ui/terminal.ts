// What every full-screen front end (the Ink UI, the dashboard) does about its terminal.

/**
 * The terminal hung up: there is nothing to restore, and a normal exit would make Node
 * reset a terminal that is gone (it aborts on EIO). End by the signal's default action.
 */
export function hangUp(): void {
  process.removeAllListeners('SIGHUP');
  process.kill(process.pid, 'SIGHUP');
}
