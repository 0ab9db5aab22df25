/* bench intloop-timer: the intloop benchmark with PIT channel 0 at 1000 Hz
 * and an IRQ 0 handler counting ticks while it runs. The tick count depends
 * on how fast the CPU is, so it is printed on its own line. */
#define BENCH_NAME "intloop-timer"
#define WITH_TIMER 1
#include "../intloop/main.c"
