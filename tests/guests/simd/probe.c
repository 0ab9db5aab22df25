/*
 * SIMD probe: single MMX/SSE/SSE2 instructions on chosen operands, with chosen CR0/CR4/MXCSR,
 * printing the vector raised (or --), XMM0 afterwards and MXCSR, one case a line on the
 * debug console (port 0xE9). The same lines under QEMU 7.2 and bmbt-dbg are the test.
 * Compiled without SSE (the probes are assembly).
 */
#include "guest.h"

/* Probe routines: EBX = struct pbuf. They load MXCSR, XMM0/XMM1 (and MM0/MM1) from it and run one instruction. */
#define PROBE(name, insn) \
    __asm__(".text\n.globl " #name "\n" #name ":\n" \
            "ldmxcsr 48(%ebx)\n movups (%ebx), %xmm0\n movups 16(%ebx), %xmm1\n" \
            "movl 60(%ebx), %eax\n" insn "\n movl %eax, 56(%ebx)\n ret\n"); \
    void name(void *)

struct pbuf {
    u32 a[4], b[4], out[4];
    u32 mxcsr_in, mxcsr_out, eax_out, eax_in;
    u8 fx[512] __attribute__((aligned(16)));
};
static struct pbuf pb __attribute__((aligned(16)));

PROBE(p_addss, "addss %xmm1, %xmm0");
PROBE(p_mulss, "mulss %xmm1, %xmm0");
PROBE(p_divss, "divss %xmm1, %xmm0");
PROBE(p_sqrtss, "sqrtss %xmm1, %xmm0");
PROBE(p_maxss, "maxss %xmm1, %xmm0");
PROBE(p_minss, "minss %xmm1, %xmm0");
PROBE(p_rcpss, "rcpss %xmm1, %xmm0");
PROBE(p_rsqrtss, "rsqrtss %xmm1, %xmm0");
PROBE(p_rcpps, "rcpps %xmm1, %xmm0");
PROBE(p_cvtss2si, "cvtss2si %xmm1, %eax");
PROBE(p_cvttss2si, "cvttss2si %xmm1, %eax");
PROBE(p_cvtsi2ss, "cvtsi2ss %eax, %xmm0");
PROBE(p_addpd, "addpd %xmm1, %xmm0");
PROBE(p_mulsd, "mulsd %xmm1, %xmm0");
PROBE(p_cvtsd2ss, "cvtsd2ss %xmm1, %xmm0");
PROBE(p_cvtss2sd, "cvtss2sd %xmm1, %xmm0");
PROBE(p_cvtpd2dq, "cvtpd2dq %xmm1, %xmm0");
PROBE(p_cmpps, "cmpps $1, %xmm1, %xmm0");
PROBE(p_cmpunordps, "cmpps $3, %xmm1, %xmm0");
PROBE(p_comiss, "comiss %xmm1, %xmm0; pushfl; popl %eax");
PROBE(p_ucomiss, "ucomiss %xmm1, %xmm0; pushfl; popl %eax");
PROBE(p_xorps, "xorps %xmm1, %xmm0");
PROBE(p_paddb_x, "paddb %xmm1, %xmm0");
PROBE(p_ldmxcsr_bad, "ldmxcsr 60(%ebx)");
PROBE(p_emms, "emms");
PROBE(p_paddb_mm, "movq (%ebx), %mm0; movq 16(%ebx), %mm1; paddb %mm1, %mm0; movq %mm0, (%ebx)");
PROBE(p_fxsave, "fxsave 64(%ebx)");
PROBE(p_mmx_tags, "fninit; fld1; fld1; movq (%ebx), %mm2; fxsave 64(%ebx)");
PROBE(p_mmx_emms, "fninit; fld1; movq (%ebx), %mm2; emms; fxsave 64(%ebx)");
PROBE(p_mmx_pxor, "fninit; fld1; pxor %mm3, %mm3; fxsave 64(%ebx)");
PROBE(p_cvtpi2ps, "fninit; fld1; cvtpi2ps (%ebx), %xmm0; fxsave 64(%ebx)");
PROBE(p_cvtps2pi, "fninit; cvtps2pi %xmm1, %mm0; movq %mm0, 32(%ebx); fxsave 64(%ebx)");
PROBE(p_movd_fx, "fninit; movd %eax, %mm5; fxsave 64(%ebx)");
PROBE(p_fxrstor_x, "fxsave 64(%ebx); movl $0x12345678, 64+160(%ebx); movl $0xffff, 64+24(%ebx); fxrstor 64(%ebx)");
PROBE(p_pause, "pause; lfence; mfence; sfence; clflush (%ebx)");

