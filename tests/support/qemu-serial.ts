// Run qemu-system-i386 to completion with COM1 on stdout (isa-debug-exit at 0xF4 ends
// it), as a user runs a test kernel: for guests that print their results.
import { spawn } from 'node:child_process';
import { QEMU_BINARY } from './qemu.js';

export interface QemuSerialResult {
  code: number | null;
  serial: string;
  stderr: string;
}

/** QEMU with `args` after the common ones; killed after `timeoutMs` (the result says so). */
export function runQemuSerial(args: string[], timeoutMs = 30_000): Promise<QemuSerialResult> {
  return new Promise((resolve, reject) => {
    const q = spawn(QEMU_BINARY, [
      '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-accel', 'tcg',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', ...args,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    let stderr = '';
    q.stdout.setEncoding('latin1').on('data', (d: string) => (serial += d));
    q.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += '\n(killed: time limit)';
      q.kill('SIGKILL');
    }, timeoutMs);
    q.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    q.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, serial, stderr });
    });
  });
}
