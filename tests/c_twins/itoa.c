/* C twin of ir/itoa.ir. `itoa` and `itoa64` return two values: a struct (returned through
 * a pointer by the wasm32 C ABI). */
typedef unsigned int u32;
typedef unsigned long long u64;

int hash(const unsigned char *p, unsigned long len) {
    u32 h = 0;
    for (const unsigned char *q = p; q < p + len; q++)
        h = h * 31 + *q;
    return (int)h;
}

struct text {
    unsigned long len;
    int hash;
};

struct text itoa(int value) {
    unsigned char buf[16];
    int negative = value < 0;
    u32 n = negative ? 0u - (u32)value : (u32)value;
    int i = 16;
    do {
        i--;
        buf[i] = (unsigned char)(n % 10 + 48);
        n /= 10;
    } while (n);
    buf[i - 1] = '-';
    int start = negative ? i - 1 : i;
    struct text t;
    t.len = (unsigned long)(16 - start);
    t.hash = hash(buf + start, t.len);
    return t;
}

struct text itoa64(long long value) {
    unsigned char buf[24];
    int negative = value < 0;
    u64 n = negative ? 0ull - (u64)value : (u64)value;
    int i = 24;
    do {
        i--;
        buf[i] = (unsigned char)(n % 10 + 48);
        n /= 10;
    } while (n != 0);
    buf[i - 1] = '-';
    int start = negative ? i - 1 : i;
    struct text t;
    t.len = (unsigned long)(24 - start);
    t.hash = hash(buf + start, t.len);
    return t;
}
