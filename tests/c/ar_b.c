// Archive member b.
int helper_b(int x) { return x * 2; }
const char *from_b(void) { return "from b"; }
