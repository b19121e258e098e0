/* C twin of ir/utf8_decode.ir. `decode` returns two values: a struct (returned through a
 * pointer by the wasm32 C ABI). */
typedef unsigned int u32;

static const char s0[] = "h\xc3\xa9llo";
static const char s1[] = "\xe2\x82\xac";
static const char s2[] = "\xf0\x9d\x84\x9e";
static const char s3[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e";
static const char s5[] = "\xff";
static const char s6[] = "\xe2\x82";
static const char s7[] = "\x80" "a";

struct input {
    const unsigned char *p;
    unsigned len;
};

static const struct input inputs[8] = {
    {(const unsigned char *)s0, 6}, {(const unsigned char *)s1, 3},
    {(const unsigned char *)s2, 4}, {(const unsigned char *)s3, 10},
    {(const unsigned char *)s0, 0}, {(const unsigned char *)s5, 1},
    {(const unsigned char *)s6, 2}, {(const unsigned char *)s7, 2},
};

struct result {
    int count, sum;
};

struct result decode(int i) {
    const unsigned char *p = inputs[i].p, *end = p + inputs[i].len;
    struct result r = {0, 0};
    struct result bad = {-1, -1};
    while (p < end) {
        u32 lead = *p++;
        u32 cp, more;
        switch (lead >> 4) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
            cp = lead;
            more = 0;
            break;
        case 12: case 13:
            cp = lead & 31;
            more = 1;
            break;
        case 14:
            cp = lead & 15;
            more = 2;
            break;
        case 15:
            if (lead & 8)
                return bad;
            cp = lead & 7;
            more = 3;
            break;
        default:
            return bad;
        }
        for (; more; more--) {
            if (p >= end || (*p & 192) != 128)
                return bad;
            cp = cp << 6 | (*p++ & 63);
        }
        r.count++;
        r.sum += (int)cp;
    }
    return r;
}
