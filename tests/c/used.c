// __attribute__((used)) keeps unreferenced functions and data; explicit import names.
#include <stdio.h>

__attribute__((used)) static int kept_data[4] = {5, 6, 7, 8};
__attribute__((used)) static int kept_function(int x) { return x * 3; }

int host_add(int a, int b) __attribute__((import_module("env"), import_name("host_add_v1")));
int host_twice(int a) __attribute__((import_module("host"), import_name("twice")));

__attribute__((export_name("exported_sum"))) int exported_sum(int a, int b) { return a + b; }

int main(void) {
    printf("host_add %d host_twice %d\n", host_add(2, 40), host_twice(21));
    return 0;
}
