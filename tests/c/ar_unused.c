// Archive member nobody references: it must not be loaded.
#include <stdio.h>
__attribute__((constructor)) static void unused_ctor(void) { printf("unused member loaded!\n"); }
int unused_function(void) { return 5; }
