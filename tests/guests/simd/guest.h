/* Shared by the SIMD guest's parts: port output and control registers. */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

void putc(char c);
void puts(const char *s);
void puthex(u32 v, int digits);
void putdec(int v);
int try_op(void (*fn)(void *), void *buf);
void p_dump_init(void *);
u32 get_cr0(void);
void set_cr0(u32 v);
void set_cr4(u32 v);
void probe_main(void);
void work_main(void);
void models_main(void);
