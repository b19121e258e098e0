// Code that needs compiler-rt's builtins and libm: 128-bit integer multiply and divide
// (__multi3, __divti3, __udivti3; Debian's compiler-rt builds __modti3 and __umodti3 with a
// stack protector wasi-libc does not provide, so no `%` on 128 bits), long double (binary128) arithmetic (__addtf3,
// __multf3, __divtf3, conversions) and libm functions (fmod, sqrt, pow, floor).
#include <math.h>
#include <stdio.h>

static volatile long long seed = 1234567890123LL;

int main(void) {
    __int128 a = (__int128)seed * 1000000007LL;
    __int128 b = a * a / 977;
    unsigned __int128 u = (unsigned __int128)b / 1000000000000000003ULL;
    long long hi = (long long)(b >> 64), lo = (long long)b;
    printf("int128 hi %lld lo %lld quot %llu\n", hi, lo, (unsigned long long)u);

    long double x = (long double)seed / 7.0L;
    long double y = x * x + 0.5L;
    printf("long double %.6f %d\n", (double)(y / x), (int)(x > 1e11L));

    double d = (double)seed;
    printf("fmod %.3f sqrt %.3f pow %.3f floor %.1f\n", fmod(d, 97.5), sqrt(d), pow(1.5, 20.0),
           floor(-2.5));
    return 0;
}