__asm__(".text\n.globl p_dump\np_dump:\n movups %xmm0, 32(%ebx)\n stmxcsr 52(%ebx)\n ret\n");
void p_dump(void *);

#define F(x) (x)
struct pcase {
    const char *name;
    void (*fn)(void *);
    u32 cr0, cr4, mxcsr;
    u32 a[4], b[4];
    u32 eax;
    int fx; /* print parts of the FXSAVE image */
};

#define ONE 0x3f800000u
#define QNAN1 0x7fc00001u
#define QNAN2 0xffc00002u
#define SNAN1 0x7f800003u
#define SSE_CR4 0x600u

static const struct pcase cases[] = {
    { "mulss tiny-after-rounding", p_mulss, 0, SSE_CR4, 0x1f80, {0x3f800001}, {0x007fffff}, 0, 0 },
    { "mulss tiny ftz", p_mulss, 0, SSE_CR4, 0x9f80, {0x3f000000}, {0x00800001}, 0, 0 },
    { "mulss tiny no-ftz", p_mulss, 0, SSE_CR4, 0x1f80, {0x3f000000}, {0x00800001}, 0, 0 },
    { "mulss tiny exact", p_mulss, 0, SSE_CR4, 0x1f80, {0x3f000000}, {0x00800002}, 0, 0 },
    { "mulss ftz exact-tiny", p_mulss, 0, SSE_CR4, 0x9f80, {0x3f000000}, {0x00800002}, 0, 0 },
    { "addss daz", p_addss, 0, SSE_CR4, 0x1fc0, {1}, {ONE}, 0, 0 },
    { "addss denormal", p_addss, 0, SSE_CR4, 0x1f80, {1}, {ONE}, 0, 0 },
    { "addss pe unmasked xm", p_addss, 0, SSE_CR4, 0x0f80, {ONE, 5, 6, 7}, {0x33800000}, 0, 0 },
    { "addss pe unmasked ud", p_addss, 0, 0x200, 0x0f80, {ONE, 5, 6, 7}, {0x33800000}, 0, 0 },
    { "addss pe unmasked, pe set", p_addss, 0, SSE_CR4, 0x0fa0, {ONE, 5, 6, 7}, {0x33800000}, 0, 0 },
    { "mulss ue unmasked", p_mulss, 0, SSE_CR4, 0x1780, {0x3f000000}, {0x00800001}, 0, 0 },
    { "mulss oe unmasked", p_mulss, 0, SSE_CR4, 0x1b80, {0x7f000000}, {0x7f000000}, 0, 0 },
    { "mulss oe masked rz", p_mulss, 0, SSE_CR4, 0x7f80, {0x7f000000}, {0x7f000000}, 0, 0 },
    { "divss ze unmasked", p_divss, 0, SSE_CR4, 0x1d80, {ONE}, {0}, 0, 0 },
    { "sqrtss ie unmasked", p_sqrtss, 0, SSE_CR4, 0x1f00, {ONE}, {0xbf800000}, 0, 0 },
    { "sqrtss neg", p_sqrtss, 0, SSE_CR4, 0x1f80, {ONE}, {0xbf800000}, 0, 0 },
    { "addss de unmasked", p_addss, 0, SSE_CR4, 0x1e80, {ONE}, {1}, 0, 0 },
    { "addss qnan qnan", p_addss, 0, SSE_CR4, 0x1f80, {QNAN1}, {QNAN2}, 0, 0 },
    { "addss qnan snan", p_addss, 0, SSE_CR4, 0x1f80, {QNAN1}, {SNAN1}, 0, 0 },
    { "addss snan qnan", p_addss, 0, SSE_CR4, 0x1f80, {SNAN1}, {QNAN2}, 0, 0 },
    { "addss one snan", p_addss, 0, SSE_CR4, 0x1f80, {ONE}, {SNAN1}, 0, 0 },
    { "addss inf -inf", p_addss, 0, SSE_CR4, 0x1f80, {0x7f800000}, {0xff800000}, 0, 0 },
    { "maxss nan 1", p_maxss, 0, SSE_CR4, 0x1f80, {QNAN1}, {ONE}, 0, 0 },
    { "maxss 1 nan", p_maxss, 0, SSE_CR4, 0x1f80, {ONE}, {QNAN1}, 0, 0 },
    { "maxss 1 snan", p_maxss, 0, SSE_CR4, 0x1f80, {ONE}, {SNAN1}, 0, 0 },
    { "minss 0 -0", p_minss, 0, SSE_CR4, 0x1f80, {0}, {0x80000000}, 0, 0 },
    { "minss -0 0", p_minss, 0, SSE_CR4, 0x1f80, {0x80000000}, {0}, 0, 0 },
    { "maxss denorm", p_maxss, 0, SSE_CR4, 0x1f80, {1}, {ONE}, 0, 0 },
    { "rcpss 3", p_rcpss, 0, SSE_CR4, 0x1f80, {0}, {0x40400000}, 0, 0 },
    { "rcpss 1", p_rcpss, 0, SSE_CR4, 0x1f80, {0}, {ONE}, 0, 0 },
    { "rcpss 0", p_rcpss, 0, SSE_CR4, 0x1f80, {0}, {0}, 0, 0 },
    { "rcpss denorm", p_rcpss, 0, SSE_CR4, 0x1f80, {0}, {1}, 0, 0 },
    { "rcpss huge", p_rcpss, 0, SSE_CR4, 0x1f80, {0}, {0x7f000000}, 0, 0 },
    { "rcpss snan", p_rcpss, 0, SSE_CR4, 0x1f80, {0}, {SNAN1}, 0, 0 },
    { "rcpss 3 pe unmasked", p_rcpss, 0, SSE_CR4, 0x0f80, {0}, {0x40400000}, 0, 0 },
    { "rsqrtss 2", p_rsqrtss, 0, SSE_CR4, 0x1f80, {0}, {0x40000000}, 0, 0 },
    { "rsqrtss -1", p_rsqrtss, 0, SSE_CR4, 0x1f80, {0}, {0xbf800000}, 0, 0 },
    { "rsqrtss 3", p_rsqrtss, 0, SSE_CR4, 0x1f80, {0}, {0x40400000}, 0, 0 },
    { "rcpps 7 rz", p_rcpps, 0, SSE_CR4, 0x7f80, {0}, {0x40e00000, 0x3f800000, 0xc0400000, 0x00000000}, 0, 0 },
    { "cvtss2si big", p_cvtss2si, 0, SSE_CR4, 0x1f80, {0}, {0x5f000000}, 0, 0 },
    { "cvtss2si nan", p_cvtss2si, 0, SSE_CR4, 0x1f80, {0}, {QNAN1}, 0, 0 },
    { "cvtss2si 2.5", p_cvtss2si, 0, SSE_CR4, 0x1f80, {0}, {0x40200000}, 0, 0 },
    { "cvtss2si 2.5 up", p_cvtss2si, 0, SSE_CR4, 0x5f80, {0}, {0x40200000}, 0, 0 },
    { "cvttss2si -2.5", p_cvttss2si, 0, SSE_CR4, 0x1f80, {0}, {0xc0200000}, 0, 0 },
    { "cvtss2si big unmasked", p_cvtss2si, 0, SSE_CR4, 0x1f00, {0}, {0x5f000000}, 0x77, 0 },
    { "cvtsi2ss inexact", p_cvtsi2ss, 0, SSE_CR4, 0x1f80, {9, 9, 9, 9}, {0}, 0x7fffffff, 0 },
    { "cvtsi2ss inexact dn", p_cvtsi2ss, 0, SSE_CR4, 0x3f80, {9, 9, 9, 9}, {0}, 0x7fffffff, 0 },
    { "addpd nan", p_addpd, 0, SSE_CR4, 0x1f80, {0, 0x7ff00000, 1, 0x7ff00000}, {0, 0xfff80000, 0, 0x3ff00000}, 0, 0 },
    { "mulsd tiny", p_mulsd, 0, SSE_CR4, 0x1f80, {1, 0x00100000}, {0, 0x3fe00000}, 0, 0 },
    { "mulsd tiny-after-rounding", p_mulsd, 0, SSE_CR4, 0x1f80, {0xffffffff, 0x000fffff}, {1, 0x3ff00000}, 0, 0 },
    { "cvtsd2ss ovf", p_cvtsd2ss, 0, SSE_CR4, 0x1f80, {0}, {0, 0x47f00000}, 0, 0 },
    { "cvtsd2ss snan", p_cvtsd2ss, 0, SSE_CR4, 0x1f80, {0}, {0x12345678, 0x7ff12345}, 0, 0 },
    { "cvtss2sd snan", p_cvtss2sd, 0, SSE_CR4, 0x1f80, {0}, {0x7f812345}, 0, 0 },
    { "cvtss2sd denorm daz", p_cvtss2sd, 0, SSE_CR4, 0x1fc0, {0}, {0x00000011}, 0, 0 },
    { "cvtpd2dq", p_cvtpd2dq, 0, SSE_CR4, 0x1f80, {1, 2, 3, 4}, {0, 0x41e00000, 0, 0xc0040000}, 0, 0 },
    { "cmpltps nan", p_cmpps, 0, SSE_CR4, 0x1f80, {ONE, QNAN1, ONE, SNAN1}, {0x40000000, ONE, QNAN1, ONE}, 0, 0 },
    { "cmpunordps", p_cmpunordps, 0, SSE_CR4, 0x1f80, {ONE, QNAN1, ONE, SNAN1}, {0x40000000, ONE, QNAN1, ONE}, 0, 0 },
    { "comiss qnan", p_comiss, 0, SSE_CR4, 0x1f80, {QNAN1}, {ONE}, 0, 0 },
    { "ucomiss qnan", p_ucomiss, 0, SSE_CR4, 0x1f80, {QNAN1}, {ONE}, 0, 0 },
    { "ucomiss lt", p_ucomiss, 0, SSE_CR4, 0x1f80, {ONE}, {0x40000000}, 0, 0 },
    { "xorps no osfxsr", p_xorps, 0, 0, 0x1f80, {1}, {2}, 0, 0 },
    { "xorps em", p_xorps, 0x4, SSE_CR4, 0x1f80, {1}, {2}, 0, 0 },
    { "xorps ts", p_xorps, 0x8, SSE_CR4, 0x1f80, {1}, {2}, 0, 0 },
    { "paddb xmm", p_paddb_x, 0, SSE_CR4, 0x1f80, {0x80ff7f01}, {0x80017f01}, 0, 0 },
    { "paddb mm no osfxsr", p_paddb_mm, 0, 0, 0x1f80, {0x80ff7f01}, {0x80017f01}, 0, 0 },
    { "emms em", p_emms, 0x4, SSE_CR4, 0x1f80, {0}, {0}, 0, 0 },
    { "emms ts", p_emms, 0x8, SSE_CR4, 0x1f80, {0}, {0}, 0, 0 },
    { "ldmxcsr reserved", p_ldmxcsr_bad, 0, SSE_CR4, 0x1f80, {0}, {0}, 0x10000, 0 },
    { "ldmxcsr daz", p_ldmxcsr_bad, 0, SSE_CR4, 0x1f80, {0}, {0}, 0xffff, 0 },
    { "fxsave", p_fxsave, 0, SSE_CR4, 0x1f80, {0x11111111, 0x22222222, 0x33333333, 0x44444444}, {0x55}, 0, 1 },
    { "fxsave no osfxsr", p_fxsave, 0, 0, 0x1f80, {0x11111111, 0x22222222, 0x33333333, 0x44444444}, {0x55}, 0, 1 },
    { "mmx tags", p_mmx_tags, 0, SSE_CR4, 0x1f80, {0x89abcdef, 0x01234567}, {0}, 0, 2 },
    { "mmx emms", p_mmx_emms, 0, SSE_CR4, 0x1f80, {0x89abcdef, 0x01234567}, {0}, 0, 2 },
    { "mmx pxor", p_mmx_pxor, 0, SSE_CR4, 0x1f80, {0}, {0}, 0, 2 },
    { "cvtpi2ps", p_cvtpi2ps, 0, SSE_CR4, 0x1f80, {3, 0xfffffffd}, {0}, 0, 2 },
    { "cvtps2pi", p_cvtps2pi, 0, SSE_CR4, 0x1f80, {0}, {0x40200000, 0xc0600000}, 0, 2 },
    { "movd mm5", p_movd_fx, 0, SSE_CR4, 0x1f80, {0}, {0}, 0xdeadbeef, 2 },
    { "fxrstor bad mxcsr", p_fxrstor_x, 0, SSE_CR4, 0x1f80, {0}, {0}, 0, 0 },
    { "fence pause", p_pause, 0, SSE_CR4, 0x1f80, {0}, {0}, 0, 0 },
};

