/* C twin of ir/strings.ir (its `strlen`, `strcmp` and `atoi` take string numbers, not
 * pointers, like the IR's). `upper_hash` returns two values: a struct (returned through a
 * pointer by the wasm32 C ABI). */
typedef unsigned int u32;

static const char *const strings[8] = {"", "hello", "hello world", "help", "\xff", "a", "-12345", "  42x"};
static unsigned char buf[64];

const unsigned char *str(int i) { return (const unsigned char *)strings[i]; }

unsigned long c_strlen(const unsigned char *s) {
    const unsigned char *p = s;
    while (*p)
        p++;
    return (unsigned long)(p - s);
}

unsigned long strlen(int i) { return c_strlen(str(i)); }

int strcmp(int i, int j) {
    const unsigned char *a = str(i), *b = str(j);
    for (;;) {
        unsigned char x = *a, y = *b;
        if (x != y)
            return x < y ? -1 : 1;
        if (!x)
            return 0;
        a++;
        b++;
    }
}

struct text {
    int len, hash;
};

struct text upper_hash(int i) {
    const unsigned char *s = str(i);
    u32 h = 0;
    int n = 0;
    for (; s[n]; n++) {
        unsigned char c = s[n];
        unsigned char u = (u32)(c - 'a') < 26 ? (unsigned char)(c - 32) : c;
        buf[n] = u;
        h = h * 31 + u;
    }
    struct text t = {n, (int)h};
    return t;
}

int atoi(int i) {
    const unsigned char *s = str(i);
    while (*s == ' ')
        s++;
    int negative = *s == '-';
    s += negative;
    u32 n = 0;
    for (;;) {
        u32 d = (u32)*s - '0';
        if (d >= 10)
            break;
        n = n * 10 + d;
        s++;
    }
    return (int)(negative ? 0u - n : n);
}
