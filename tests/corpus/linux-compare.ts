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
 * thread (kauditd, the TSC refinement work, the clocksource switch it triggers): their
 * position among the other lines follows guest time, so they are compared as a multiset,
 * not by position.
 */
const UNORDERED = [
  /^kernel\| audit: type=2000 /,
  /^kernel\| tsc: Refined TSC clocksource calibration/,
  /^kernel\| clocksource: tsc: mask/,
  /^kernel\| clocksource: Switched to clocksource /,
];

/**
 * N7 (direct boot only). Under QEMU a "direct" boot still runs SeaBIOS before the kernel;
 * bmbt-dbg without --bios runs no firmware at all (that is what the option means). Lines
 * that only report firmware services go: SeaBIOS's own output before the kernel's first
 * line, the PCI BIOS and PnP BIOS probes, the BIOS ROM's reserved range, the option ROMs
 * SeaBIOS copied to 0xC0000.
 */
const FIRMWARE_ONLY = [
  /^kernel\| PCI: PCI BIOS revision /,
  /^kernel\| PnPBIOS: /,
  /^kernel\| BIOS-e820: \[mem 0x00000000fffc0000-0x00000000ffffffff\] reserved$/,
  /^iomem\| fffc0000-ffffffff : Reserved$/,
  /^iomem\| 000c0000-000c\w+ : Video ROM$/,
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

export type Owner = 'cpu' | 'board' | 'boot' | 'unassigned';

export interface KnownGap {
  /** short name, shown in failures */
  id: string;
  /** who is fixing it: the helper's area in issue 9, or 'unassigned' (reported to the lead) */
  owner: Owner;
  /** the issue-9 bullet (or finding) it belongs to */
  bullet: string;
  paths: readonly CorpusCase[];
  /** line patterns (with their "section| " prefix); a differing line on either side */
  lines: readonly RegExp[];
}

const BOTH: readonly CorpusCase[] = ['bios', 'direct'];

/**
 * KNOWN GAPS: differences between bmbt-dbg and QEMU that are being fixed elsewhere in
 * issue 9, measured on the Debian 686 kernel. A differing line matched here does not
 * fail the comparison; every other differing line does. When a fix lands, delete its
 * entry: the test "every known gap still occurs" fails for an entry that no longer
 * matches anything, so the table cannot rot.
 */
export const KNOWN_GAPS: readonly KnownGap[] = [
  {
    id: 'cpu-model',
    owner: 'cpu',
    bullet: 'Build 2: -cpu pentium2 etc. with "CPUID and MSR sets as QEMU\'s models" (bmbt-dbg\'s Pentium II lacks MMX, MCE/MCA, PSE36, the hypervisor bit and has VME, an L2 size of 512 KiB and leaf-2 TLB descriptors)',
    paths: BOTH,
    lines: [
      /^cpuinfo\| (flags|bugs|cache size|microcode|cpuid level)\s*:/,
      /^kernel\| ITS: Vulnerable$/,
      /^kernel\| Last level [di]TLB entries: /,
      /^kernel\| mce: Unable to init MCE device/,
      /^kernel\| microcode: /,
      /^kernel\| x86\/PAT: /,
      /^kernel\| (Disabled|CPU MTRRs all blank - virtualized system\.)$/,
      /^interrupts\| MCP: # Machine check polls$/,
    ],
  },
  {
    id: 'p6-pmu-msrs',
    owner: 'cpu',
    bullet: 'P6 performance-counter MSRs (0xC1/0xC2, 0x186/0x187) raise #GP: "Broken PMU hardware detected"',
    paths: BOTH,
    lines: [/^kernel\| Performance Events: /, /^kernel\| Failed to access perfctr msr /],
  },
  {
    id: 'acpi-tables',
    owner: 'board',
    bullet: 'ACPI tables over fw_cfg (etc/table-loader, etc/acpi/tables, etc/acpi/rsdp) and in memory for a direct boot: QEMU\'s RSDT/FADT/DSDT/MADT/HPET/WAET, PM base 0x600, the 128 KiB reserved at the top of RAM',
    paths: BOTH,
    lines: [
      /^kernel\| ACPI: (RSDP|RSDT|FACP|DSDT|FACS|SSDT|APIC|HPET|WAET) 0x/,
      /^kernel\| ACPI: Reserving \w+ table memory /,
      /^kernel\| ACPI: PM-Timer IO Port: /,
      /^kernel\| ACPI: \d+ ACPI AML tables successfully acquired and loaded$/,
      /^kernel\| ACPI: Enabled \d+ GPEs in block /,
      /^kernel\| acpi resource window /,
      /^kernel\| pci_bus 0000:00: (root bus )?resource \d* ?\[mem 0x[0-9a-f]+-0xfebfffff window\]$/,
      /^kernel\| pci 0000:00:01\.3: quirk: \[io {2}0x(0600-0x063f|0700-0x070f|b000-0xb03f|b100-0xb10f)\] claimed by PIIX4 (ACPI|SMB)$/,
      /^kernel\| rtc_cmos 00:0\d: /,
      /^kernel\| pnp: PnP ACPI: found \d devices$/,
      /^ioports\| {3}(0510-051b : QEMU0002:00|0600-063f : 0000:00:01\.3|0700-070f : 0000:00:01\.3|b000-b03f : 0000:00:01\.3|b100-b10f : 0000:00:01\.3)$/,
      /^ioports\| {5}(0600|0604|0608|b000|b004|b008)-\w+ : ACPI (PM1a_EVT_BLK|PM1a_CNT_BLK|PM_TMR)$/,
      /^ioports\| {3}0070-007[17] : rtc0$/,
      // PnP device numbers follow the order of the DSDT's devices (SeaBIOS's own DSDT lists the RTC first).
      /^pnp\| 00:0\d PNP0\w+$/,
      /^kernel\| 00:0\d: ttyS0 at I\/O 0x3f8 /,
      // The reserved block at the top of RAM (QEMU's tables: 0x7fe0000; SeaBIOS's own: 0x7ffe000).
      /^kernel\| BIOS-e820: \[mem 0x0000000000100000-0x0000000007f\w+\] usable$/,
      /^kernel\| BIOS-e820: \[mem 0x0000000007f\w+-0x0000000007ffffff\] reserved$/,
      /^kernel\| (last_pfn = 0x7f\w+ |RAMDISK: \[mem |  (mapped )?low ram: 0 - 07f|  Normal   \[mem |  node   0: \[mem 0x0000000000100000|Initmem setup node 0 |Built 1 zonelists|Memory: \d+K\/\d+K available)/,
      /^iomem\| (00100000-07f\w+ : System RAM|07f\w+-07ffffff : Reserved|\w+-febfffff : PCI Bus 0000:00)$/,
    ],
  },
  {
    id: 'acpi-s3',
    owner: 'board',
    bullet: 'ACPI S3: QEMU\'s DSDT offers S3 and S4 (and the FACS waking vector)',
    paths: BOTH,
    lines: [/^kernel\| ACPI: PM: \(supports S0 (S3 S4 )?S5\)$/],
  },
  {
    id: 'hpet',
    owner: 'board',
    bullet: 'No HPET at 0xFED00000 (with its ACPI table when a BIOS builds tables)',
    paths: BOTH,
    lines: [
      /^kernel\| ACPI: HPET id: /,
      /^kernel\| clocksource: hpet: mask: /,
      /^kernel\| hpet(0)?: /,
      /^iomem\| (fed00000-fed003ff : HPET 0| {2}fed00000-fed003ff : PNP0103:00)$/,
      /^clocksource\| tsc (hpet )?acpi_pm$/,
    ],
  },
  {
    id: 'direct-boot-pc',
    owner: 'board',
    bullet: 'Directly booted Linux sees a different PC: no ACPI or MP tables in memory (no RSDP: no ACPI interpreter, PnP, IRQ routing, I/O APIC, HPET, PM timer or S5 power-off; interrupts on XT-PIC), no VGA PCI device, PCI BARs not assigned as firmware would. Without ACPI\'s _CRS the kernel builds no PCI bus window, so every /proc/ioports and /proc/iomem line nests differently.',
    paths: ['direct'],
    lines: [
      /^kernel\| (ACPI|acpi|acpiphp|pnp: PnP ACPI|PCI|pci|pci_bus)\b/,
      /^kernel\| (IOAPIC\[0\]|Found and enabled local APIC!|NR_IRQS: |APIC: |Enabling APIC mode: |\.\.TIMER: |found SMP MP-table )/,
      /^kernel\| smpboot: (Boot CPU \(id 0\) not listed by BIOS|SMP disabled|CPU0: )/,
      /^kernel\| (last_pfn = |12[78]MB LOWMEM available\.|  (mapped )?low ram: |\[mem 0x08000000-0x\w+\] available for PCI devices)/,
      /^kernel\| (00:0\d|serial8250): ttyS0 at I\/O 0x3f8 /,
      /^kernel\| i8042: (PNP: |Probing ports directly\.)/,
      /^kernel\| (platform rtc_cmos: |rtc_cmos rtc_cmos: )/,
      /^kernel\| clocksource: (pit|acpi_pm): /,
      /^kernel\| tsc: Refined TSC clocksource calibration: /,
      /^kernel\| reboot: (Power down|System halted)$/,
      /^interrupts\| \d+: # (IO-APIC|XT-PIC) /,
      /^pci\| 0000:00:02\.0 0x1234 0x1111 /,
      /^pnp\| 00:0\d PNP0\w+$/,
      /^clocksource\| tsc$/,
      /^(ioports|iomem)\| /,
    ],
  },
  {
    id: 'direct-entry-state',
    owner: 'boot',
    bullet: 'The direct-boot entry state must be what the firmware leaves: screen_info of a VGA text console (else "colour dummy device") and the 8042 translating to set 1 as SeaBIOS leaves it (else "AT Raw Set 2 keyboard")',
    paths: ['direct'],
    lines: [/^kernel\| Console: colour (VGA\+|dummy device) 80x25$/, /^kernel\| input: AT (Raw|Translated) Set 2 keyboard /],
  },
  {
    id: 'pit-count-load',
    owner: 'board',
    bullet: 'found by the corpus, not in issue 9\'s list (reported to the lead): bmbt-dbg loads a count written to the 8254 into the counting element on the next PIT clock pulse (the datasheet; pit8254.ts), QEMU at the write. Linux\'s quick_pit_calibrate writes 0xFFFF to channel 2 in mode 0 and reads it back 4 instructions (4 ns) later, before the next pulse (838 ns): it sees the old count (MSB 0xC4, measured), prints "Fast TSC calibration failed" and calibrates later against the PIT and the PM timer, so "tsc: Detected" moves too. Under QEMU (-icount shift=0) the fast calibration succeeds.',
    paths: BOTH,
    lines: [
      /^kernel\| tsc: Fast TSC calibration (failed|using PIT)$/,
      /^kernel\| tsc: (Unable to calibrate against PIT|using (HPET|PMTIMER) reference calibration|PIT calibration matches (PMTIMER|HPET)\. \d+ loops|Using PIT calibration value)$/,
      /^kernel\| tsc: Detected # MHz processor$/,
    ],
  },
  {
    id: 'smbios',
    owner: 'unassigned',
    bullet: 'not in issue 9 (reported to the lead): QEMU hands SeaBIOS SMBIOS 2.8 tables over fw_cfg (etc/smbios/smbios-tables, smbios-anchor); without them SeaBIOS writes its own 2.4 ones ("Bochs")',
    paths: BOTH,
    lines: [/^kernel\| SMBIOS 2\.[48] present\.$/, /^kernel\| DMI: /, /^kernel\| DMI not present or invalid\.$/],
  },
  {
    id: 'boot-order',
    owner: 'unassigned',
    bullet: 'not in issue 9 (reported to the lead): after iPXE returns, SeaBIOS on bmbt-dbg tries the floppy before the hard disk; QEMU (CMOS 0x3D=0x12, 0x38=0x30, the same values bmbt-dbg stores) tries the hard disk first',
    paths: ['ipxe'],
    lines: [/^screen\| (Booting from (Floppy|Hard Disk)\.\.\.|Boot failed: could not read the boot disk)$/],
  },
];

export interface Classified {
  /** differing lines explained by a known gap, by gap id */
  explained: Map<string, LineDiff[]>;
  /** differing lines nothing explains: each one fails the comparison */
  unexplained: LineDiff[];
}

export function classify(diffs: readonly LineDiff[], path: CorpusCase): Classified {
  const gaps = KNOWN_GAPS.filter((g) => g.paths.includes(path));
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
