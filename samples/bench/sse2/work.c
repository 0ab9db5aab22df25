/*
 * The SSE2 workload (compiled with -msse2 -mfpmath=sse -O3): a float SAXPY and dot
 * product gcc vectorises (MULPS/ADDPS), an integer mix (PADDD/PMULUDQ/PXOR), a Mandelbrot
 * count and Newton iterations in scalar double (MULSD/ADDSD/DIVSD/SQRTSD/UCOMISD), and
 * conversions (CVTSI2SD/CVTTSD2SI); every result is folded into a checksum.
 */
typedef unsigned int u32;

#define N 4096
static float xa[N], xb[N], xc[N];
static u32 ia[N], ib[N];

static u32 mix(u32 h, u32 v) { return ((h << 5) | (h >> 27)) ^ v; }

static u32 bits(float f)
{
    union { float f; u32 u; } x = { f };
    return x.u;
}

static u32 dbits(double d)
{
    union { double d; u32 u[2]; } x = { d };
    return x.u[0] ^ x.u[1];
}

__attribute__((noinline)) static void saxpy(float a)
{
    for (int i = 0; i < N; i++)
        xc[i] = a * xa[i] + xb[i];
}

__attribute__((noinline)) static float dot(void)
{
    float s = 0;
    for (int i = 0; i < N; i++)
        s += xc[i] * xa[i];
    return s;
}

__attribute__((noinline)) static u32 ints(void)
{
    u32 s = 0;
    for (int i = 0; i < N; i++) {
        ia[i] = ia[i] * 2654435761u + (ib[i] ^ (ib[i] >> 7));
        s += ia[i];
    }
    return s;
}

__attribute__((noinline)) static int mandel(int w, int h, int iters)
{
    int total = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double cr = -2.0 + x * (2.6 / w), ci = -1.2 + y * (2.4 / h);
            double zr = 0, zi = 0;
            int k = 0;
            while (k < iters && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                k++;
            }
            total += k;
        }
    return total;
}

__attribute__((noinline)) static double newton(int n)
{
    double acc = 0;
    for (int i = 1; i <= n; i++) {
        double v = i * 1.37;
        double x = v;
        for (int k = 0; k < 6; k++)
            x = 0.5 * (x + v / x);
        acc += x - __builtin_sqrt(v) + (double)(int)(x * 1000.0);
    }
    return acc;
}

u32 sse2_work(void)
{
    u32 seed = 1;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        xa[i] = (float)(int)(seed >> 12) / 4096.0f - 512.0f;
        xb[i] = (float)(int)(seed & 0xffff) / 256.0f;
        ia[i] = seed;
        ib[i] = seed ^ 0x5bd1e995u;
    }
    u32 h = 0;
    for (int r = 0; r < 400; r++) {
        saxpy(1.0f + r / 64.0f);
        h = mix(h, bits(dot()));
        h = mix(h, ints());
    }
    h = mix(h, (u32)mandel(320, 120, 256));
    h = mix(h, dbits(newton(300000)));
    return h;
}
