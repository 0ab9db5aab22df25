/*
 * The SMBIOS tables (board test guest): the fw_cfg files a BIOS builds them from
 * (etc/smbios/*, read through the fw_cfg port interface) byte for byte, then the SMBIOS
 * entry point a kernel finds in the F segment and every structure of the table it points
 * at (formatted area and strings). The table's address is printed only as "F segment" or
 * "high memory": where exactly is the BIOS allocator's choice.
 */
#include "lib.h"

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511
#define FW_CFG_FILE_DIR 0x19

static u8 rd8(u32 a) { return *(volatile u8 *)a; }
static u16 rd16(u32 a) { return *(volatile u16 *)a; }
static u32 rd32(u32 a) { return *(volatile u32 *)a; }

static u32 fw_be32(void)
{
    u32 v = 0;
    for (int i = 0; i < 4; i++) v = (v << 8) | inb(FW_CFG_DATA);
    return v;
}

static void dump_bytes(const u8 *p, u32 n)
{
    for (u32 i = 0; i < n; i++) {
        if (i % 32 == 0) puts(i ? "\n " : " ");
        puthex(p[i], 2);
    }
    putc('\n');
}

static void dump_mem(u32 a, u32 n)
{
    for (u32 i = 0; i < n; i++) {
        if (i % 32 == 0) puts(i ? "\n " : " ");
        puthex(rd8(a + i), 2);
    }
    putc('\n');
}

static u8 file_buf[8192];

/* Every etc/smbios/ file in the fw_cfg directory: name, size, contents. */
static void fw_cfg_files(void)
{
    outw(FW_CFG_SELECTOR, FW_CFG_FILE_DIR);
    u32 count = fw_be32();
    struct { u32 size; u16 select; char name[56]; } f[64];
    u32 n = 0;
    for (u32 i = 0; i < count; i++) {
        u32 size = fw_be32();
        u16 select = (u16)(inb(FW_CFG_DATA) << 8);
        select |= inb(FW_CFG_DATA);
        inb(FW_CFG_DATA);
        inb(FW_CFG_DATA);
        char name[56];
        for (int k = 0; k < 56; k++) name[k] = (char)inb(FW_CFG_DATA);
        static const char prefix[] = "etc/smbios/";
        int match = 1;
        for (int k = 0; prefix[k]; k++) if (name[k] != prefix[k]) match = 0;
        if (!match || n == 64) continue;
        f[n].size = size;
        f[n].select = select;
        for (int k = 0; k < 56; k++) f[n].name[k] = name[k];
        n++;
    }
    puts("fw_cfg etc/smbios files: ");
    putdec(n);
    putc('\n');
    for (u32 i = 0; i < n; i++) {
        f[i].name[55] = 0;
        puts("fw_cfg ");
        puts(f[i].name);
        puts(" size ");
        putdec(f[i].size);
        putc('\n');
        u32 len = f[i].size < sizeof file_buf ? f[i].size : sizeof file_buf;
        outw(FW_CFG_SELECTOR, f[i].select);
        for (u32 k = 0; k < len; k++) file_buf[k] = inb(FW_CFG_DATA);
        dump_bytes(file_buf, len);
    }
}

static int sum_ok(u32 a, u32 len)
{
    u8 s = 0;
    for (u32 i = 0; i < len; i++) s += rd8(a + i);
    return s == 0;
}

static void put_string(u32 a)
{
    putc('"');
    for (; rd8(a); a++) {
        u8 c = rd8(a);
        putc(c >= 0x20 && c < 0x7f ? (char)c : '.');
    }
    putc('"');
}

/* Walk `count` structures from `table` (at most `len` bytes): formatted area, strings. */
static void structures(u32 table, u32 len, u32 count)
{
    u32 a = table, end = table + len;
    for (u32 i = 0; i < count && a + 4 <= end; i++) {
        u8 type = rd8(a), flen = rd8(a + 1);
        puts("structure type ");
        putdec(type);
        puts(" length ");
        putdec(flen);
        puts(" handle 0x");
        puthex(rd16(a + 2), 4);
        putc('\n');
        dump_mem(a, flen);
        u32 s = a + flen;
        /* No strings: two zero bytes. Otherwise each string, then one more zero. */
        if (rd8(s) == 0) {
            s += 2;
        } else {
            while (rd8(s) != 0 && s < end) {
                puts("  string ");
                put_string(s);
                putc('\n');
                while (rd8(s) != 0) s++;
                s++;
            }
            s++;
        }
        a = s;
        if (type == 127) break;
    }
    puts("table bytes walked: ");
    putdec(a - table);
    putc('\n');
}

static void entry_point(void)
{
    u32 ep = 0;
    for (u32 a = 0xf0000; a < 0x100000; a += 16)
        if (rd32(a) == 0x5f4d535f) { ep = a; break; } /* "_SM_" */
    check("SMBIOS entry point found in the F segment", ep != 0, 1);
    if (!ep) return;
    u32 eplen = rd8(ep + 5);
    check("entry point checksum", sum_ok(ep, eplen), 1);
    check("intermediate anchor _DMI_", rd32(ep + 16) == 0x494d445f && rd8(ep + 20) == '_', 1);
    check("intermediate checksum", sum_ok(ep + 16, 15), 1);
    puts("entry point length ");
    putdec(eplen);
    puts(" version ");
    putdec(rd8(ep + 6));
    putc('.');
    putdec(rd8(ep + 7));
    puts(" max structure size ");
    putdec(rd16(ep + 8));
    puts(" revision ");
    putdec(rd8(ep + 10));
    puts(" bcd revision 0x");
    puthex(rd8(ep + 30), 2);
    putc('\n');
    puts("formatted area:");
    dump_mem(ep + 11, 5);
    u32 len = rd16(ep + 22), table = rd32(ep + 24), count = rd16(ep + 28);
    puts("table length ");
    putdec(len);
    puts(" structures ");
    putdec(count);
    puts(table >= 0xf0000 && table < 0x100000 ? " in the F segment\n" : " in high memory\n");
    structures(table, len, count);
}

int main(u32 magic, u32 mbi)
{
    (void)mbi;
    check("multiboot magic", magic, 0x2badb002);
    fw_cfg_files();
    entry_point();
    puts("failures: ");
    putdec((u32)failures);
    putc('\n');
    return failures;
}
