/* A small C file whose object exercises the dumper: data and bss segments, strings,
   a function pointer table entry, an init function, weak and hidden symbols, an explicit
   import name and an undefined function. */
#include <stddef.h>

extern int external_counter;
int imported_fn(int) __attribute__((import_module("host"), import_name("imported")));
int undefined_fn(int);

static const char greeting[] = "hello, dumper";
int zeroed[16];
int initialized[3] = {1, 2, 3};
const char *greeting_ptr = greeting;

__attribute__((weak)) int weak_fn(int x) { return x + 1; }
__attribute__((visibility("hidden"))) int hidden_fn(int x) { return x * 3; }

static int (*table[])(int) = {weak_fn, hidden_fn};

__attribute__((constructor(200))) static void setup(void) { zeroed[0] = 42; }

__attribute__((used)) static int kept(void) { return 5; }

int use_everything(int i) {
    int r = table[i & 1](i) + imported_fn(i) + undefined_fn(external_counter);
    return r + (int)greeting_ptr[i % sizeof greeting] + initialized[i % 3];
}
