// Uses two members of libtwo.a (ar_a.c, ar_b.c); ar_unused.c is a third member that nobody
// needs, so its constructor must not run.
#include <stdio.h>

int from_a(int);
const char *from_b(void);

int main(void) {
    printf("archive: %d %s\n", from_a(20), from_b());
    return 0;
}