static void run_case(const struct pcase *c)
{
    for (int i = 0; i < 4; i++) {
        pb.a[i] = c->a[i];
        pb.b[i] = c->b[i];
    }
    pb.mxcsr_in = c->mxcsr;
    pb.eax_in = c->eax;
    pb.eax_out = 0;
    /* a known MXCSR and XMM0 before, for faulting cases */
    set_cr4(SSE_CR4);
    set_cr0(get_cr0() & ~0xcu);
    try_op(p_dump_init, &pb);
    set_cr4(c->cr4);
    set_cr0((get_cr0() & ~0xeu) | c->cr0 | 0x22u);
    int v = try_op(c->fn, &pb);
    set_cr0(get_cr0() & ~0xcu);
    set_cr4(SSE_CR4);
    try_op(p_dump, &pb);
    puts(c->name);
    puts(": ");
    if (v < 0)
        puts("--");
    else
        puthex((u32)v, 2);
    puts(" x0=");
    for (int i = 3; i >= 0; i--)
        puthex(pb.out[i], 8);
    puts(" mxcsr=");
    puthex(pb.mxcsr_out, 8);
    puts(" eax=");
    puthex(pb.eax_out, 8);
    if (c->fx == 1) {
        puts(" fx:");
        u32 *w = (u32 *)pb.fx;
        puthex(w[6], 8);
        putc(' ');
        puthex(w[7], 8);
        putc(' ');
        puthex(w[40], 8);
        puthex(w[41], 8);
    } else if (c->fx == 2) {
        u32 *w = (u32 *)pb.fx;
        puts(" fsw/ftw=");
        puthex(w[0] >> 16, 4);
        putc('/');
        puthex(w[1] & 0xffff, 4);
        puts(" st:");
        for (int r = 0; r < 8; r++) {
            putc(' ');
            puthex(w[8 + 4 * r + 2] & 0xffff, 4);
            putc(':');
            puthex(w[8 + 4 * r + 1], 8);
            puthex(w[8 + 4 * r], 8);
        }
    }
    putc('\n');
}

