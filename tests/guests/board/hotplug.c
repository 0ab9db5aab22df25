/*
 * QEMU's ACPI hot-plug register blocks on the PIIX4 PM function (board test guest):
 * the PCI hot-plug block at 0xAE00 (0x18 bytes: up/down bitmaps, eject, removable
 * slots, bus select, slot index) and the CPU hot-plug block at 0xAF00 (the legacy
 * present-CPU bitmap until a guest writes 0 to its first dword, then the selector,
 * flags, command and data registers), and the GPE0 block at 0xAFE0 that the DSDT's
 * _E01/_E02 methods answer. Every register is read at every width, then written as
 * the DSDT's methods write it, and read again. The board has one CPU and no device in
 * the hot-pluggable slots, so the output is the same after SeaBIOS and directly.
 */
#include "lib.h"

static void rd_all(const char *what, u16 base, u16 len)
{
    puts(what);
    puts(" bytes:");
    for (u16 i = 0; i < len; i++) { putc(' '); puthex(inb((u16)(base + i)), 2); }
    puts("\n");
    puts(what);
    puts(" words:");
    for (u16 i = 0; i < len; i += 2) { putc(' '); puthex(inw((u16)(base + i)), 4); }
    puts("\n");
    puts(what);
    puts(" dwords:");
    for (u16 i = 0; i < len; i += 4) { putc(' '); puthex(inl((u16)(base + i)), 8); }
    puts("\n");
}

static void pci_hotplug(void)
{
    rd_all("pcihp", 0xae00, 0x18);
    static const u32 bsel[] = { 1, 0xff, 0x12345678, 0 };
    for (unsigned i = 0; i < sizeof bsel / sizeof bsel[0]; i++) {
        outl(0xae10, bsel[i]);
        show("pcihp BNUM after writing", bsel[i], 8);
        rd_all("pcihp", 0xae00, 0x18);
    }
    static const u32 pidx[] = { 1u << 0, 1u << 2, 1u << 3, 1u << 31, 0x18, 0 };
    for (unsigned i = 0; i < sizeof pidx / sizeof pidx[0]; i++) {
        outl(0xae14, pidx[i]);
        show("pcihp PIDX written", pidx[i], 8);
        show("pcihp PIDX read", inl(0xae14), 8);
    }
    outb(0xae10, 0x00);
    outl(0xae08, 1u << 3); /* eject an empty slot */
    outl(0xae00, 0xffffffff);
    outl(0xae04, 0xffffffff);
    outl(0xae0c, 0xffffffff);
    rd_all("pcihp after writes", 0xae00, 0x18);
}

static void cpu_hotplug(void)
{
    rd_all("cpuhp legacy", 0xaf00, 0x20);
    outb(0xaf01, 0x00);
    rd_all("cpuhp after outb af01 0", 0xaf00, 0x20);
    outl(0xaf00, 0); /* the DSDT's _INI: CSEL = 0 */
    rd_all("cpuhp modern", 0xaf00, 0x20);
    for (u32 cpu = 0; cpu < 3; cpu++) {
        outl(0xaf00, cpu);
        show("cpuhp CSEL", cpu, 8);
        show("cpuhp flags", inb(0xaf04), 2);
        for (u8 cmd = 0; cmd < 4; cmd++) {
            outb(0xaf05, cmd);
            show("cpuhp cmd", cmd, 2);
            show("cpuhp CDAT", inl(0xaf08), 8);
            show("cpuhp af00", inl(0xaf00), 8);
            show("cpuhp af04", inl(0xaf04), 8);
        }
    }
    outl(0xaf00, 0);
    outb(0xaf05, 1);
    outl(0xaf08, 0x103);
    outb(0xaf05, 2);
    outl(0xaf08, 0x80);
    outb(0xaf04, 0x0e); /* clear insert/remove events, eject request */
    rd_all("cpuhp after _OST and flag writes", 0xaf00, 0x20);
}

static void gpe(void)
{
    rd_all("gpe0", 0xafe0, 4);
    outw(0xafe2, 0x0006);
    rd_all("gpe0 after EN=0006", 0xafe0, 4);
    outw(0xafe0, 0xffff);
    rd_all("gpe0 after STS write ffff", 0xafe0, 4);
    outb(0xafe3, 0x80);
    rd_all("gpe0 after outb afe3 80", 0xafe0, 4);
    outl(0xafe0, 0);
    rd_all("gpe0 after outl 0", 0xafe0, 4);
}

int main(void)
{
    pci_hotplug();
    cpu_hotplug();
    gpe();
    puts("done\n");
    return 0;
}
