// Constructors with priorities and destructors: the order is observable on stdout.
#include <stdio.h>
#include <stdlib.h>

static int order[8];
static int n;

__attribute__((constructor(103))) static void third(void) { order[n++] = 3; }
__attribute__((constructor(101))) static void first(void) { order[n++] = 1; }
__attribute__((constructor)) static void last(void) { order[n++] = 9; }
__attribute__((constructor(102))) static void second(void) { order[n++] = 2; }

__attribute__((destructor)) static void goodbye(void) { printf("destructor\n"); }

static void at_exit_1(void) { printf("atexit 1\n"); }
static void at_exit_2(void) { printf("atexit 2\n"); }

int main(void) {
    atexit(at_exit_1);
    atexit(at_exit_2);
    printf("ctor order:");
    for (int i = 0; i < n; i++) printf(" %d", order[i]);
    printf("\n");
    return 0;
}