void probe_main(void)
{
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* Which instructions each CPU model has: the vector (or --) of one instruction each (no SSE set-up first). */
#define MPROBE(name, insn) \
    __asm__(".text\n.globl " #name "\n" #name ":\n" insn "\n ret\n"); \
    void name(void *)
MPROBE(m_emms, "emms");
MPROBE(m_paddb_mm, "paddb %mm1, %mm0");
MPROBE(m_pshufw, "pshufw $0x1b, %mm1, %mm0");
MPROBE(m_paddq_mm, "paddq %mm1, %mm0");
MPROBE(m_movd, "movd %eax, %mm3; movd %mm3, %eax");
MPROBE(m_xorps, "xorps %xmm1, %xmm0");
MPROBE(m_addpd, "addpd %xmm1, %xmm0");
MPROBE(m_paddb_x, "paddb %xmm1, %xmm0");
MPROBE(m_stmxcsr, "stmxcsr 52(%ebx)");
MPROBE(m_sfence, "sfence");
MPROBE(m_lfence, "lfence");
MPROBE(m_mfence, "mfence");
MPROBE(m_clflush, "clflush (%ebx)");
MPROBE(m_movnti, "movnti %eax, 56(%ebx)");
MPROBE(m_prefetch, "prefetchnta (%ebx); prefetcht0 (%ebx)");
MPROBE(m_pause, "pause");
MPROBE(m_fxsave, "fxsave 64(%ebx)");
MPROBE(m_haddps, "haddps %xmm1, %xmm0");
MPROBE(m_movddup, "movddup %xmm1, %xmm0");
MPROBE(m_lddqu, "lddqu (%ebx), %xmm0");
MPROBE(m_addsubpd, "addsubpd %xmm1, %xmm0");
MPROBE(m_monitor, "xorl %ecx, %ecx; xorl %edx, %edx; movl %ebx, %eax; monitor");

static const struct { const char *name; void (*fn)(void *); } model_probes[] = {
    { "emms", m_emms }, { "paddb mm", m_paddb_mm }, { "pshufw", m_pshufw }, { "paddq mm", m_paddq_mm },
    { "movd mm", m_movd }, { "xorps", m_xorps }, { "addpd", m_addpd }, { "paddb xmm", m_paddb_x },
    { "stmxcsr", m_stmxcsr }, { "sfence", m_sfence }, { "lfence", m_lfence }, { "mfence", m_mfence },
    { "clflush", m_clflush }, { "movnti", m_movnti }, { "prefetch", m_prefetch }, { "pause", m_pause },
    { "fxsave", m_fxsave }, { "haddps", m_haddps }, { "movddup", m_movddup }, { "lddqu", m_lddqu },
    { "addsubpd", m_addsubpd }, { "monitor", m_monitor },
};


/* FXSAVE/FXRSTOR with CR4.OSFXSR clear: are MXCSR and XMM saved and loaded? */
static u8 fxbuf[512] __attribute__((aligned(16)));
MPROBE(m_fxsave_buf, "fxsave (%ebx)");
MPROBE(m_fxrstor_buf, "fxrstor (%ebx)");
MPROBE(m_set_sse, "movl $0x1f81, 48(%ebx); ldmxcsr 48(%ebx); pcmpeqd %xmm0, %xmm0");
MPROBE(m_get_sse, "stmxcsr 52(%ebx); movd %xmm0, %eax; movl %eax, 56(%ebx)");

static void fx_without_osfxsr(void)
{
    u32 cr4;
    __asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
    if (!(cr4 & 0x200))
        return;
    try_op(m_set_sse, &pb); /* MXCSR 1f81, XMM0 all ones */
    for (int i = 0; i < 512; i++)
        fxbuf[i] = 0xaa;
    set_cr4(cr4 & ~0x200u);
    try_op(m_fxsave_buf, fxbuf);
    puts("fxsave without osfxsr: mxcsr ");
    puthex(*(u32 *)(fxbuf + 24), 8);
    puts(" mask ");
    puthex(*(u32 *)(fxbuf + 28), 8);
    puts(" xmm0 ");
    puthex(*(u32 *)(fxbuf + 160), 8);
    putc('\n');
    /* an image with MXCSR 1f80 and XMM0 0: loaded without OSFXSR? */
    *(u32 *)(fxbuf + 24) = 0x1f80;
    *(u32 *)(fxbuf + 160) = 0;
    try_op(m_fxrstor_buf, fxbuf);
    set_cr4(cr4);
    try_op(m_get_sse, &pb);
    puts("fxrstor without osfxsr: mxcsr ");
    puthex(pb.mxcsr_out, 8);
    puts(" xmm0 ");
    puthex(pb.eax_out, 8);
    putc('\n');
}

void models_main(void)
{
    u32 cr4;
    set_cr4(0x600);
    __asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
    puts("cr4 after writing 600: ");
    puthex(cr4, 8);
    putc('\n');
    for (unsigned i = 0; i < sizeof(model_probes) / sizeof(model_probes[0]); i++) {
        int v = try_op(model_probes[i].fn, &pb);
        puts(model_probes[i].name);
        puts(": ");
        if (v < 0)
            puts("--");
        else
            puthex((u32)v, 2);
        putc('\n');
    }
    fx_without_osfxsr();
}
