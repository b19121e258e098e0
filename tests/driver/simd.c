/* Uses simd128 (compiled with -msimd128): links without --features, as under wasm-ld. */
#include <wasm_simd128.h>

int vsum(int a) {
    v128_t v = wasm_i32x4_splat(a);
    return wasm_i32x4_extract_lane(wasm_i32x4_add(v, v), 0);
}
