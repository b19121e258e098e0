//! Intrinsics: a fixed, typed list of operations a frontend needs that wasm has no single
//! instruction for, or has only with some target features.
//!
//! Lowering inlines an intrinsic where the target allows (`memory.copy` for `memcpy` with
//! bulk memory) and otherwise calls the runtime symbol that compiler-rt or libc defines
//! ([`Intrinsic::symbol`]). 128-bit integers travel as (low, high) pairs of `i64`.

use super::types::Type;

macro_rules! intrinsics {
    ($($variant:ident $name:literal $symbol:literal ($($p:ident),*) -> ($($r:ident),*);)*) => {
        /// An intrinsic operation, called as `intrinsic NAME(ARGS)` in the text format.
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
        pub enum Intrinsic {
            $(
                #[doc = concat!("`", $name, "`: runtime symbol `", $symbol, "`.")]
                $variant,
            )*
        }

        impl Intrinsic {
            /// Every intrinsic.
            pub const ALL: &'static [Intrinsic] = &[$(Intrinsic::$variant),*];

            /// The text-format name.
            pub fn name(self) -> &'static str {
                match self { $(Intrinsic::$variant => $name,)* }
            }

            /// The runtime symbol (compiler-rt or libc) lowering calls when it does not
            /// inline the operation.
            pub fn symbol(self) -> &'static str {
                match self { $(Intrinsic::$variant => $symbol,)* }
            }

            /// Parameter types.
            pub fn params(self) -> &'static [Type] {
                match self { $(Intrinsic::$variant => &[$(Type::$p),*],)* }
            }

            /// Result types.
            pub fn results(self) -> &'static [Type] {
                match self { $(Intrinsic::$variant => &[$(Type::$r),*],)* }
            }
        }
    };
}

intrinsics! {
    Memcpy "memcpy" "memcpy" (Ptr, Ptr, Ptr) -> ();
    Memmove "memmove" "memmove" (Ptr, Ptr, Ptr) -> ();
    Memset "memset" "memset" (Ptr, I32, Ptr) -> ();
    I128Mul "i128.mul" "__multi3" (I64, I64, I64, I64) -> (I64, I64);
    I128DivS "i128.div_s" "__divti3" (I64, I64, I64, I64) -> (I64, I64);
    I128DivU "i128.div_u" "__udivti3" (I64, I64, I64, I64) -> (I64, I64);
    I128RemS "i128.rem_s" "__modti3" (I64, I64, I64, I64) -> (I64, I64);
    I128RemU "i128.rem_u" "__umodti3" (I64, I64, I64, I64) -> (I64, I64);
    I128Shl "i128.shl" "__ashlti3" (I64, I64, I32) -> (I64, I64);
    I128ShrS "i128.shr_s" "__ashrti3" (I64, I64, I32) -> (I64, I64);
    I128ShrU "i128.shr_u" "__lshrti3" (I64, I64, I32) -> (I64, I64);
    Fmod "fmod" "fmod" (F64, F64) -> (F64);
    Fmodf "fmodf" "fmodf" (F32, F32) -> (F32);
    Pow "pow" "pow" (F64, F64) -> (F64);
    Powf "powf" "powf" (F32, F32) -> (F32);
    Exp "exp" "exp" (F64) -> (F64);
    Expf "expf" "expf" (F32) -> (F32);
    Exp2 "exp2" "exp2" (F64) -> (F64);
    Exp2f "exp2f" "exp2f" (F32) -> (F32);
    Log "log" "log" (F64) -> (F64);
    Logf "logf" "logf" (F32) -> (F32);
    Log2 "log2" "log2" (F64) -> (F64);
    Log2f "log2f" "log2f" (F32) -> (F32);
    Log10 "log10" "log10" (F64) -> (F64);
    Log10f "log10f" "log10f" (F32) -> (F32);
    Sin "sin" "sin" (F64) -> (F64);
    Sinf "sinf" "sinf" (F32) -> (F32);
    Cos "cos" "cos" (F64) -> (F64);
    Cosf "cosf" "cosf" (F32) -> (F32);
    Tan "tan" "tan" (F64) -> (F64);
    Tanf "tanf" "tanf" (F32) -> (F32);
    Atan2 "atan2" "atan2" (F64, F64) -> (F64);
    Atan2f "atan2f" "atan2f" (F32, F32) -> (F32);
    Round "round" "round" (F64) -> (F64);
    Roundf "roundf" "roundf" (F32) -> (F32);
    Fma "fma" "fma" (F64, F64, F64) -> (F64);
    Fmaf "fmaf" "fmaf" (F32, F32, F32) -> (F32);
}

impl Intrinsic {
    /// Looks an intrinsic up by its text-format name.
    pub fn from_name(name: &str) -> Option<Intrinsic> {
        Intrinsic::ALL.iter().copied().find(|i| i.name() == name)
    }
}
