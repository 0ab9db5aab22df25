/*
 * A C program compiled with gcc -m32 -msse2 -mfpmath=sse -O3: loops gcc vectorises
 * (float and integer SAXPY-like kernels, reductions, conversions), double-precision maths
 * (a Mandelbrot count, Newton square roots, a small n-body step, a polynomial), and
 * prints every result as bits, so a one-ulp difference shows.
 */
#include "guest.h"

#define N 1024
static float fa[N], fb[N], fc[N];
static double da[N], db[N];
static int ia[N], ib[N];
static short sa[N], sb[N];
static unsigned char ua[N], ub[N];

static void put_f(float f)
{
    union { float f; u32 u; } x = { f };
    puthex(x.u, 8);
}
static void put_d(double d)
{
    union { double d; u64 u; } x = { d };
    puthex((u32)(x.u >> 32), 8);
    puthex((u32)x.u, 8);
}

static u32 seed = 12345;
static u32 rnd(void)
{
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
}

__attribute__((noinline)) static void init(void)
{
    for (int i = 0; i < N; i++) {
        fa[i] = (float)(int)(rnd() % 20001 - 10000) / 37.0f;
        fb[i] = (float)(int)(rnd() % 20001 - 10000) / 113.0f;
        da[i] = (double)(int)(rnd() % 2000001 - 1000000) / 7.0;
        db[i] = (double)(int)(rnd() % 2000001 - 1000000) / 3.0;
        ia[i] = (int)rnd();
        ib[i] = (int)rnd();
        sa[i] = (short)rnd();
        sb[i] = (short)rnd();
        ua[i] = (u8)rnd();
        ub[i] = (u8)rnd();
    }
}

__attribute__((noinline)) static void saxpy(float a)
{
    for (int i = 0; i < N; i++)
        fc[i] = a * fa[i] + fb[i];
}

__attribute__((noinline)) static float fsum(void)
{
    float s = 0;
    for (int i = 0; i < N; i++)
        s += fc[i] * fa[i];
    return s;
}

__attribute__((noinline)) static double ddot(void)
{
    double s = 0;
    for (int i = 0; i < N; i++)
        s += da[i] * db[i];
    return s;
}

__attribute__((noinline)) static void dscale(double k)
{
    for (int i = 0; i < N; i++)
        da[i] = da[i] * k - db[i] / (1.0 + (double)(i & 7));
}

__attribute__((noinline)) static u32 isum(void)
{
    u32 s = 0;
    for (int i = 0; i < N; i++) {
        ia[i] = ia[i] * 3 + (ib[i] >> 3);
        s += (u32)ia[i] ^ (u32)ib[i];
    }
    return s;
}

__attribute__((noinline)) static u32 ssat(void)
{
    u32 s = 0;
    for (int i = 0; i < N; i++) {
        int v = sa[i] + sb[i];
        sa[i] = (short)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
        s = s * 31 + (u16)sa[i];
    }
    return s;
}

__attribute__((noinline)) static u32 umax(void)
{
    u32 s = 0;
    for (int i = 0; i < N; i++) {
        ua[i] = ua[i] > ub[i] ? ua[i] : ub[i];
        s += ua[i];
    }
    return s;
}

__attribute__((noinline)) static u32 conv(void)
{
    u32 s = 0;
    for (int i = 0; i < N; i++) {
        fc[i] = (float)ia[i];
        ib[i] = (int)(fa[i] * 100.0f);
        s += (u32)ib[i];
    }
    for (int i = 0; i < N; i++)
        db[i] = (double)fc[i] * 0.5 + (double)ib[i];
    return s;
}

__attribute__((noinline)) static int mandel(void)
{
    int total = 0;
    for (int y = 0; y < 24; y++) {
        for (int x = 0; x < 64; x++) {
            double cr = -2.0 + x * (2.6 / 64), ci = -1.2 + y * (2.4 / 24);
            double zr = 0, zi = 0;
            int k = 0;
            while (k < 200 && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                k++;
            }
            total += k;
        }
    }
    return total;
}

__attribute__((noinline)) static double newton(double v)
{
    double x = v;
    for (int i = 0; i < 30; i++)
        x = 0.5 * (x + v / x);
    return x - __builtin_sqrt(v);
}

struct body { double x, y, z, vx, vy, vz, m; };
static struct body bodies[5] = {
    { 0, 0, 0, 0, 0, 0, 39.47841760435743 },
    { 4.84, -1.16, -0.10, 0.606, 2.81, -0.02, 0.037 },
    { 8.34, 4.12, -0.40, -1.01, 1.82, 0.008, 0.011 },
    { 12.89, -15.11, -0.22, 1.08, 0.868, -0.01, 0.0017 },
    { 15.37, -25.91, 0.179, 0.979, 0.594, -0.034, 0.002 },
};

__attribute__((noinline)) static double nbody(int steps)
{
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++) {
                double dx = bodies[i].x - bodies[j].x, dy = bodies[i].y - bodies[j].y, dz = bodies[i].z - bodies[j].z;
                double d2 = dx * dx + dy * dy + dz * dz;
                double mag = 0.01 / (d2 * __builtin_sqrt(d2));
                bodies[i].vx -= dx * bodies[j].m * mag;
                bodies[i].vy -= dy * bodies[j].m * mag;
                bodies[i].vz -= dz * bodies[j].m * mag;
                bodies[j].vx += dx * bodies[i].m * mag;
                bodies[j].vy += dy * bodies[i].m * mag;
                bodies[j].vz += dz * bodies[i].m * mag;
            }
        for (int i = 0; i < 5; i++) {
            bodies[i].x += 0.01 * bodies[i].vx;
            bodies[i].y += 0.01 * bodies[i].vy;
            bodies[i].z += 0.01 * bodies[i].vz;
        }
    }
    double e = 0;
    for (int i = 0; i < 5; i++)
        e += 0.5 * bodies[i].m * (bodies[i].vx * bodies[i].vx + bodies[i].vy * bodies[i].vy + bodies[i].vz * bodies[i].vz);
    return e;
}

__attribute__((noinline)) static float fminmax(void)
{
    float lo = fa[0], hi = fa[0];
    for (int i = 1; i < N; i++) {
        lo = fa[i] < lo ? fa[i] : lo;
        hi = fa[i] > hi ? fa[i] : hi;
    }
    return hi - lo;
}

void work_main(void)
{
    init();
    saxpy(1.5f);
    puts("saxpy sum "); put_f(fsum()); putc('\n');
    puts("ddot "); put_d(ddot()); putc('\n');
    dscale(0.3);
    puts("ddot2 "); put_d(ddot()); putc('\n');
    puts("isum "); puthex(isum(), 8); putc('\n');
    puts("ssat "); puthex(ssat(), 8); putc('\n');
    puts("umax "); puthex(umax(), 8); putc('\n');
    puts("conv "); puthex(conv(), 8); putc(' '); put_d(ddot()); putc('\n');
    puts("minmax "); put_f(fminmax()); putc('\n');
    puts("mandel "); putdec(mandel()); putc('\n');
    puts("newton "); put_d(newton(2.0)); putc(' '); put_d(newton(12345.678)); putc('\n');
    puts("nbody "); put_d(nbody(200)); putc('\n');
}
