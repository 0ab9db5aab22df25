// Comparing a Linux boot log from bmbt-dbg with QEMU's, line by line.
//
// The serial log is normalised (the rules below, each with its reason; README's
// "Testing" section lists them too), diffed (longest common subsequence), and every line
// that differs is either matched by an entry of KNOWN_GAPS, the table of differences
// that another part of issue 9 is fixing, or reported as a failure. Nothing else is
// dropped or rewritten.
import type { LinuxPath } from './boot-run.js';

/** The corpus items compared line by line: Linux through SeaBIOS or direct, iPXE's screen. */
export type CorpusCase = LinuxPath | 'ipxe';

export type Side = 'qemu' | 'bmbt';

/** One line present on one side only. `line` carries its section: "kernel| ...", "cpuinfo| ...". */
export interface LineDiff {
  side: Side;
  line: string;
}

// ---- normalisation ---------------------------------------------------------------------

/** A printk timestamp: the line is the kernel's. */
const PRINTK_TIME = /^\[\s*\d+\.\d+\] /;

/**
 * N3. Numbers (with their sign) replaced by '#' in lines that report a measured speed or
 * duration: the TSC frequency (1 GHz on both, QEMU running with -icount shift=0, but
 * measured against a timer over a different number of instructions) and what is derived
 * from it (BogoMIPS, lpj, clocksource max_cycles/max_idle_ns, sched_clock
 * offsets, whose sign follows which clock was read first, /proc/cpuinfo's "cpu MHz" and
 * "bogomips").
 */
const TIMING_NUMBERS: RegExp[] = [
  /^kernel\| tsc: Detected [\d.]+ MHz processor$/,
  /^kernel\| tsc: Refined TSC clocksource calibration: [\d.]+ MHz$/,
  /^kernel\| clocksource: tsc(-early)?: mask: /,
  /^kernel\| Calibrating delay loop /,
  /^kernel\| smpboot: Total of \d+ processors activated /,
  /^kernel\| sched_clock: Marking stable /,
  /^cpuinfo\| (cpu MHz|bogomips)\s*:/,
];

/**
 * N6. Lines printed by work that runs after a delay in guest time or by another kernel
 * thread (kauditd, the TSC refinement work, the clocksource switch it triggers, the
 * initramfs unpacking, which runs as asynchronous work): their
 * position among the other lines follows guest time, so they are compared as a multiset,
 * not by position.
 */
const UNORDERED = [
  /^kernel\| audit: type=2000 /,
  /^kernel\| tsc: Refined TSC clocksource calibration/,
  /^kernel\| clocksource: tsc: mask/,
  /^kernel\| clocksource: Switched to clocksource /,
  /^kernel\| Trying to unpack rootfs image as initramfs\.\.\.$/,
];

/**
 * N7 (direct boot only). Under QEMU a "direct" boot still runs SeaBIOS before the kernel;
 * bmbt-dbg without --bios runs no firmware at all (that is what the option means), though
 * it leaves what SeaBIOS leaves (tables, PCI resources, the VGA ROM at 0xC0000). Lines
 * that only report firmware services go: SeaBIOS's own output before the kernel's first
 * line, the PCI BIOS and PnP BIOS probes, the BIOS ROM's reserved range, the option ROM
 * that loaded the kernel (QEMU's linuxboot_dma.bin, after the VGA ROM).
 */
const FIRMWARE_ONLY = [
  /^kernel\| PCI: PCI BIOS revision /,
  /^kernel\| PnPBIOS: /,
  /^kernel\| BIOS-e820: \[mem 0x00000000fffc0000-0x00000000ffffffff\] reserved$/,
  /^iomem\| fffc0000-ffffffff : Reserved$/,
  /^iomem\| 000c\w+-000c\w+ : Adapter ROM$/,
];

export interface NormalisedLog {
  ordered: string[];
  unordered: string[];
}

/**
 * N1: carriage returns and trailing blanks go (the console's line discipline).
 * N2: printk timestamps go (guest time: 1 ns per instruction on both, but the two run
 *     different instruction counts to each line: firmware, CPU features, code paths); a
 *     timestamp marks the line as the kernel's ("kernel|").
 * N3, N6, N7 as above.
 * N4: /proc/interrupts counts become '#' (they count elapsed time and console traffic).
 * N5: seconds of wall-clock time go from the RTC line and the audit stamp (QEMU runs with
 *     -rtc base= bmbt-dbg's fixed start date; the seconds elapsed by then differ).
 */
export function normaliseLinuxLog(raw: string, path: LinuxPath): NormalisedLog {
  let text = raw.replace(/\r/g, '');
  if (path === 'direct') {
    // N7: SeaBIOS's screen mirrored on COM1 before the kernel's first line.
    const at = text.indexOf('[    0.000000] Linux version');
    if (at > 0) text = text.slice(at);
  }
  const ordered: string[] = [];
  const unordered: string[] = [];
  // Console output that is not the kernel's: SeaBIOS's screen mirror, then /init's
  // sections, each opened by its "=== name" line.
  let section = 'console';
  for (let raw1 of text.split('\n')) {
    raw1 = raw1.replace(/\s+$/, '');
    if (raw1 === '') continue;
    let line: string;
    const kernel = PRINTK_TIME.test(raw1);
    if (kernel) {
      line = raw1.replace(PRINTK_TIME, '');
      line = `kernel| ${line}`;
    } else {
      const header = /^=== (\w+)$/.exec(raw1);
      if (header) section = header[1]!;
      line = `${section}| ${raw1}`;
    }
    if (path === 'direct' && FIRMWARE_ONLY.some((r) => r.test(line))) continue;
    if (TIMING_NUMBERS.some((r) => r.test(line))) line = line.replace(/-?(0x[0-9a-f]+|\d+(\.\d+)?)/g, '#');
    if (line.startsWith('interrupts| ')) {
      // "  0:        76   IO-APIC   2-edge      timer" -> "0: # IO-APIC 2-edge timer"
      line = line.replace(/^(interrupts\|\s+\w+:)\s+\d+/, '$1 #').replace(/\s+/g, ' ');
    }
    line = line
      .replace(/(setting system clock to \d{4}-\d\d-\d\dT\d\d:\d\d:)\d\d( UTC \()\d+\)/, '$1##$2#)')
      .replace(/audit\(\d+\.\d+:(\d+)\)/, 'audit(#:$1)');
    (UNORDERED.some((r) => r.test(line)) ? unordered : ordered).push(line);
  }
  return { ordered, unordered };
}

