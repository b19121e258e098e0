// Weak symbols: a weak definition overridden by a strong one in weak_other.c, a weak
// definition nobody overrides, and a weak undefined function and variable (null).
#include <stdio.h>

__attribute__((weak)) int overridden(void) { return 1; }
__attribute__((weak)) int kept(void) { return 2; }
__attribute__((weak)) int weak_value = 10;
extern void missing_function(void) __attribute__((weak));
extern int missing_variable __attribute__((weak));

int other_value(void);

int main(void) {
    printf("overridden %d kept %d weak_value %d other %d\n", overridden(), kept(), weak_value,
           other_value());
    printf("missing function is %s\n", missing_function ? "present" : "null");
    printf("missing variable is %s\n", &missing_variable ? "present" : "null");
    return 0;
}
