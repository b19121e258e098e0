/* Thread-local data defined here and used from threads_a.c, one 16-aligned. */
_Thread_local int other_tls = 77;
_Alignas(16) _Thread_local long long wide_tls = 9;
long long get_wide(void) { return wide_tls; }
