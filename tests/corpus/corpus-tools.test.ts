// The corpus's own tools: the cpio (newc) writer that makes the initramfs, and the log
// normalisation and diff the Linux comparison rests on. Fast; runs by default.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { writeCpio } from './cpio.js';
import { buildInitramfs, INIT_SCRIPT } from './fetch.js';
import { classify, diffLines, diffLogs, KNOWN_GAPS, normaliseLinuxLog, type KnownGap } from './linux-compare.js';

const DECISIONS = readFileSync(new URL('../../docs/decisions.md', import.meta.url), 'utf8');
const haveCpio = spawnSync('cpio', ['--version'], { stdio: 'ignore' }).status === 0;

describe('cpio newc writer', () => {
  it('writes the newc header, name padding, data padding and the trailer', () => {
    const a = writeCpio([{ kind: 'file', path: '/init', data: new TextEncoder().encode('abcde'), mode: 0o755 }]);
    const text = new TextDecoder('latin1').decode(a);
    // magic, ino 1, mode 0100755, uid, gid, nlink 1, mtime 0, size 5, ..., namesize 5 ("init\0")
    expect(text.slice(0, 110)).toBe('070701' + '00000001' + '000081ED' + '00000000'.repeat(2) + '00000001' + '00000000' + '00000005' + '00000000'.repeat(4) + '00000005' + '00000000');
    // 110 + 5 = 115, padded to 116; data at 116, 5 bytes, padded to 124.
    expect(text.slice(110, 116)).toBe('init\0\0');
    expect(text.slice(116, 124)).toBe('abcde\0\0\0');
    expect(text.slice(124 + 110, 124 + 110 + 11)).toBe('TRAILER!!!\0');
    expect(a.length % 4).toBe(0);
  });

  it.skipIf(!haveCpio)('is read back by GNU cpio, device nodes and symlinks included', () => {
    const a = writeCpio([
      { kind: 'dir', path: 'dev' },
      { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
      { kind: 'symlink', path: 'sh', target: 'busybox' },
    ]);
    const r = spawnSync('cpio', ['-itv', '--quiet'], { input: a, encoding: 'latin1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^drwxr-xr-x .* dev$/m);
    expect(r.stdout).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/m);
    expect(r.stdout).toMatch(/^lrwxrwxrwx .* sh -> busybox$/m);
  });

  it.skipIf(!haveCpio)('the initramfs holds /init (the corpus script), busybox and /dev/console, byte-identical each time', () => {
    const fakeBusybox = new Uint8Array([0x7f, 0x45, 0x4c, 0x46]);
    const gz = buildInitramfs(fakeBusybox);
    expect(Buffer.from(buildInitramfs(fakeBusybox)).equals(Buffer.from(gz))).toBe(true);
    const r = spawnSync('cpio', ['-itv', '--quiet'], { input: gunzipSync(gz), encoding: 'latin1' });
    expect(r.stdout).toMatch(/ init$/m);
    expect(r.stdout).toMatch(/ bin\/busybox$/m);
    expect(r.stdout).toMatch(/ 5,\s+1 .* dev\/console$/m);
    expect(r.stdout).toMatch(/ bin\/poweroff -> busybox$/m);
    expect(INIT_SCRIPT).toMatch(/^#!\/bin\/sh\n/);
  });
});

describe('Linux log normalisation and diff', () => {
  it('drops printk timestamps and CRs, tags kernel lines and /init sections', () => {
    const n = normaliseLinuxLog('[    0.000000] Linux version 6.1\r\nBOOT-OK\r\n=== pci\r\n0000:00:00.0 0x8086\r\n', 'bios');
    expect(n.ordered).toEqual(['kernel| Linux version 6.1', 'console| BOOT-OK', 'pci| === pci', 'pci| 0000:00:00.0 0x8086']);
  });

  it('replaces measured speeds and interrupt counts, not other numbers', () => {
    const n = normaliseLinuxLog([
      '[    0.1] tsc: Detected 2092.814 MHz processor',
      '[    0.2] pci 0000:00:01.3: [8086:7113] type 00 class 0x068000',
      '=== interrupts',
      '  0:         76   IO-APIC   2-edge      timer',
      '[    1.0] rtc_cmos 00:05: setting system clock to 2024-01-01T00:00:03 UTC (1704067203)',
      '[    1.1] sched_clock: Marking stable (973261941, -10752261)->(849843218, 112666462)',
    ].join('\n'), 'bios');
    expect(n.ordered).toEqual([
      'kernel| tsc: Detected # MHz processor',
      'kernel| pci 0000:00:01.3: [8086:7113] type 00 class 0x068000',
      'interrupts| === interrupts',
      'interrupts| 0: # IO-APIC 2-edge timer',
      'kernel| rtc_cmos 00:05: setting system clock to 2024-01-01T00:00:## UTC (#)',
      // The sign goes with the number (it follows which clock was read first).
      'kernel| sched_clock: Marking stable (#, #)->(#, #)',
    ]);
  });

  it('drops firmware-only lines for a direct boot only', () => {
    const log = 'SeaBIOS (version x)\n[    0.000000] Linux version 6.1\n[    0.3] PCI: PCI BIOS revision 2.10 entry at 0xfd1ca, last bus=0\n';
    expect(normaliseLinuxLog(log, 'direct').ordered).toEqual(['kernel| Linux version 6.1']);
    expect(normaliseLinuxLog(log, 'bios').ordered).toHaveLength(3);
  });

  it('finds lines present on one side only, and compares thread-timed lines as a set', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'x', 'c'])).toEqual([{ side: 'qemu', line: 'b' }, { side: 'bmbt', line: 'x' }]);
    const q = normaliseLinuxLog('[ 0.1] audit: type=2000 audit(1.2:1): x\n[ 0.2] one\n[ 0.3] two\n', 'bios');
    const b = normaliseLinuxLog('[ 0.1] one\n[ 0.2] two\n[ 0.3] audit: type=2000 audit(7.9:1): x\n', 'bios');
    expect(diffLogs(q, b)).toEqual([]);
  });

  it('classifies a known gap, and leaves any other difference unexplained', () => {
    // A table of its own (issue 9 closed every gap of KNOWN_GAPS).
    const table: KnownGap[] = [
      { id: 'flags', area: 'cpu', status: 'decision', cause: 'a CPUID difference', paths: ['bios', 'direct'], lines: [/^cpuinfo\| flags\s*:/] },
      { id: 'shadow', area: 'boot', status: 'decision', cause: 'no VGA ROM shadow', paths: ['direct'], lines: [/^kernel\| pci 0000:00:02\.0: Video device with shadowed ROM/] },
    ];
    const diffs = [
      { side: 'bmbt' as const, line: 'cpuinfo| flags\t\t: fpu vme de pse tsc msr' },
      { side: 'bmbt' as const, line: 'kernel| something new' },
      // A direct-boot-only gap does not explain a line of a boot through SeaBIOS.
      { side: 'qemu' as const, line: 'kernel| pci 0000:00:02.0: Video device with shadowed ROM at [mem 0x000c0000-0x000dffff]' },
    ];
    const c = classify(diffs, 'bios', table);
    expect(c.explained.get('flags')).toEqual([diffs[0]]);
    expect(c.unexplained).toEqual([diffs[1], diffs[2]]);
    expect(classify(diffs, 'direct', table).explained.get('shadow')).toEqual([diffs[2]]);
    // The real table explains nothing any more: every difference fails the comparison.
    expect(classify(diffs, 'bios').unexplained).toEqual(diffs);
  });

  it('has a cause for every known gap', () => {
    for (const g of KNOWN_GAPS) {
      expect(g.cause.length, g.id).toBeGreaterThan(40);
      expect(g.lines.length, g.id).toBeGreaterThan(0);
      if (g.status === 'decision') expect(g.cause, g.id).toMatch(/decisions\.md "/);
      // Every entry of decisions.md a cause names (by the start of its bold title) exists.
      for (const m of g.cause.matchAll(/decisions\.md "([^"]+?)(, \.\.\.)?"/g)) {
        expect(DECISIONS, `${g.id}: ${m[1]}`).toContain(`**${m[1]}`);
      }
    }
  });
});
