/*
 * ACPI S3 suspend and resume (board test guest). It arms the RTC alarm two seconds ahead
 * (AIE) with RTC_EN in PM1_EN, puts a real-mode resume stub at 0x8000 in the FACS
 * firmware waking vector, and writes SLP_TYP = 1 (QEMU's _S3) with SLP_EN to PM1a_CNT.
 * The machine must stop; the alarm wakes it through a reset, and the firmware (SeaBIOS,
 * or bmbt-dbg itself for a direct boot) enters the waking vector in real mode. The stub
 * prints what it finds (its CS:IP, the wake status in PM1_STS, CMOS 0x0F, the RTC's
 * registers B and C, whether RAM kept a marker) and exits through isa-debug-exit.
 */
#include "lib.h"

#define STUB_ADDR 0x8000u
#define MARKER_ADDR 0x7ff0u

extern const u8 s3_stub[], s3_stub_end[];

__asm__(
    ".section .rodata\n"
    ".code16\n"
    ".globl s3_stub, s3_stub_end\n"
    "s3_stub:\n"
    "  cli\n"
    "  mov %cs, %ax\n"
    "  mov %ax, %bx\n"                 /* BX = CS at entry */
    "  call 1f\n"
    "1: pop %si\n"                      /* SI = IP of label 1 (entry IP + 8) */
    "  xor %ax, %ax\n"
    "  mov %ax, %ds\n"
    "  mov %ax, %ss\n"
    "  mov $0x7000, %sp\n"
    "  mov $0x7000, %di\n"
    "  mov $('R' | 'S' << 8), %ax\n"    /* 'RS': resume-stub record at 0x7000 */
    "  mov %ax, (%di)\n"
    "  mov %bx, 2(%di)\n"
    "  sub $8, %si\n"
    "  mov %si, 4(%di)\n"
    "  mov $0x600, %dx\n"
    "  in %dx, %ax\n"
    "  mov %ax, 6(%di)\n"               /* PM1_STS (all ones if the PM block is off) */
    "  mov $0x604, %dx\n"
    "  in %dx, %ax\n"
    "  mov %ax, 8(%di)\n"               /* PM1_CNT */
    "  mov $0x0f, %al\n"
    "  out %al, $0x70\n"
    "  in $0x71, %al\n"
    "  mov %al, 10(%di)\n"              /* CMOS shutdown status */
    "  mov $0x0b, %al\n"
    "  out %al, $0x70\n"
    "  in $0x71, %al\n"
    "  mov %al, 11(%di)\n"              /* RTC register B */
    "  mov $0x0c, %al\n"
    "  out %al, $0x70\n"
    "  in $0x71, %al\n"
    "  mov %al, 12(%di)\n"              /* RTC register C */
    "  mov (0x7ff0), %eax\n"
    "  mov %eax, 16(%di)\n"             /* the RAM marker */
    "  pushfl\n"
    "  pop %eax\n"
    "  mov %eax, 20(%di)\n"             /* EFLAGS */
    "  mov %cr0, %eax\n"
    "  mov %eax, 24(%di)\n"             /* CR0 */
    /* Back to 32-bit protected mode, into s3_report (its address patched at stub+0x100). */
    "  lgdtl %cs:0xf8\n"
    "  mov %cr0, %eax\n"
    "  or $1, %al\n"
    "  mov %eax, %cr0\n"
    "  ljmpl *%cs:0xf0\n"
    "s3_stub_end:\n"
    ".code32\n"
    ".text\n");

static void report(void);

static u8 cmos(u8 i) { outb(0x70, i); return inb(0x71); }
static void cmos_w(u8 i, u8 v) { outb(0x70, i); outb(0x71, v); }

static u32 find_facs(void)
{
    for (u32 a = 0xe0000; a < 0x100000; a += 16) {
        if (*(volatile u32 *)a == 0x20445352 && *(volatile u32 *)(a + 4) == 0x20525450) {
            u32 rsdt = *(volatile u32 *)(a + 16);
            u32 n = (*(volatile u32 *)(rsdt + 4) - 36) / 4;
            for (u32 i = 0; i < n; i++) {
                u32 t = *(volatile u32 *)(rsdt + 36 + 4 * i);
                if (*(volatile u32 *)t == 0x50434146) return *(volatile u32 *)(t + 36);
            }
        }
    }
    return 0;
}

