/* An archive member nothing references: only --whole-archive loads it. (Its constructor
   would print, but Debian's crt1-command.o does not call __wasm_call_ctors and kiln does
   not yet wrap exports in command exports as wasm-ld does.) */
#include <stdio.h>

__attribute__((constructor)) static void hello_from_ctor(void) { puts("ctor ran"); }

int unreferenced_helper(void) { return 7; }
