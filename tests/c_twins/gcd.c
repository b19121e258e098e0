/* C twin of ir/gcd.ir. */
typedef unsigned int u32;
typedef unsigned long long u64;

int gcd(int a, int b) {
    u32 x = (u32)a, y = (u32)b;
    while (y != 0) {
        u32 r = x % y;
        x = y;
        y = r;
    }
    return (int)x;
}

long long binary_gcd(long long a0, long long b0) {
    u64 a = (u64)a0, b = (u64)b0;
    if (a == 0)
        return (long long)b;
    if (b == 0)
        return (long long)a;
    int shift = __builtin_ctzll(a | b);
    a >>= __builtin_ctzll(a);
    for (;;) {
        b >>= __builtin_ctzll(b);
        u64 lo = a > b ? b : a;
        u64 hi = a > b ? a : b;
        b = hi - lo;
        a = lo;
        if (b == 0)
            break;
    }
    return (long long)(a << shift);
}

long long lcm(long long a, long long b) {
    if (a == 0 || b == 0)
        return 0;
    return (long long)((u64)a / (u64)binary_gcd(a, b) * (u64)b);
}
