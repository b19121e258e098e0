/* C twin of ir/recursion.ir: the same functions with the same signatures. */
typedef unsigned int u32;

int fib(int n) {
    if ((u32)n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

int ack(int m, int n) {
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

long long fact(long long n) {
    if (n == 0)
        return 1;
    return (long long)((unsigned long long)n * (unsigned long long)fact(n - 1));
}

int sum_acc(int n, int acc) {
    if (n == 0)
        return acc;
    return sum_acc(n - 1, acc + n);
}

int sum_to(int n) { return sum_acc(n, 0); }

/* Never returns, as in the IR: the call stack overflows. */
#pragma clang diagnostic ignored "-Winfinite-recursion"
int runaway(int n) { return runaway(n + 1) + 1; }
