// String functions of wasi-libc: formatting into buffers, searching, splitting, copying
// overlapping memory, conversions, sorting strings with a function pointer.
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_length(const void *a, const void *b) {
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    return lx < ly ? -1 : lx > ly ? 1 : strcmp(x, y);
}

int main(void) {
    char buf[128];
    int n = snprintf(buf, sizeof buf, "%s-%05d-%x-%c-%.3s", "id", 42, 0xbeef, 'Z', "abcdef");
    printf("snprintf %d \"%s\"\n", n, buf);

    char text[] = "the,quick,,brown,fox";
    const char *words[8];
    int count = 0;
    for (char *w = strtok(text, ","); w && count < 8; w = strtok(NULL, ","))
        words[count++] = w;
    qsort(words, (size_t)count, sizeof words[0], by_length);
    for (int i = 0; i < count; i++)
        printf("%s%s", i ? " " : "", words[i]);
    printf(" (%d)\n", count);

    char mem[16] = "0123456789";
    memmove(mem + 2, mem, 8);
    mem[10] = 0;
    printf("memmove %s memcmp %d\n", mem, memcmp("abc", "abd", 3) < 0);

    const char *hay = "needle in a haystack with another needle";
    printf("strrchr %s strspn %zu strcspn %zu\n", strrchr(hay, 'w'), strspn(hay, "nedl"),
           strcspn(hay, "xyz"));
    printf("strtol %ld strtoul %lu atoi %d strtod %.2f\n", strtol("-0x1f", NULL, 16),
           strtoul("777", NULL, 8), atoi("  123abc"), strtod("2.5e2", NULL));

    char upper[32];
    size_t i = 0;
    for (const char *p = "Mixed Case 123"; *p && i + 1 < sizeof upper; p++)
        upper[i++] = (char)toupper((unsigned char)*p);
    upper[i] = 0;
    char *dup = strdup(upper);
    printf("upper %s dup-equal %d\n", upper, strcmp(dup, upper) == 0);
    free(dup);
    return 0;
}
