/* C twin of ir/quicksort.ir. */
typedef unsigned int u32;

static int arr[16] = {9, -4, 17, 0, 3, 3, -100, 55, 8, 21, -4, 1, 1000, -2, 6, 13};

int *at(int i) { return &arr[i]; }

void swap(int i, int j) {
    int *a = at(i), *b = at(j);
    int x = *a, y = *b;
    *a = y;
    *b = x;
}

void qsort(int lo, int hi) {
    if (lo >= hi)
        return;
    int pivot = *at(hi);
    int i = lo;
    for (int j = lo; j < hi; j++) {
        if (*at(j) < pivot) {
            swap(i, j);
            i++;
        }
    }
    swap(i, hi);
    qsort(lo, i - 1);
    qsort(i + 1, hi);
}

void sort(void) { qsort(0, 15); }

int sorted_hash(void) {
    sort();
    u32 h = 0;
    for (int i = 0; i < 16; i++)
        h = h * 31 + (u32)*at(i);
    return (int)h;
}

int sorted_at(int i) {
    sort();
    return *at(i);
}

int search(int x) {
    sort();
    int lo = 0, hi = 16;
    while (lo < hi) {
        int mid = (int)((u32)(lo + hi) >> 1);
        if (*at(mid) < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < 16 && *at(lo) == x)
        return lo;
    return -1;
}
