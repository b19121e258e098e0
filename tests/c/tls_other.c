// Thread-local data of the second object.
_Thread_local int other_tls = 77;
_Thread_local long other_array[4] = {1, 2, 3, 4};
int bump_other(void) { return ++other_tls + (int)other_array[1]; }
