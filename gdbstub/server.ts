// The gdb server: a TCP listener (127.0.0.1 unless told otherwise) that serves one gdb at a
// time on the debugger controller. A second connection gets a clear refusal and the
// first session goes on. Both front ends (the headless gdb session and the terminal UI)
// start it through startGdbServer.
import * as net from 'node:net';
import type { DebugTarget } from '../src/debug/target.js';
import { UserError, systemErrorText } from '../src/user-error.js';
import { GdbSession } from './session.js';
import { frame } from './packet.js';

export interface GdbServerOptions {
  /** One-line notes for the user: listening, attached, detached, refused. */
  note?: (msg: string) => void;
  /** Every packet in and out. */
  trace?: (dir: '<-' | '->', text: string) => void;
}

export interface GdbServer {
  readonly host: string;
  readonly port: number;
  /** True while a gdb is connected. */
  readonly attached: boolean;
  /** Connections served so far (refusals not counted). */
  readonly sessions: number;
  /** Resolves when no gdb is connected (at once if none is). */
  whenDetached(): Promise<void>;
  /** Stops listening and ends the current connection (after flushing what was sent). */
  close(): Promise<void>;
}

/** How long a new connection waits for the current one to be seen closed before it is refused. */
const ATTACH_GRACE_MS = 250;

export const REFUSAL = 'E.bmbt-dbg: another debugger is already attached to this machine; detach it first';

export async function startGdbServer(
  ctl: DebugTarget,
  where: { host?: string; port: number },
  opts: GdbServerOptions = {},
): Promise<GdbServer> {
  const host = where.host ?? '127.0.0.1';
  let current: GdbSession | null = null;
  let sessions = 0;
  let detachedWaiters: (() => void)[] = [];
  const sockets = new Set<net.Socket>();

  const detached = (): Promise<void> =>
    !current || current.isClosed ? Promise.resolve() : new Promise<void>((r) => detachedWaiters.push(r));

  const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    void admit(socket);
  });
  server.maxConnections = 16;

  /**
   * A gdb that disconnected (even in the middle of a packet) and reconnected at once may
   * find its old connection not yet seen closed: the new connection is accepted in the
   * same turn of the event loop as the old one's end is read. It waits for the old one
   * for a moment before it is refused; its bytes wait (the socket is paused until then).
   */
  const admit = async (socket: net.Socket): Promise<void> => {
    if (current && !current.isClosed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([detached(), new Promise<void>((r) => (timer = setTimeout(r, ATTACH_GRACE_MS)))]);
      clearTimeout(timer);
    }
    if (socket.destroyed) return;
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (current && !current.isClosed) {
      opts.note?.(`refused a second gdb connection from ${peer}: one debugger at a time`);
      socket.resume();
      refuse(socket);
      return;
    }
    sessions++;
    opts.note?.(`gdb connected from ${peer}`);
    const s = new GdbSession(ctl, socket, {
      note: opts.note,
      trace: opts.trace,
      onClose: () => {
        if (current === s) current = null;
        const w = detachedWaiters;
        detachedWaiters = [];
        for (const f of w) f();
      },
    });
    current = s;
    socket.resume();
  };

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(new UserError(`--gdb: cannot listen on ${host}:${where.port}: ${systemErrorText(e)}`));
    };
    server.once('error', onError);
    server.listen({ host, port: where.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => opts.note?.(`gdb server: ${e.message}`));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : where.port;

  return {
    host,
    port,
    get attached() {
      return current !== null && !current.isClosed;
    },
    get sessions() {
      return sessions;
    },
    whenDetached() {
      return detached();
    },
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      current?.close();
      // Give the peers a moment to read what was sent (W, X), then cut.
      const deadline = Date.now() + 500;
      while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** The refused client gets one error reply to its first packet and the connection ends. */
function refuse(socket: net.Socket): void {
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    socket.write('+');
    socket.end(frame(Buffer.from(REFUSAL, 'latin1')));
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  socket.on('data', (d: Buffer) => {
    if (d.includes(0x23)) finish(); // the end of the client's first packet
  });
  socket.on('error', () => socket.destroy());
  setTimeout(finish, 2000).unref();
}
