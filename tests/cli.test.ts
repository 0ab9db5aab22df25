// The command line: user errors are one line on stderr with status 2, never a stack trace;
// QEMU's spellings work; raw binaries load with --entry (exit statuses: exit-status.test.ts).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'bmbt-cli-'));

function expectUserError(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^bmbt-dbg: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('user errors are one line and exit status 2', () => {
  it('missing kernel file', async () => {
    expectUserError(await runCli(['--kernel', join(tmp, 'nope.elf')]), /no such file/);
  });
  it('a file that is not ELF and has no multiboot header', async () => {
    const f = join(tmp, 'junk.bin');
    writeFileSync(f, Buffer.alloc(4096, 0x90));
    expectUserError(await runCli(['--kernel', f]), /no multiboot header/);
  });
  it('an ELF without a multiboot header', async () => {
    expectUserError(await runCli(['--kernel', process.execPath]), /multiboot/);
  });
  it('a truncated ELF with a multiboot header', async () => {
    const f = join(tmp, 'trunc.elf');
    const b = Buffer.alloc(64);
    b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
    b.writeUInt32LE(0x1badb002, 32);
    b.writeUInt32LE(0, 36);
    b.writeUInt32LE((-0x1badb002) >>> 0, 40);
    writeFileSync(f, b);
    expectUserError(await runCli(['--kernel', f]), /ELF|segment|header/);
  });
  it('an unknown option', async () => {
    expectUserError(await runCli(['--frobnicate']), /Unknown argument/);
  });
  it('a bad memory size', async () => {
    expectUserError(await runCli(['-m', 'lots']), /-m/);
  });
  it('a bad serial backend', async () => {
    expectUserError(await runCli(['--serial', 'pipe:x']), /-serial: "pipe:x" is not/);
  });
  it('--load without --entry', async () => {
    expectUserError(await runCli(['--load', `${join(tmp, 'junk.bin')}@0x100000`]), /--entry/);
  });
  it('a missing initrd module', async () => {
    expectUserError(await runCli(['--kernel', 'samples/build/hello.elf', '--initrd', join(tmp, 'missing.img')]), /no such file/);
  });
});

describe('running', () => {
  it('accepts QEMU spellings and exits with the isa-debug-exit status', async () => {
    const r = await runCli(['-kernel', 'samples/build/hello.elf', '-m', '16', '-serial', 'stdio', '-debugcon', 'stderr']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Hello from bmbt-dbg!');
    expect(r.stderr).toContain('hello: multiboot magic 2badb002');
  });
  it('runs the embedded demo guest when no kernel is given', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('demo: done');
  });
  it('loads a raw binary with --load FILE@ADDR --entry ADDR', async () => {
    // mov al,'R'; out 0xe9,al; mov al,0x10; out 0xf4,al
    const f = join(tmp, 'raw.bin');
    writeFileSync(f, Buffer.from([0xb0, 0x52, 0xe6, 0xe9, 0xb0, 0x10, 0xe6, 0xf4]));
    const r = await runCli(['--load', `${f}@0x200000`, '--entry', '0x200000', '--debugcon', 'stdio']);
    expect(r.stdout).toBe('R');
    expect(r.code).toBe(0x21);
  });
});
