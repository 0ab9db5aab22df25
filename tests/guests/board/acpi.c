/*
 * The firmware tables a kernel finds (board test guest): the ACPI RSDP in 0xE0000-0xFFFFF,
 * every table the RSDT lists (signature, revision, OEM IDs, checksum, and the bytes of the
 * fixed-layout tables with their pointer fields replaced by what they point at), the
 * DSDT's sleep packages and device IDs, the MP floating pointer and MP configuration
 * table, and the multiboot memory map. Addresses are printed only where they do not
 * depend on where a BIOS chose to put the tables.
 */
#include "lib.h"

static u8 rd8(u32 a) { return *(volatile u8 *)a; }
static u16 rd16(u32 a) { return *(volatile u16 *)a; }
static u32 rd32(u32 a) { return *(volatile u32 *)a; }

static int sum_ok(u32 a, u32 len)
{
    u8 s = 0;
    for (u32 i = 0; i < len; i++) s += rd8(a + i);
    return s == 0;
}

static void put_chars(u32 a, int n)
{
    for (int i = 0; i < n; i++) {
        u8 c = rd8(a + i);
        putc(c >= 0x20 && c < 0x7f ? (char)c : '.');
    }
}

static void hexdump(const char *what, u32 a, u32 from, u32 to)
{
    puts(what);
    puts(":");
    for (u32 i = from; i < to; i++) {
        if ((i - from) % 32 == 0) puts("\n ");
        puthex(rd8(a + i), 2);
    }
    putc('\n');
}

/* Find `len` bytes of `pat` on a 16-byte boundary in [from, to). */
static u32 scan(u32 from, u32 to, const char *pat, int len)
{
    for (u32 a = from; a < to; a += 16) {
        int i = 0;
        while (i < len && rd8(a + i) == (u8)pat[i]) i++;
        if (i == len) return a;
    }
    return 0;
}

static int has_name(u32 a, u32 len, const char *n)
{
    for (u32 i = 0; i + 4 <= len; i++)
        if (rd8(a + i) == (u8)n[0] && rd8(a + i + 1) == (u8)n[1] && rd8(a + i + 2) == (u8)n[2] && rd8(a + i + 3) == (u8)n[3])
            return 1;
    return 0;
}

/* An EISA ID as AML encodes it (the dword after DWordPrefix). */
static int has_eisa(u32 a, u32 len, u32 id)
{
    for (u32 i = 0; i + 5 <= len; i++)
        if (rd8(a + i) == 0x0c && rd32(a + i + 1) == id) return 1;
    return 0;
}

static void header(u32 t)
{
    put_chars(t, 4);
    puts(" rev ");
    putdec(rd8(t + 8));
    puts(" oem '");
    put_chars(t + 10, 6);
    puts("' table '");
    put_chars(t + 16, 8);
    puts("' oemrev ");
    putdec(rd32(t + 24));
    puts(" creator '");
    put_chars(t + 28, 4);
    puts("' ");
    putdec(rd32(t + 32));
    puts(sum_ok(t, rd32(t + 4)) ? " checksum ok" : " checksum BAD");
    putc('\n');
}

static void dsdt(u32 d)
{
    u32 len = rd32(d + 4);
    header(d);
    /* The whole AML, as a length and an FNV-1a hash: the namespace is QEMU's byte for byte. */
    u32 h = 2166136261u;
    for (u32 i = 36; i < len; i++) h = (h ^ rd8(d + i)) * 16777619u;
    puts("DSDT length ");
    puthex(len, 4);
    puts(" AML hash ");
    puthex(h, 8);
    putc('\n');
    static const char *names[] = { "_S3_", "_S4_", "_S5_", "PCI0", "_PRT", "LNKA", "LNKS", "HPET", "KBD_", "COM1", "RTC_", "C000", "_GPE", "FDC0" };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        puts("DSDT has ");
        puts(names[i]);
        puts(has_name(d, len, names[i]) ? ": yes\n" : ": no\n");
    }
    static const struct { const char *n; u32 id; } ids[] = {
        { "PNP0A03", 0x030ad041 }, { "PNP0103", 0x0301d041 }, { "PNP0303", 0x0303d041 }, { "PNP0B00", 0x000bd041 },
        { "PNP0501", 0x0105d041 }, { "PNP0C0F", 0x0f0cd041 }, { "PNP0F13", 0x130fd041 }, { "PNP0700", 0x0007d041 },
    };
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        puts("DSDT declares ");
        puts(ids[i].n);
        puts(has_eisa(d, len, ids[i].id) ? ": yes\n" : ": no\n");
    }
    /* \_S5 and \_S3: Name(_S5_, Package(4) {...}): the SLP_TYP values. */
    for (u32 i = 0; i + 7 < len; i++) {
        if (rd8(d + i) == 0x08 && rd8(d + i + 1) == '_' && rd8(d + i + 2) == 'S' && rd8(d + i + 4) == '_' && rd8(d + i + 5) == 0x12) {
            u32 plen = rd8(d + i + 6); /* a one-byte PkgLength: the package's whole size */
            puts("sleep package _S");
            putc((char)rd8(d + i + 3));
            puts(":");
            for (u32 k = 0; k < plen && i + 6 + k < len; k++) { putc(' '); puthex(rd8(d + i + 6 + k), 2); }
            putc('\n');
        }
    }
}