// ---- diff ------------------------------------------------------------------------------

/** Lines of `a` (QEMU) and `b` (bmbt-dbg) outside their longest common subsequence. */
export function diffLines(a: readonly string[], b: readonly string[]): LineDiff[] {
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const lcs = new Int32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const out: LineDiff[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
      out.push({ side: 'qemu', line: a[i++]! });
    } else {
      out.push({ side: 'bmbt', line: b[j++]! });
    }
  }
  return out;
}

/** Ordered diff plus the multiset difference of the unordered lines. */
export function diffLogs(qemu: NormalisedLog, bmbt: NormalisedLog): LineDiff[] {
  const out = diffLines(qemu.ordered, bmbt.ordered);
  const left = [...bmbt.unordered];
  for (const l of qemu.unordered) {
    const k = left.indexOf(l);
    if (k >= 0) left.splice(k, 1);
    else out.push({ side: 'qemu', line: l });
  }
  for (const l of left) out.push({ side: 'bmbt', line: l });
  return out;
}

// ---- known gaps ------------------------------------------------------------------------

/** The part of bmbt-dbg a gap lives in. */
export type Area = 'cpu' | 'board' | 'boot';

export interface KnownGap {
  /** short name, shown in failures */
  id: string;
  area: Area;
  /**
   * 'decision': a deliberate difference recorded in docs/decisions.md (`cause` names the
   * entry by its title; the lead renumbers entries); 'open': a difference nobody has
   * fixed yet, reported to the lead.
   */
  status: 'decision' | 'open';
  /** why the lines differ, as measured */
  cause: string;
  paths: readonly CorpusCase[];
  /**
   * line patterns (with their "section| " prefix); a differing line on either side. A
   * line goes to the first entry that matches it, in table order.
   */
  lines: readonly RegExp[];
}

const BOTH: readonly CorpusCase[] = ['bios', 'direct'];

/**
 * KNOWN GAPS: every difference between bmbt-dbg and QEMU that the comparison tolerates,
 * with its cause, measured on the Debian 686 kernel. A differing line matched here does
 * not fail the comparison; every other differing line does. When a fix lands, delete its
 * entry: the test "every known gap still occurs" fails for an entry that no longer
 * matches anything, so the table cannot rot.
 */
export const KNOWN_GAPS: readonly KnownGap[] = [
];

export interface Classified {
  /** differing lines explained by a known gap, by gap id */
  explained: Map<string, LineDiff[]>;
  /** differing lines nothing explains: each one fails the comparison */
  unexplained: LineDiff[];
}

/** `table`: the known gaps (KNOWN_GAPS; a test gives its own). */
export function classify(diffs: readonly LineDiff[], path: CorpusCase, table: readonly KnownGap[] = KNOWN_GAPS): Classified {
  const gaps = table.filter((g) => g.paths.includes(path));
  const explained = new Map<string, LineDiff[]>(gaps.map((g) => [g.id, []]));
  const unexplained: LineDiff[] = [];
  for (const d of diffs) {
    const g = gaps.find((x) => x.lines.some((r) => r.test(d.line)));
    if (g) explained.get(g.id)!.push(d);
    else unexplained.push(d);
  }
  return { explained, unexplained };
}

/**
 * The parts of the log the tests report separately (a line goes to the first that
 * matches; "rest" takes the others), so a failure names the area that differs.
 */
export const CATEGORIES: readonly { name: string; match: RegExp }[] = [
  { name: 'CPU lines', match: /^kernel\| (smpboot|x86|CPU|mce|microcode|Performance Events|Failed to access perfctr|ITS|Spectre|MDS|MMIO|SRBDS|RETBleed|Speculative|Last level|tsc|Calibrating|TAA|GDS|Register File|process)\b|^kernel\| (Disabled|CPU MTRRs)/ },
  { name: '/proc/cpuinfo', match: /^cpuinfo\| / },
  { name: 'ACPI and firmware tables', match: /^kernel\| (ACPI|acpi|DMI|SMBIOS|BIOS-e820|PnPBIOS|pnp|PCI: Using ACPI)|^pnp\| / },
  { name: 'APIC and interrupt routing', match: /^kernel\| (.*APIC|IOAPIC|\.\.TIMER|NR_IRQS|Found and enabled local APIC)|^interrupts\| / },
  { name: 'PCI devices', match: /^kernel\| (pci|PCI)|^pci\| / },
  { name: 'clock sources and timers', match: /^kernel\| (clocksource|hpet|sched_clock)|^clocksource\| / },
  { name: 'I/O and memory resources', match: /^(ioports|iomem)\| / },
];

export function categoryOf(line: string): string {
  return CATEGORIES.find((c) => c.match.test(line))?.name ?? 'rest of the log';
}

export function formatDiffs(diffs: readonly LineDiff[]): string {
  return diffs.map((d) => `${d.side === 'qemu' ? '- qemu' : '+ bmbt'}  ${d.line}`).join('\n');
}
