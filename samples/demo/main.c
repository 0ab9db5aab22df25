/*
 * demo: the default guest of bmbt-dbg. It gives every debugger pane
 * something to show: PIT interrupts at 100 Hz (IRQ 0), a serial line every
 * 10 ticks, self-modifying code on each line, debugcon messages, and a
 * final dead halt (cli; hlt) after 100 ticks.
 */
#include "lib.h"

#define TICKS 100

extern u32 demo_smc_value(void);

static volatile u32 ticks;
static u32 idle_hash = 0x12345678;

static void timer_irq(struct irq_frame *f)
{
    (void)f;
    ticks++;
    if (ticks == TICKS)
        pic_mask(0);
    pic_eoi(0);
}

/* A little hot code between interrupts, so translated blocks chain. */
static void idle_work(void)
{
    u32 h = idle_hash;
    for (int i = 0; i < 64; i++)
        h = (h << 5 | h >> 27) ^ (h + (u32)i);
    idle_hash = h;
}

int main(void)
{
    dbg_puts("demo: start, PIT at 100 Hz on IRQ 0\n");
    kprintf("demo: bmbt-dbg default guest, %u ticks at 100 Hz\n", TICKS);

    pic_remap();
    set_handler(IRQ_VECTOR(0), timer_irq);
    pit_init_periodic(11932); /* 1193182 / 11932 = 100.0 Hz */
    pic_unmask(0);

    for (u32 next = 10; next <= TICKS; next += 10) {
        while (ticks < next) {
            idle_work();
            sti_hlt();
            cli();
        }
        kprintf("demo: tick %u, smc value %u\n", next, demo_smc_value());
        if (next == TICKS / 2)
            dbg_puts("demo: halfway\n");
    }
    kprintf("demo: done\n");
    dbg_puts("demo: done, halting with interrupts off\n");
    return 0; /* start.S: cli; hlt forever */
}
