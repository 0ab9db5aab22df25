/*
 * QEMU's kvmvapic option ROM and its port 0x7E (board test guest, booted through SeaBIOS,
 * Debian's bios.bin on both emulators: where the BIOS leaves things depends on its build):
 * where the ROM sits and which of its bytes the device patched, which pages of
 * 0xC0000-0xFFFFF stay writable after the BIOS write-protected its shadow RAM, what port
 * 0x7E/0x7F reads give at each size, and what each kind of write to them changes in the
 * ROM (the guest snapshots the ROM before each write and prints every byte that changed).
 */
#include "lib.h"

#define ROM_SEARCH_START 0xc0000
#define ROM_SEARCH_END 0xf0000

static u8 rd8(u32 a) { return *(volatile u8 *)a; }
static void wr8(u32 a, u8 v) { *(volatile u8 *)a = v; }

static u32 rom, rom_size;
static u8 snap[0x4000];

static int is_vapic_rom(u32 a)
{
    static const char sig[] = "kvm aPiC";
    if (rd8(a) != 0x55 || rd8(a + 1) != 0xaa) return 0;
    for (int i = 0; i < 8; i++) if (rd8(a + 0x20 + i) != (u8)sig[i]) return 0;
    return 1;
}

static void find_rom(void)
{
    for (u32 a = ROM_SEARCH_START; a < ROM_SEARCH_END; a += 0x800)
        if (is_vapic_rom(a)) { rom = a; break; }
    check("kvmvapic ROM found", rom != 0, 1);
    if (!rom) return;
    rom_size = rd8(rom + 2) * 512u;
    show("kvmvapic ROM at", rom, 5);
    show("kvmvapic ROM size", rom_size, 4);
    u8 sum = 0;
    for (u32 i = 0; i < rom_size; i++) sum += rd8(rom + i);
    show("kvmvapic ROM byte sum", sum, 2);
}

/* "mov eax, 1" followed by vmcall/vmmcall or by QEMU's "nop; out 0x7e, eax". */
static void hypercall_sites(void)
{
    for (u32 i = 0; i + 8 <= rom_size; i++) {
        u32 a = rom + i;
        if (rd8(a) != 0xb8 || rd8(a + 1) != 1 || rd8(a + 2) || rd8(a + 3) || rd8(a + 4)) continue;
        puts("hypercall at +0x");
        puthex(i, 4);
        puts(":");
        for (int k = 5; k < 8; k++) { putc(' '); puthex(rd8(a + k), 2); }
        putc('\n');
    }
}

/* Ranges of 0xC0000-0xFFFFF (by 512 bytes) where a write sticks; each byte is restored. */
static void writable_ranges(void)
{
    u32 start = 0;
    int open = 0;
    for (u32 a = 0xc0000; a <= 0x100000; a += 0x200) {
        int w = 0;
        if (a < 0x100000) {
            u8 v = rd8(a);
            u8 flipped = (u8)~v;
            wr8(a, flipped);
            w = rd8(a) == flipped;
            if (w) wr8(a, v);
        }
        if (w && !open) { start = a; open = 1; }
        if (!w && open) {
            puts("writable: 0x");
            puthex(start, 5);
            puts("-0x");
            puthex(a - 1, 5);
            putc('\n');
            open = 0;
        }
    }
}

static void port_reads(void)
{
    for (u16 p = 0x7e; p <= 0x7f; p++) {
        puts("port 0x");
        puthex(p, 2);
        puts(": inb 0x");
        puthex(inb(p), 2);
        puts(" inw 0x");
        puthex(inw(p), 4);
        puts(" inl 0x");
        puthex(inl(p), 8);
        putc('\n');
    }
}

static void snapshot(void)
{
    for (u32 i = 0; i < rom_size && i < sizeof snap; i++) snap[i] = rd8(rom + i);
}

/* Every byte of the ROM that differs from the snapshot. */
static void changes(const char *what)
{
    puts(what);
    puts(":");
    int n = 0;
    for (u32 i = 0; i < rom_size && i < sizeof snap; i++) {
        u8 v = rd8(rom + i);
        if (v == snap[i]) continue;
        if (n % 8 == 0) puts("\n ");
        puts(" +");
        puthex(i, 4);
        putc('=');
        puthex(v, 2);
        n++;
    }
    if (n == 0) puts(" none");
    putc('\n');
}

/* Put the original "vmcall" back at each patched site (the ROM is writable there). */
static void unpatch(void)
{
    for (u32 i = 0; i + 8 <= rom_size; i++) {
        u32 a = rom + i;
        if (rd8(a) == 0xb8 && rd8(a + 1) == 1 && !rd8(a + 2) && !rd8(a + 3) && !rd8(a + 4) &&
            rd8(a + 5) == 0x90 && rd8(a + 6) == 0xe7 && rd8(a + 7) == 0x7e) {
            wr8(a + 5, 0x0f);
            wr8(a + 6, 0x01);
            wr8(a + 7, 0xc1);
        }
    }
}

int main(u32 magic, u32 mbi)
{
    (void)mbi;
    check("multiboot magic", magic, 0x2badb002);
    port_reads();
    find_rom();
    if (!rom) goto out;
    hypercall_sites();
    writable_ranges();

    snapshot();
    outw(0x7e, 0x20);
    changes("16-bit write to 0x7E");

    unpatch();
    snapshot();
    outw(0x7f, 0x20);
    changes("vmcalls restored, 16-bit write to 0x7F");
    outl(0x7e, 0);
    changes("32-bit write to 0x7E");
    outw(0x7e, 0x20);
    changes("16-bit write to 0x7E");

    snapshot();
    outb(0x7e, 0);
    changes("8-bit write to 0x7E");
    snapshot();
    outb(0x7f, 0);
    changes("8-bit write to 0x7F");
    snapshot();
    outl(0x7f, 0);
    changes("32-bit write to 0x7F");
    hypercall_sites();
out:
    puts("failures: ");
    putdec((u32)failures);
    putc('\n');
    return failures;
}
