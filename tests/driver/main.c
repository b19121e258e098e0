/* Calls a function defined in another object (twice.c, or twice.ir lowered by kiln). */
#include <stdio.h>

int twice(int);

int main(void) {
    printf("twice(21) = %d\n", twice(21));
    return 0;
}
