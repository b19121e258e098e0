// Archive member a: calls into member b.
int helper_b(int);
int from_a(int x) { return helper_b(x) + 1; }
