// Issue 9: `-cpu NAME` (and `--cpu`) picks one of QEMU's CPU models; `-cpu help` lists them
// as QEMU does; an unknown name is one line on stderr and exit status 2.
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const PROBE = 'tests/guests/build/cpu-probe.elf';

describe('-cpu', () => {
  it('-cpu help lists the models in QEMU\'s layout, the default marked', async () => {
    const r = await runCli(['-cpu', 'help']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Available CPUs:');
    expect(lines.slice(1).map((l) => l.split(/\s+/)[1])).toEqual(['pentium', 'pentium2', 'pentium3', 'qemu32']);
    expect(r.stdout).toMatch(/^x86 pentium2 +\(default\)$/m);
    expect(r.stdout).toMatch(/^x86 qemu32 +QEMU Virtual CPU version 2\.5\+$/m);
  });

  it('an unknown model is one line and exit status 2', async () => {
    const r = await runCli(['-cpu', 'pentium4']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^bmbt-dbg: -cpu: unknown CPU model "pentium4"/);
  });

  it('the guest sees the model it was given (-cpu and --cpu), pentium2 by default', async () => {
    const sig = async (args: string[]) => {
      const r = await runCli([...args, '--kernel', PROBE, '-append', 'cpuid', '--debugcon', 'stdio', '--serial', 'none']);
      expect(r.code).toBe(1); // isa-debug-exit 0
      return /^cpuid 00000001\.00 (\S+)/m.exec(r.stdout)?.[1];
    };
    expect(await sig(['-cpu', 'pentium'])).toBe('00000543');
    expect(await sig(['--cpu', 'qemu32'])).toBe('00000663');
    expect(await sig(['-cpu', 'pentium3-v1'])).toBe('00000673');
    expect(await sig([])).toBe('00000652');
  });
});
