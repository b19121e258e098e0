/* C twin of ir/collatz.ir. `longest_below` returns two values: a struct (returned through
 * a pointer by the wasm32 C ABI). */
typedef unsigned int u32;
typedef unsigned long long u64;

int steps(long long start) {
    u64 n = (u64)start;
    int count = 0;
    while (n != 1) {
        n = (n & 1) ? n * 3 + 1 : n >> 1;
        count++;
    }
    return count;
}

long long peak(long long start) {
    u64 n = (u64)start, top = n;
    while (n != 1) {
        n = (n & 1) ? n * 3 + 1 : n >> 1;
        top = n > top ? n : top;
    }
    return (long long)top;
}

struct pair {
    int start, length;
};

struct pair longest_below(int bound) {
    int best = 1, best_len = -1;
    for (u32 i = 1; i < (u32)bound; i++) {
        int len = steps((long long)i);
        if (len > best_len) {
            best = (int)i;
            best_len = len;
        }
    }
    struct pair r = {best, best_len};
    return r;
}
