// qsort and bsearch through function pointers; a dispatch table of function pointers.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_int_desc(const void *a, const void *b) { return cmp_int(b, a); }

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }

typedef int (*binop)(int, int);
static binop ops[] = {add, sub, mul};
static const char *names[] = {"add", "sub", "mul"};

int apply(binop f, int a, int b) { return f(a, b); }

int main(void) {
    int v[64];
    unsigned seed = 12345;
    for (int i = 0; i < 64; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (int)(seed >> 16) % 1000;
    }
    qsort(v, 64, sizeof v[0], cmp_int);
    for (int i = 0; i < 64; i += 8) printf("%d ", v[i]);
    printf("\n");
    int key = v[37];
    int *found = bsearch(&key, v, 64, sizeof v[0], cmp_int);
    printf("bsearch %d at %d\n", key, found ? (int)(found - v) : -1);
    qsort(v, 64, sizeof v[0], cmp_int_desc);
    printf("desc first %d last %d\n", v[0], v[63]);

    const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "date"};
    qsort(words, 6, sizeof words[0], cmp_str);
    for (int i = 0; i < 6; i++) printf("%s%c", words[i], i == 5 ? '\n' : ' ');

    for (int i = 0; i < 3; i++) printf("%s(7, 5) = %d\n", names[i], apply(ops[i], 7, 5));
    binop volatile pick = ops[v[0] % 3];
    printf("picked %d\n", pick(10, 3));
    return 0;
}
