// The command line a new user meets (issue 11, defect 18): --version, -h and --help with
// examples; --initrd without a kernel is an error, not ignored; file and socket errors in
// words, not errno names (EISDIR, ENOENT, EADDRINUSE).
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'bmbt-help-'));

function oneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\bE[A-Z]{3,}\b/);
}

describe('the command line for a new user', () => {
  it('--version and -version print the version', async () => {
    for (const flag of ['--version', '-version']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^bmbt-dbg \d+\.\d+\.\d+/);
    }
  });

  it('-h is --help, and the help has examples', async () => {
    const h = await runCli(['-h']);
    expect(h.code).toBe(0);
    const help = await runCli(['--help']);
    expect(h.stdout).toBe(help.stdout);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/--gdb 1234/);
    expect(help.stdout).toMatch(/--bios/);
  });

  it('--initrd without a kernel is an error', async () => {
    oneLineError(await runCli(['--initrd', 'samples/build/hello.elf']), /--initrd needs --kernel/);
  });

  it('errors say what is wrong in words', async () => {
    oneLineError(await runCli(['--kernel', tmp]), /is a directory/);
    oneLineError(await runCli(['--kernel', 'samples/build/hello.elf', '--serial', `file:${join(tmp, 'no', 'such', 'dir', 'out.txt')}`]), /no such file or directory/);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      oneLineError(await runCli(['--ui', 'none', '--gdb', `127.0.0.1:${port}`, '--kernel', 'samples/build/hello.elf']), /in use/);
    } finally {
      busy.close();
    }
  });
});
