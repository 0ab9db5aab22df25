// Issue 16: a resumed target is always stoppable, also after disconnects and reconnects,
// and a disconnect in the middle of a packet leaves the server ready for the next gdb at
// once. Seen by an independent fuzzer: a `c` after a disconnect/reconnect sequence got
// no stop reply at all to a later Ctrl-C; `$Z1,757028` then EOF left the server refusing
// new connections for a while.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../support/cli.js';
import { RspClient, framePacket } from '../support/rsp-client.js';
import { PcMachine } from '../../src/machine/pc-machine.js';
import { loadBootSector } from '../../src/boot/boot-sector.js';
import { DebugController } from '../../src/debug/controller.js';
import { startGdbServer, REFUSAL, type GdbServer } from '../../gdbstub/server.js';

let m: PcMachine;
let ctl: DebugController;
let server: GdbServer;
const clients: RspClient[] = [];

async function connect(): Promise<RspClient> {
  const c = await RspClient.connect(server.port, '127.0.0.1', { timeoutMs: 3000 });
  clients.push(c);
  return c;
}

function rawSocket(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port: server.port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

beforeEach(async () => {
  // x87 divisions for ever: slow instructions, never a stop of its own.
  m = new PcMachine({});
  loadBootSector(m.phys, m.cpu, new Uint8Array(readFileSync(join(REPO, 'tests/guests/build/stop-x87.img'))), 'x87');
  ctl = new DebugController(m);
  server = await startGdbServer(ctl, { port: 0 });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  if (ctl.state === 'running') await ctl.pause('test');
  await server.close();
});

describe('a resumed target is always stoppable', () => {
  it('c and Ctrl-C in one write: the interrupt stops the run the c started', async () => {
    const c = await connect();
    await c.qSupported();
    c.sendRaw(Uint8Array.from([...framePacket('c'), 0x03]));
    const stop = await c.waitStop(3000);
    expect(stop.signal).toBe(2);
    expect(ctl.state).toBe('stopped');
  });

  it('disconnect while running, reconnect, c, Ctrl-C: a stop reply every time', async () => {
    for (let round = 0; round < 10; round++) {
      const a = await connect();
      await a.qSupported();
      // Running when we came (the previous round left it so): attaching stopped it.
      expect(ctl.state).toBe('stopped');
      const running = a.cont();
      await new Promise((r) => setTimeout(r, 10 + round * 5));
      a.interrupt();
      expect((await running).signal).toBe(2);
      a.sendRaw(framePacket('c'));
      if (round % 2) a.interrupt(); // and gone before the stop reply
      a.close();
      await server.whenDetached();
      if (round % 2 === 0) expect(ctl.state).toBe('running'); // as QEMU: the guest runs on
      else await ctl.pause('test').then(() => ctl.resume('test'));
    }
  }, 60_000);

  it('a disconnect in the middle of a packet: the next gdb attaches at once', async () => {
    for (let i = 0; i < 20; i++) {
      const s = await rawSocket();
      s.write('+$Z1,757028');
      s.end();
      const c = await connect();
      // Not refused: the first reply is a real answer.
      const r = await c.request('?');
      expect(r).not.toBe(REFUSAL);
      expect(r).toMatch(/^T/);
      c.close();
      await server.whenDetached();
    }
  });
});
