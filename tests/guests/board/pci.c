/*
 * PCI configuration mechanism #1 with the low address bits set (board test guest).
 *
 * CONFIG_ADDRESS (0xCF8) bits 0-1 select a byte inside the dword register; QEMU ORs
 * them with the low bits of the data port (0xCFC-0xCFF) and reads or writes `size`
 * bytes from there, clipped at the end of the 256-byte space. Every value printed
 * comes from the host bridge (00:00.0, 8086:1237) or the PIIX3 IDE function
 * (00:01.1), whose cache-line-size (0x0C) and interrupt-line (0x3C) bytes are the
 * writable ones, so the output is the same after SeaBIOS and after a direct boot.
 */
#include "lib.h"

#define HOST 0x80000000u
#define IDE 0x80000900u

static u32 rd(u32 addr, u16 port, int size)
{
    outl(0xcf8, addr);
    return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void wr(u32 addr, u16 port, int size, u32 v)
{
    outl(0xcf8, addr);
    if (size == 1) outb(port, (u8)v);
    else if (size == 2) outw(port, (u16)v);
    else outl(port, v);
}

static void line(const char *what, u32 addr, u16 port, int size)
{
    puts(what);
    puts(" sel=");
    puthex(addr, 8);
    puts(" port=");
    puthex(port, 3);
    puts(" size=");
    putdec((u32)size);
    puts(": ");
    puthex(rd(addr, port, size), 2 * size);
    putc('\n');
}

/* The IDE function's 0x0C and 0x3C dwords after a write, then both put back. */
static void after_write(const char *what, u32 addr, u16 port, int size, u32 v)
{
    u32 c = rd(IDE | 0x0c, 0xcfc, 4), l = rd(IDE | 0x3c, 0xcfc, 4);
    wr(addr, port, size, v);
    puts(what);
    puts(": 0c=");
    puthex(rd(IDE | 0x0c, 0xcfc, 4), 8);
    puts(" 3c=");
    puthex(rd(IDE | 0x3c, 0xcfc, 4), 8);
    putc('\n');
    wr(IDE | 0x0c, 0xcfc, 1, c & 0xff);
    wr(IDE | 0x3c, 0xcfc, 1, l & 0xff);
}

int main(void)
{
    /* CONFIG_ADDRESS keeps what a dword write stores. */
    outl(0xcf8, 0x80000003);
    show("cf8 after 80000003", inl(0xcf8), 8);
    outl(0xcf8, 0xff00fffe);
    show("cf8 after ff00fffe", inl(0xcf8), 8);
    outl(0xcf8, 0x80000000);
    show("cf8 byte 0 (inb cf8)", inb(0xcf8), 2);
    show("cf8 word 2 (inw cfa)", inw(0xcfa), 4);
    outl(0xcf8, 0x80001234);
    show("cf8 after 80001234: inw cfa", inw(0xcfa), 4);
    show("cf8 after 80001234: inb cf8", inb(0xcf8), 2);
    show("cf8 after 80001234: inl cf8", inl(0xcf8), 8);
    outw(0xcf8, 0x5678);
    show("cf8 after outw 5678", inl(0xcf8), 8);
    outb(0xcf8, 0x78);
    show("cf8 after outb 78", inl(0xcf8), 8);

    line("host id dword", HOST, 0xcfc, 4);
    line("device id, offset 2 word", HOST | 2, 0xcfc, 2);
    line("device id, port cfe word", HOST, 0xcfe, 2);
    line("offset 2, port cfe word", HOST | 2, 0xcfe, 2);
    /* Offsets 0x00-0x0F of the host bridge hold IDs, revision, class and header type, which
       no firmware changes; the command/status word (0x04) is left out. */
    for (u32 sel = 0; sel < 4; sel++)
        for (u16 p = 0; p < 4; p++) {
            line("byte", HOST | sel, (u16)(0xcfc + p), 1);
            line("byte", HOST | 8 | sel, (u16)(0xcfc + p), 1);
        }
    for (u32 sel = 0; sel < 4; sel++)
        for (u16 p = 0; p < 4; p += 2) line("word", HOST | 8 | sel, (u16)(0xcfc + p), 2);
    line("word", HOST | 1, 0xcfc, 2);
    for (u32 sel = 0; sel < 4; sel++) line("dword", HOST | 8 | sel, 0xcfc, 4);
    line("word at 0xff", HOST | 0xff, 0xcfc, 2);
    line("dword at 0xfd", HOST | 0xfd, 0xcfc, 4);
    line("dword at 0xfe via cfe", HOST | 0xfc, 0xcfe, 2);
    line("disabled", 0x00000002, 0xcfc, 2);
    line("no device", 0x8000f802, 0xcfc, 2);

    after_write("write byte 5a sel 0c port cfc", IDE | 0x0c, 0xcfc, 1, 0x5a);
    after_write("write byte 5a sel 0d port cfc", IDE | 0x0d, 0xcfc, 1, 0x5a);
    after_write("write byte 5a sel 0c port cfd", IDE | 0x0c, 0xcfd, 1, 0x5a);
    after_write("write byte 5a sel 3d port cfc", IDE | 0x3d, 0xcfc, 1, 0x5a);
    after_write("write byte 5a sel 3f port cfd", IDE | 0x3f, 0xcfd, 1, 0x5a);
    after_write("write word a55a sel 3e port cfc", IDE | 0x3e, 0xcfc, 2, 0xa55a);
    after_write("write word a55a sel 3c port cfe", IDE | 0x3c, 0xcfe, 2, 0xa55a);
    after_write("write dword 11223344 sel 0d", IDE | 0x0d, 0xcfc, 4, 0x11223344);
    after_write("write dword 11223344 sel 3c", IDE | 0x3c, 0xcfc, 4, 0x11223344);
    after_write("write dword 11223344 sel 3b", IDE | 0x3b, 0xcfc, 4, 0x11223344);
    puts("done\n");
    return 0;
}
