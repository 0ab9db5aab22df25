/*
 * bench repmovs: string instructions. Each round fills a 64 KiB buffer with
 * REP STOSD, copies it with REP MOVSD, compares with REPE CMPSD, does
 * unaligned REP MOVSB copies and REP STOSB fills of many sizes, a REP MOVSW
 * copy and an overlapping backward (STD) REP MOVSB, then folds a sample of
 * the buffer into a checksum. Instruction counts below count every REP
 * iteration as one instruction.
 */
#include "lib.h"

#define BUF 65536
#define ROUNDS 4000

static u8 a[BUF] __attribute__((aligned(4096)));
static u8 b[BUF] __attribute__((aligned(4096)));

static inline void rep_stosd(void *d, u32 v, u32 n)
{
    __asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}
static inline void rep_movsd(void *d, const void *s, u32 n)
{
    __asm__ volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static inline void rep_movsw(void *d, const void *s, u32 n)
{
    __asm__ volatile("rep movsw" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static inline void rep_movsb(void *d, const void *s, u32 n)
{
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static inline void rep_stosb(void *d, u8 v, u32 n)
{
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
}
/* copy n bytes backwards, from the last byte down: correct for d > s overlaps */
static inline void rep_movsb_backward(void *d, const void *s, u32 n)
{
    void *dl = (u8 *)d + n - 1;
    const void *sl = (const u8 *)s + n - 1;
    __asm__ volatile("std; rep movsb; cld" : "+D"(dl), "+S"(sl), "+c"(n) : : "memory", "cc");
}
/* returns the number of dwords left when the first difference was found (0 if equal) */
static inline u32 repe_cmpsd(const void *p, const void *q, u32 n)
{
    u8 ne;
    __asm__ volatile("repe cmpsl; setne %3"
                     : "+S"(p), "+D"(q), "+c"(n), "=q"(ne) : : "memory", "cc");
    return ne ? n + 1 : 0;
}

static const u32 sizes[] = { 1, 3, 7, 16, 33, 100, 255, 513, 1000, 2047, 4099, 9000 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

int main(void)
{
    dbg_puts("repmovs: start\n");
    u32 h = 0;
    for (u32 r = 0; r < ROUNDS; r++) {
        rep_stosd(a, r * 0x01010101u + 0x00102030u, BUF / 4);        /* 16384 */
        rep_movsd(b, a, BUF / 4);                                   /* 16384 */
        if (repe_cmpsd(a, b, BUF / 4)) {                            /* 16384 */
            kprintf("repmovs: copy mismatch in round %u\n", r);
            exit_qemu(1);
        }
        u32 off = r & 15;
        for (u32 k = 0; k < NSIZES; k++) {                          /* 2 x 17177 */
            rep_stosb(a + 1 + off + k * 13, (u8)(r + k), sizes[k]);
            rep_movsb(b + 3 * k + off, a + 1 + off + k * 13, sizes[k]);
        }
        rep_movsw(a + 40000, b + 2, 2048);                          /* 2048 */
        rep_movsb_backward(b + 1 + off, b, 3000);                   /* 3000 */
        for (u32 i = 0; i < BUF; i += 4093)
            h = ((h << 3) | (h >> 29)) ^ b[i] ^ ((u32)a[(i * 7) & (BUF - 1)] << 8);
    }
    kprintf("repmovs: result %08x\n", h);
    dbg_puts("repmovs: done\n");
    exit_qemu(0);
}
