/* Exported functions of a command: each is exported through a command-export wrapper that
   runs the constructors before it and __wasm_call_dtors (which flushes stdout) after it. */
#include <stdio.h>

static int base;

/* Not constant-folded by clang: the constructor reads a volatile. */
static volatile int seed = 40;
__attribute__((constructor)) static void init(void) { base = seed; }

__attribute__((export_name("add_base"))) int add(int a, int b) { return a + b + base; }

long long wide(void) { return (long long)base << 33; }

int main(void) {
    printf("base %d\n", base);
    return 0;
}