static void acpi(void)
{
    u32 rsdp = scan(0xe0000, 0x100000, "RSD PTR ", 8);
    check("RSDP found in 0xE0000-0xFFFFF", rsdp != 0, 1);
    if (!rsdp) return;
    check("RSDP checksum", sum_ok(rsdp, 20), 1);
    puts("RSDP oem '");
    put_chars(rsdp + 9, 6);
    puts("' revision ");
    putdec(rd8(rsdp + 15));
    putc('\n');
    u32 rsdt = rd32(rsdp + 16);
    header(rsdt);
    u32 n = (rd32(rsdt + 4) - 36) / 4;
    puts("RSDT entries: ");
    putdec(n);
    putc('\n');
    for (u32 i = 0; i < n; i++) {
        u32 t = rd32(rsdt + 36 + 4 * i);
        header(t);
        u32 len = rd32(t + 4);
        puts("  length ");
        putdec(len);
        putc('\n');
        if (rd32(t) == 0x50434146) { /* FACP */
            u32 facs = rd32(t + 36), d = rd32(t + 40);
            puts("  FACS: ");
            put_chars(facs, 4);
            puts(" length ");
            putdec(rd32(facs + 4));
            puts(" aligned to 64: ");
            puts(facs % 64 ? "no" : "yes");
            putc('\n');
            hexdump("  FACS body", facs, 8, 64);
            hexdump("  FACP fields after the pointers", t, 44, len);
            dsdt(d);
        } else {
            hexdump("  body", t, 36, len);
        }
    }
}

static void mptable(void)
{
    u32 mpf = scan(0xf0000, 0x100000, "_MP_", 4);
    if (!mpf) mpf = scan(0x9fc00, 0xa0000, "_MP_", 4);
    check("MP floating pointer found", mpf != 0, 1);
    if (!mpf) return;
    check("MP floating pointer checksum", sum_ok(mpf, 16), 1);
    hexdump("MP floating pointer length and revision", mpf, 8, 10);
    hexdump("MP floating pointer features", mpf, 11, 16);
    u32 cfg = rd32(mpf + 4);
    u16 len = rd16(cfg + 4);
    check("MP table checksum", sum_ok(cfg, len), 1);
    /* The header without its checksum (byte 7), which covers the CPUID fields. */
    hexdump("MP table header", cfg, 0, 7);
    hexdump("MP table header after the checksum", cfg, 8, 44);
    /* Entries; a processor's CPUID signature and feature flags depend on the CPU model. */
    u32 a = cfg + 44;
    for (u32 i = 0; i < rd16(cfg + 34) && a < cfg + len; i++) {
        u8 type = rd8(a);
        u32 size = type == 0 ? 20 : 8;
        if (type == 0) {
            puts("MP processor: apic ");
            puthex(rd8(a + 1), 2);
            puts(" version ");
            puthex(rd8(a + 2), 2);
            puts(" flags ");
            puthex(rd8(a + 3), 2);
            putc('\n');
        } else hexdump("MP entry", a, 0, size);
        a += size;
    }
}

static void memory_map(u32 mbi)
{
    if (!(rd32(mbi) & 0x40)) { puts("no memory map\n"); return; }
    u32 a = rd32(mbi + 48), end = a + rd32(mbi + 44);
    while (a < end) {
        puts("mmap ");
        puthex(rd32(a + 8), 8);
        puthex(rd32(a + 4), 8);
        puts(" len ");
        puthex(rd32(a + 16), 8);
        puthex(rd32(a + 12), 8);
        puts(" type ");
        putdec(rd32(a + 20));
        putc('\n');
        a += rd32(a) + 4;
    }
}

/* The 8042's command byte as the firmware leaves it (scancode translation, interrupts). */
static void kbc(void)
{
    while (inb(0x64) & 1) inb(0x60);
    outb(0x64, 0x20);
    for (int i = 0; i < 100000 && !(inb(0x64) & 1); i++) {}
    show("8042 command byte", inb(0x60), 2);
}

int main(u32 magic, u32 mbi)
{
    check("multiboot magic", magic, 0x2badb002);
    kbc();
    acpi();
    mptable();
    memory_map(mbi);
    puts("failures: ");
    putdec((u32)failures);
    putc('\n');
    return failures;
}
