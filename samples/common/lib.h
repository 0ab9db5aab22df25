/*
 * Tiny freestanding support library for the bmbt-dbg sample guests.
 *
 * Everything here runs in 32-bit protected mode, ring 0, flat segments
 * (CS = 0x08, DS = ES = FS = GS = SS = 0x10), as set up by start.S.
 * Hardware used: COM1 16550 at 0x3F8, debugcon at 0xE9, isa-debug-exit at
 * 0xF4, the two 8259 PICs and the 8254 PIT. Nothing else.
 */
#ifndef SAMPLES_LIB_H
#define SAMPLES_LIB_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef signed int s32;
typedef unsigned long long u64;
typedef unsigned int size_t;

#define NULL ((void *)0)

/* ---- ports ---------------------------------------------------------- */
#define COM1_PORT 0x3F8
#define DEBUGCON_PORT 0xE9
#define DEBUG_EXIT_PORT 0xF4
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182u

/* Vector of IRQ n after pic_remap(). */
#define IRQ_VECTOR(n) (0x20 + (n))

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
    u8 v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline u16 inw(u16 port)
{
    u16 v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline u32 inl(u16 port)
{
    u32 v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* ---- CPU control ----------------------------------------------------- */
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* Enable interrupts and halt atomically (STI's one-instruction shadow):
 * an interrupt that is already pending wakes the HLT instead of being lost. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static inline u32 read_cr0(void) { u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline u32 read_cr2(void) { u32 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u32 read_cr3(void) { u32 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline u32 read_cr4(void) { u32 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(u32 v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(u32 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(u32 v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline void invlpg(u32 addr) { __asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory"); }

#define CR0_PE 0x00000001u
#define CR0_WP 0x00010000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x00000010u

#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PDE_PS 0x080u

/* ---- serial (COM1, polled) and debugcon ----------------------------- */
void serial_init(void);              /* 115200 8N1, FIFO on (trigger 1), no IRQs */
void serial_putc_raw(char c);        /* one byte, no translation */
void serial_putc(char c);            /* '\n' is sent as "\r\n" */
void serial_puts(const char *s);     /* via serial_putc */
void serial_put_hex(u32 v);          /* 8 hex digits, lower case, no prefix */
void serial_put_dec(u32 v);
int serial_rx_ready(void);
u8 serial_rx_byte(void);             /* call only when serial_rx_ready() */

void dbg_putc(char c);               /* port 0xE9, no translation */
void dbg_puts(const char *s);

/* printf subset: %d %u %x %X %s %c %p %%, with optional '0' flag and width.
 * kprintf writes to serial (with "\n" -> "\r\n"), dbg_printf to debugcon. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dbg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- exits ------------------------------------------------------------ */
/* QEMU's isa-debug-exit terminates with status (code << 1) | 1. */
void exit_qemu(u32 code) __attribute__((noreturn));
/* cli; hlt forever: a "dead halt" the emulator can detect. */
void halt_forever(void) __attribute__((noreturn));

/* ---- interrupts -------------------------------------------------------- */
/* Register frame built by the stubs in isr.S (lowest address first). */
struct irq_frame {
    u32 gs, fs, es, ds;
    u32 edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    u32 vector, error_code;
    u32 eip, cs, eflags;      /* pushed by the CPU (no ring change) */
};
typedef void (*isr_handler_t)(struct irq_frame *f);

void idt_init(void);                           /* vectors 0..47, called by start.S */
void set_handler(int vector, isr_handler_t h);

void pic_remap(void);       /* IRQ 0-7 -> 0x20-0x27, IRQ 8-15 -> 0x28-0x2F, all masked */
void pic_mask(int irq);
void pic_unmask(int irq);   /* unmasking a slave IRQ also unmasks the cascade (IRQ 2) */
void pic_eoi(int irq);

/* PIT channel 0, mode 2 (rate generator), lobyte/hibyte, binary. */
void pit_init_periodic(u16 divisor);

/* ---- string helpers ------------------------------------------------------ */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Multiboot magic (0x2BADB002) and info pointer as passed in EAX/EBX. */
extern u32 mb_magic, mb_info;
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u

/* Every sample defines main(); start.S calls it after lib_start(). */
int main(void);

/* Symbols from the linker script. */
extern char __kernel_start[], __text_end[], __data_start[], __bss_start[], __bss_end[], __kernel_end[];

#endif
