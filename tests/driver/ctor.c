/* An archive member nothing references: only --whole-archive loads it. Its constructor
   prints: Debian's crt1-command.o does not call __wasm_call_ctors, the command-export
   wrapper of _start does (as with wasm-ld). */
#include <stdio.h>

__attribute__((constructor)) static void hello_from_ctor(void) { puts("ctor ran"); }

int unreferenced_helper(void) { return 7; }
