/* C twin of ir/sieve.ir. */
typedef unsigned int u32;

static unsigned char composite[100000];

void sieve(int n) {
    composite[0] = 1;
    composite[1] = 1;
    for (u32 i = 2; i * i < (u32)n; i++) {
        if (composite[i])
            continue;
        for (u32 j = i * i; j < (u32)n; j += i)
            composite[j] = 1;
    }
}

int count_primes(int n) {
    sieve(n);
    int count = 0;
    for (u32 i = 2; i < (u32)n; i++)
        count += composite[i] == 0;
    return count;
}

int is_prime(int n) {
    sieve(100000);
    return composite[n] == 0;
}

int largest_below(int n) {
    sieve(n);
    int i = n - 1;
    while (composite[i])
        i--;
    return i;
}
