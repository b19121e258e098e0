/* C twin of ir/nqueens.ir. */
typedef unsigned int u32;

int solve(int all, int cols, int left, int right) {
    if (cols == all)
        return 1;
    int free = ~(cols | left | right) & all;
    int count = 0;
    while (free) {
        int bit = free & -free;
        free ^= bit;
        count += solve(all, cols | bit, ((left | bit) << 1) & all, (int)((u32)(right | bit) >> 1));
    }
    return count;
}

int queens(int n) { return solve((1 << n) - 1, 0, 0, 0); }
