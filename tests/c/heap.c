// malloc, calloc, realloc and free; string functions over heap buffers.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    int value;
    struct node *next;
};

int main(void) {
    struct node *head = NULL;
    for (int i = 0; i < 1000; i++) {
        struct node *n = malloc(sizeof *n);
        if (!n) return 1;
        n->value = i * i;
        n->next = head;
        head = n;
    }
    long sum = 0;
    int count = 0;
    while (head) {
        struct node *next = head->next;
        sum += head->value;
        count++;
        free(head);
        head = next;
    }
    printf("list: %d nodes, sum %ld\n", count, sum);

    size_t cap = 4, len = 0;
    char *s = malloc(cap);
    for (int i = 0; i < 200; i++) {
        char piece[16];
        int k = snprintf(piece, sizeof piece, "%d,", i);
        while (len + (size_t)k + 1 > cap) {
            cap *= 2;
            s = realloc(s, cap);
            if (!s) return 2;
        }
        memcpy(s + len, piece, (size_t)k);
        len += (size_t)k;
        s[len] = 0;
    }
    printf("grown to %zu bytes, cap %zu, tail %s\n", len, cap, s + len - 12);

    int *z = calloc(10000, sizeof(int));
    int nonzero = 0;
    for (int i = 0; i < 10000; i++) nonzero += z[i] != 0;
    printf("calloc nonzero: %d\n", nonzero);
    free(z);

    char *copy = strdup("the quick brown fox jumps over the lazy dog");
    printf("strlen %zu, strchr %s, strstr %s\n", strlen(copy), strchr(copy, 'q'),
           strstr(copy, "lazy"));
    int words = 0;
    for (char *tok = strtok(copy, " "); tok; tok = strtok(NULL, " ")) words++;
    printf("words %d, cmp %d %d\n", words, strcmp("abc", "abd") < 0, strncmp("abcx", "abcy", 3));
    char up[32];
    strcpy(up, "MiXeD");
    strcat(up, "-case");
    for (char *p = up; *p; p++)
        if (*p >= 'a' && *p <= 'z') *p -= 32;
    printf("%s %ld %lu %.2f\n", up, strtol("-0x1f", NULL, 16), strtoul("777", NULL, 8),
           strtod("2.5e3", NULL));
    free(copy);
    free(s);
    return 0;
}
