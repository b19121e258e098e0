/* C twin of ir/crc32.ir. `input` returns two values: a struct (returned through a pointer
 * by the wasm32 C ABI); `fill_table` is a constructor. */
typedef unsigned int u32;

static const char s0[] = "123456789";
static const char s1[] = "";
static const char s2[] = "a";
static const char s3[] = "The quick brown fox jumps over the lazy dog";

struct input {
    const unsigned char *p;
    unsigned len;
};

static const struct input inputs[4] = {
    {(const unsigned char *)s0, 9},
    {(const unsigned char *)s1, 0},
    {(const unsigned char *)s2, 1},
    {(const unsigned char *)s3, 43},
};

static u32 table[256];

struct input input(int i) { return inputs[i]; }

int rounds(int c) {
    u32 crc = (u32)c;
    for (int k = 0; k < 8; k++)
        crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    return (int)crc;
}

__attribute__((constructor)) void fill_table(void) {
    for (u32 i = 0; i < 256; i++)
        table[i] = (u32)rounds((int)i);
}

int crc_bitwise(int i) {
    struct input in = input(i);
    u32 crc = 0xffffffffu;
    for (const unsigned char *p = in.p; p < in.p + in.len; p++)
        crc = (u32)rounds((int)(crc ^ *p));
    return (int)~crc;
}

int crc_table(int i) {
    struct input in = input(i);
    u32 crc = 0xffffffffu;
    for (const unsigned char *p = in.p; p < in.p + in.len; p++)
        crc = table[(crc ^ *p) & 0xff] ^ (crc >> 8);
    return (int)~crc;
}

int table_entry(int i) { return (int)table[i]; }
