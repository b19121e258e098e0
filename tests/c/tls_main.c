// _Thread_local variables defined in two objects (tls_other.c), with initializers and in bss.
#include <stdio.h>

_Thread_local int counter = 5;
_Thread_local char tls_buf[32];
extern _Thread_local int other_tls;
extern _Thread_local long other_array[4];
int bump_other(void);

int main(void) {
    counter += 10;
    tls_buf[0] = 'x';
    tls_buf[31] = 'y';
    int b = bump_other();
    printf("tls counter %d buf %c%c other %d bump %d array %ld\n", counter, tls_buf[0],
           tls_buf[31], other_tls, b, other_array[0] + other_array[3]);
    return 0;
}
