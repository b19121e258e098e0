// Large zero-initialized arrays (bss) next to initialized data.
#include <stdio.h>
#include <string.h>

static char big[4 << 20];
int grid[512][512];
static double table[100000];
static int initialized[4] = {1, 2, 3, 4};

int main(void) {
    long nonzero = 0;
    for (size_t i = 0; i < sizeof big; i += 4096) nonzero += big[i] != 0;
    memset(big, 7, sizeof big);
    long sum = 0;
    for (size_t i = 0; i < sizeof big; i += 1024) sum += big[i];
    for (int i = 0; i < 512; i++) grid[i][i] = i;
    long trace = 0;
    for (int i = 0; i < 512; i++) trace += grid[i][i];
    for (int i = 0; i < 100000; i++) table[i] = i * 0.5;
    printf("nonzero %ld sum %ld trace %ld table %.1f init %d\n", nonzero, sum, trace,
           table[99999], initialized[0] + initialized[3]);
    return 0;
}
