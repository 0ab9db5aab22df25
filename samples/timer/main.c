/*
 * timer: PIT channel 0 in mode 2 at 1000 Hz, IRQ 0 counted by a handler.
 * The main loop sleeps with "sti; hlt" and prints every 10th tick.
 * The handler masks IRQ 0 itself at tick 100, so the count never passes 100.
 */
#include "lib.h"

#define TICKS_WANTED 100

static volatile u32 ticks;

static void timer_irq(struct irq_frame *f)
{
    (void)f;
    ticks++;
    if (ticks == TICKS_WANTED)
        pic_mask(0);
    pic_eoi(0);
}

int main(void)
{
    pic_remap();
    set_handler(IRQ_VECTOR(0), timer_irq);
    pit_init_periodic(1193); /* 1193182 / 1193 = 1000.15 Hz */
    pic_unmask(0);
    dbg_puts("timer: PIT at 1000 Hz, IRQ 0 unmasked\n");

    for (u32 next = 10; next <= TICKS_WANTED; next += 10) {
        /* interrupts are off here: check, then sleep atomically */
        while (ticks < next)
            sti_hlt(), cli();
        kprintf("tick %u\n", next);
    }
    kprintf("timer done: %u ticks\n", ticks);
    dbg_puts("timer: done\n");
    exit_qemu(0);
}
