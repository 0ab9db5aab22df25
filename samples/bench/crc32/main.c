/*
 * bench crc32: table-driven CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320)
 * over a 16 KiB buffer of pseudo-random bytes, repeated; the CRC runs on
 * across the passes. Byte loads, table lookups, shifts and xors.
 */
#include "lib.h"

#define BUF_SIZE 16384
#define PASSES 3200

static u32 table[256];
static u8 buf[BUF_SIZE];

static void make_table(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static u32 crc32_update(u32 crc, const u8 *p, u32 n)
{
    for (u32 i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc;
}

int main(void)
{
    dbg_puts("crc32: start\n");
    make_table();
    if ((crc32_update(0xFFFFFFFFu, (const u8 *)"123456789", 9) ^ 0xFFFFFFFFu) != 0xCBF43926u) {
        kprintf("crc32: self-test failed\n");
        exit_qemu(1);
    }
    u32 x = 12345;
    for (u32 i = 0; i < BUF_SIZE; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (u8)(x >> 16);
    }
    u32 crc = 0xFFFFFFFFu;
    for (u32 pass = 0; pass < PASSES; pass++)
        crc = crc32_update(crc, buf, BUF_SIZE);
    kprintf("crc32: result %08x\n", crc ^ 0xFFFFFFFFu);
    dbg_puts("crc32: done\n");
    exit_qemu(0);
}