extern const u8 gdt[];
/* A far pointer (offset, selector 0x08) for the stub's jump back into 32-bit code. */
static struct { u32 off; u16 sel; } __attribute__((packed)) back = { 0, 0x08 };

__asm__(
    ".text\n"
    ".globl s3_report_entry\n"
    "s3_report_entry:\n"
    "  movw $0x10, %ax\n"
    "  movw %ax, %ds\n"
    "  movw %ax, %es\n"
    "  movw %ax, %ss\n"
    "  movl $0x6ff0, %esp\n"
    "  call s3_report\n"
    "  outb %al, $0xf4\n"
    "2: hlt\n"
    "  jmp 2b\n");
void s3_report_entry(void);

int s3_report(void)
{
    volatile u8 *r = (volatile u8 *)0x7000;
    puts("resumed\n");
    show("stub record", r[0] | r[1] << 8, 4);
    show("entry CS", r[2] | r[3] << 8, 4);
    show("entry IP", r[4] | r[5] << 8, 4);
    show("PM1_STS at resume", r[6] | r[7] << 8, 4);
    show("PM1_CNT at resume", r[8] | r[9] << 8, 4);
    show("CMOS 0x0F at resume", r[10], 2);
    show("RTC register B at resume", r[11], 2);
    show("RTC register C at resume", r[12], 2);
    show("RAM marker kept", *(volatile u32 *)(r + 16) == 0x53335333, 1);
    show("EFLAGS at resume", *(volatile u32 *)(r + 20), 8);
    show("CR0 at resume (PE, PG)", *(volatile u32 *)(r + 24) & 0x80000001u, 8);
    return 0;
}

int main(void)
{
    u32 facs = find_facs();
    check("FACS found", facs != 0, 1);
    if (!facs) return 1;
    /* The resume stub, and its way back: a GDT pointer at 0xF8 and a far pointer at 0xF0
       relative to the stub's segment. */
    for (const u8 *p = s3_stub; p < s3_stub_end; p++) *(volatile u8 *)(STUB_ADDR + (p - s3_stub)) = *p;
    back.off = (u32)s3_report_entry;
    *(volatile u32 *)(STUB_ADDR + 0xf0) = back.off;
    *(volatile u16 *)(STUB_ADDR + 0xf4) = back.sel;
    *(volatile u16 *)(STUB_ADDR + 0xf8) = 5 * 8 - 1;
    *(volatile u32 *)(STUB_ADDR + 0xfa) = (u32)gdt;
    *(volatile u32 *)MARKER_ADDR = 0x53335333;
    *(volatile u32 *)(facs + 12) = STUB_ADDR;
    show("FACS waking vector", *(volatile u32 *)(facs + 12), 8);

    /* RTC alarm two seconds ahead, minutes and hours "don't care". */
    u8 b = cmos(0x0b);
    show("RTC register B before", b, 2);
    while (cmos(0x0a) & 0x80) {}
    u8 s = cmos(0x00);
    u32 sec = (b & 4) ? s : (s >> 4) * 10 + (s & 15);
    sec = (sec + 2) % 60;
    cmos_w(0x01, (b & 4) ? (u8)sec : (u8)((sec / 10) << 4 | sec % 10));
    cmos_w(0x03, 0xff);
    cmos_w(0x05, 0xff);
    cmos_w(0x0b, b | 0x20);
    cmos(0x0c);

    /* PM1: clear the status, enable the RTC wake event, then S3. */
    outw(0x600, 0xffff);
    outw(0x602, 0x0400);
    show("PM1_STS before", inw(0x600), 4);
    puts("suspending\n");
    outw(0x604, (1 << 10) | (1 << 13));
    for (volatile int i = 0; i < 1000000; i++) {}
    puts("S3 did not stop the machine\n");
    return 1;
}
