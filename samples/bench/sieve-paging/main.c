/* bench sieve-paging: the sieve benchmark with paging enabled (4 KiB pages,
 * first 4 MiB identity mapped, page 0 unmapped). */
#define BENCH_NAME "sieve-paging"
#define WITH_PAGING 1
#include "../sieve/main.c"
