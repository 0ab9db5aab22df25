/*
 * What the firmware leaves for a kernel booted with -kernel (board test guest): under
 * QEMU, SeaBIOS ran first; bmbt-dbg without --bios leaves the same state
 * (src/boot/firmware-tables.ts). Printed: every PCI function's configuration header
 * (BARs as SeaBIOS assigned them, command registers), where the RSDP, the MP floating
 * pointer, its configuration table and the SMBIOS entry point are in the F segment, and
 * the shadowed VGA option ROM at 0xC0000 (signature, size, checksum, PCI IDs).
 */
#include "lib.h"

static u8 rd8(u32 a) { return *(volatile u8 *)a; }
static u32 rd32(u32 a) { return *(volatile u32 *)a; }

static u32 cfg(u32 bdf, u32 reg)
{
    outl(0xcf8, 0x80000000u | (bdf << 8) | reg);
    return inl(0xcfc);
}

static u32 scan(const char *sig, int len, u32 step)
{
    for (u32 a = 0xf0000; a < 0x100000; a += step) {
        int i = 0;
        while (i < len && rd8(a + (u32)i) == (u8)sig[i]) i++;
        if (i == len) return a;
    }
    return 0;
}

int main(void)
{
    for (u32 bdf = 0; bdf < 0x100; bdf++) {
        u32 id = cfg(bdf, 0);
        if ((id & 0xffff) == 0xffff) continue;
        puts("pci ");
        puthex(bdf >> 3, 2);
        putc('.');
        puthex(bdf & 7, 1);
        puts(":");
        for (u32 r = 0; r < 0x40; r += 4) { putc(' '); puthex(cfg(bdf, r), 8); }
        putc('\n');
    }
    u32 rsdp = scan("RSD PTR ", 8, 16);
    show("RSDP at", rsdp, 5);
    u32 mp = scan("_MP_", 4, 16);
    show("MP floating pointer at", mp, 5);
    if (mp) show("MP configuration table at", rd32(mp + 4), 8);
    u32 sm = scan("_SM_", 4, 16);
    show("SMBIOS entry point at", sm, 5);
    if (sm) show("SMBIOS tables at", rd32(sm + 0x18), 8);
    show("VGA ROM signature", rd8(0xc0000) | (rd8(0xc0001) << 8), 4);
    u32 size = rd8(0xc0002) * 512u;
    show("VGA ROM size", size, 5);
    /* What a kernel checks (Linux's probe_roms: signature, length byte, checksum). The
       bytes differ: under QEMU the VGA BIOS's initialisation changed its own variables. */
    u8 sum = 0;
    for (u32 a = 0xc0000; a < 0xc0000 + size; a++) sum = (u8)(sum + rd8(a));
    puts(size && sum == 0 ? "VGA ROM checksum: ok\n" : "VGA ROM checksum: BAD\n");
    show("VGA ROM PCI data vendor/device", rd32(0xc0000 + (rd8(0xc0018) | (rd8(0xc0019) << 8)) + 4), 8);
    puts("done\n");
    return 0;
}
