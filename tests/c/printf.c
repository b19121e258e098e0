// printf with many conversions: integers, floats, strings, widths, precisions, flags.
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    printf("int %d %i %u %x %X %o\n", -42, 17, 4000000000u, 0xbeef, 0xbeef, 0755);
    printf("width [%8d] [%-8d] [%08d] [%+d] [% d]\n", 123, 123, 123, 123, 123);
    printf("long %ld %lld %llu %" PRId64 " %" PRIx64 "\n", -1234567L, -123456789012345LL,
           18446744073709551615ULL, (int64_t)INT64_MIN, (uint64_t)0xdeadbeefcafeULL);
    printf("short %hd %hhu %zu\n", (short)-3, (unsigned char)250, sizeof(long long));
    printf("float %f %.3f %e %.2E %g %G %a\n", 3.14159265, 2.0 / 3.0, 12345.678, 0.000123,
           1e-10, 1e20, 1.0);
    printf("float width [%10.4f] [%-10.2f] [%+.1f]\n", -1.5, 2.25, 9.96);
    printf("special %f %f %f\n", 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0);
    printf("str [%s] [%10s] [%-10s] [%.3s] [%c%c%c]\n", "hello", "right", "left", "truncate", 'a',
           'b', 'c');
    printf("star [%*d] [%.*f] %%\n", 6, 42, 2, 3.14159);
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s-%d-%.1f", "snprintf", 7, 0.5);
    printf("%s (%d)\n", buf, n);
    n = snprintf(buf, 8, "%s", "this is too long");
    printf("%s (%d)\n", buf, n);
    puts("puts line");
    putchar('!');
    putchar('\n');
    fprintf(stderr, "to stderr\n");
    return 3;
}
