// The strong definitions that override weak_main.c's weak ones.
int overridden(void) { return 100; }
int weak_value = 1000;
int other_value(void) { return weak_value + 1; }
