/* Thread-local, shared and bss data for two "threads" (instances on one shared memory),
   linked with --shared-memory. Built with -matomics -mbulk-memory -ftls-model=local-exec. */
_Thread_local int counter = 5;
_Thread_local int zeroed;
_Thread_local char tag[3] = "ab";
extern _Thread_local int other_tls;

int shared_count;
int data_val = 123;
static char big[100000];

int get_counter(void) { return counter; }
void set_counter(int v) { counter = v; zeroed += v; }
int get_zeroed(void) { return zeroed; }
int get_other(void) { return other_tls; }
int bump_shared(void) { return __atomic_add_fetch(&shared_count, 1, __ATOMIC_SEQ_CST); }
int get_data(void) { return data_val; }
int big_at(int i) { return big[i]; }
void big_set(int i, int v) { big[i] = (char)v; }
int tls_size(void) { return __builtin_wasm_tls_size(); }
int tls_align(void) { return __builtin_wasm_tls_align(); }
void *tls_base(void) { return __builtin_wasm_tls_base(); }
char tag_at(int i) { return tag[i]; }
