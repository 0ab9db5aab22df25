// Starts qemu-system-i386 paused with its gdb stub on a free loopback port and connects an
// RspClient to it. Cleanup is reliable: close() kills QEMU (SIGKILL after a grace
// period), and every QEMU still alive when the Node process exits is killed too.
//
// Options chosen:
//   -S                    start paused at the reset vector; the test decides when to run
//   -gdb tcp:127.0.0.1:P  stub on loopback only
//   -display none -monitor none -serial none -parallel none -nodefaults
//                         no windows, no stdio use, no NIC/VGA option ROMs (faster boot)
//   -no-reboot            a triple fault (or a guest reset) becomes a shutdown ...
//   -no-shutdown          ... and a shutdown pauses the VM instead of exiting, so the gdb
//                         client gets a stop reply (T03, SIGQUIT) instead of a closed socket
//                         and the test can report "triple fault" and read the registers.
//   -accel tcg -cpu qemu32 -m 64
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { RspClient, type RspClientOptions } from './rsp-client.js';

export const QEMU_BINARY = process.env.QEMU_I386 ?? 'qemu-system-i386';

let qemuAvailable: boolean | undefined;

/** Whether qemu-system-i386 can be run here (cached). */
export function haveQemu(): boolean {
  if (qemuAvailable === undefined) {
    const r = spawnSync(QEMU_BINARY, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    qemuAvailable = r.status === 0;
  }
  return qemuAvailable;
}

/**
 * For `describe.skipIf(...)`: true when QEMU is missing and we are not in CI. In CI
 * (CI=true) a missing QEMU is a failure, not a skip: the test then runs and fails.
 */
export function skipWithoutQemu(): boolean {
  if (haveQemu()) return false;
  if (process.env.CI) return false;
  console.warn(`[qemu] ${QEMU_BINARY} not found: QEMU-backed tests are skipped (install qemu-system-x86)`);
  return true;
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

export interface QemuOptions {
  /** Multiboot kernel for -kernel */
  kernel: string;
  /** guest RAM in MiB (64) */
  memoryMiB?: number;
  /** -cpu model (qemu32) */
  cpu?: string;
  /** more arguments, appended */
  extraArgs?: string[];
  /** client options (timeouts, log) */
  client?: RspClientOptions;
  /** ms to wait for the stub to accept connections (10000) */
  startTimeoutMs?: number;
  /** read target.xml so that p/P work (true) */
  loadTargetDescription?: boolean;
}

export interface QemuInstance {
  proc: ChildProcess;
  port: number;
  client: RspClient;
  /** QEMU's stderr so far (for error messages) */
  stderr(): string;
  /** Kills QEMU (if still running) and closes the client. Safe to call twice. */
  close(): Promise<void>;
}

export function qemuArgs(port: number, opts: QemuOptions): string[] {
  return [
    '-S',
    '-gdb', `tcp:127.0.0.1:${port}`,
    '-display', 'none',
    '-monitor', 'none',
    '-serial', 'none',
    '-parallel', 'none',
    '-nodefaults',
    '-no-reboot',
    '-no-shutdown',
    '-accel', 'tcg',
    '-cpu', opts.cpu ?? 'qemu32',
    '-m', String(opts.memoryMiB ?? 64),
    '-kernel', opts.kernel,
    ...(opts.extraArgs ?? []),
  ];
}

/** Starts QEMU paused and connects; retries on a port clash. */
export async function startQemu(opts: QemuOptions): Promise<QemuInstance> {
  let lastErr: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      lastErr = e as Error;
      if (!/in use|EADDRINUSE|Failed to bind/i.test(lastErr.message)) throw lastErr;
    }
  }
  throw lastErr!;
}

async function startOnce(opts: QemuOptions): Promise<QemuInstance> {
  if (!haveQemu()) throw new Error(`${QEMU_BINARY} is not installed (apt-get install qemu-system-x86)`);
  installExitHook();
  const port = await freePort();
  const args = qemuArgs(port, opts);
  const proc = spawn(QEMU_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(proc);
  let stderr = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (d: string) => {
    if (stderr.length < 20_000) stderr += d;
  });
  let exited: { code: number | null; signal: string | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(proc);
      resolve();
    });
    proc.once('error', (err) => {
      stderr += `\nspawn error: ${err.message}`;
      exited = { code: null, signal: null };
      live.delete(proc);
      resolve();
    });
  });

  const kill = async (): Promise<void> => {
    if (exited) return;
    proc.kill('SIGTERM');
    const t = setTimeout(() => {
      if (!exited) proc.kill('SIGKILL');
    }, 1000);
    await exitPromise;
    clearTimeout(t);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  let client: RspClient | undefined;
  while (!client) {
    if (exited) {
      throw new Error(`${QEMU_BINARY} exited (code ${exited.code}, signal ${exited.signal}) before its gdb stub accepted a connection:\n${stderr}\nargs: ${args.join(' ')}`);
    }
    try {
      client = await RspClient.connect(port, '127.0.0.1', opts.client);
    } catch (e) {
      if (Date.now() > deadline) {
        await kill();
        throw new Error(`QEMU's gdb stub on port ${port} did not accept a connection: ${(e as Error).message}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  const inst: QemuInstance = {
    proc,
    port,
    client,
    stderr: () => stderr,
    close: async () => {
      client.close();
      await kill();
    },
  };
  try {
    await client.qSupported();
    if (opts.loadTargetDescription !== false) await client.loadTargetDescription();
  } catch (e) {
    await inst.close();
    throw e;
  }
  return inst;
}
