/* twice with the wrong signature for main.c: a signature-mismatch warning. */
long long twice(long long x) { return 2 * x; }
