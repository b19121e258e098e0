//! Numeric semantics on raw bit patterns, exactly as wasm defines them.
//!
//! Every value travels as a `u64`: 32-bit types in the low half (the high half is ignored
//! when read and zero when written), floats as their IEEE bit patterns. Each function here
//! takes and returns such patterns and reports a trap as a `&'static str` message, worded as
//! wasm engines word it. Nothing here allocates.

use crate::ir::{BinaryOp, ConvertOp, Intrinsic, Type, UnaryOp};

/// Trap messages shared with the executor.
pub(crate) const DIV_BY_ZERO: &str = "integer divide by zero";
pub(crate) const INT_OVERFLOW: &str = "integer overflow";
pub(crate) const INVALID_CONVERSION: &str = "invalid conversion to integer";

type R = Result<u64, &'static str>;

fn f32v(b: u64) -> f32 {
    f32::from_bits(b as u32)
}

fn f64v(b: u64) -> f64 {
    f64::from_bits(b)
}

fn r32(v: u32) -> u64 {
    u64::from(v)
}

fn rf32(v: f32) -> u64 {
    u64::from(v.to_bits())
}

fn rf64(v: f64) -> u64 {
    v.to_bits()
}

fn b(c: bool) -> u64 {
    u64::from(c)
}

/// wasm `fmin`: NaN if either operand is NaN, and -0 below +0.
macro_rules! wasm_min_max {
    ($name:ident, $t:ty, $min:expr) => {
        fn $name(x: $t, y: $t) -> $t {
            if x.is_nan() || y.is_nan() {
                return <$t>::NAN;
            }
            if x == y {
                // Equal values differ only in the sign of zero: min takes the negative one.
                return if $min == (x.is_sign_negative()) { x } else { y };
            }
            if (x < y) == $min { x } else { y }
        }
    };
}
wasm_min_max!(min32, f32, true);
wasm_min_max!(max32, f32, false);
wasm_min_max!(min64, f64, true);
wasm_min_max!(max64, f64, false);

/// A two-operand operation on values of type `ty`.
pub(crate) fn binary(op: BinaryOp, ty: Type, x: u64, y: u64) -> R {
    use BinaryOp::*;
    Ok(match ty.canonical() {
        Type::I32 => {
            let (a, c) = (x as u32, y as u32);
            let (sa, sc) = (a as i32, c as i32);
            match op {
                Add => r32(a.wrapping_add(c)),
                Sub => r32(a.wrapping_sub(c)),
                Mul => r32(a.wrapping_mul(c)),
                DivS => {
                    if sc == 0 {
                        return Err(DIV_BY_ZERO);
                    }
                    if sa == i32::MIN && sc == -1 {
                        return Err(INT_OVERFLOW);
                    }
                    r32((sa / sc) as u32)
                }
                DivU => r32(a.checked_div(c).ok_or(DIV_BY_ZERO)?),
                RemS => {
                    if sc == 0 {
                        return Err(DIV_BY_ZERO);
                    }
                    r32(sa.wrapping_rem(sc) as u32)
                }
                RemU => r32(a.checked_rem(c).ok_or(DIV_BY_ZERO)?),
                And => r32(a & c),
                Or => r32(a | c),
                Xor => r32(a ^ c),
                Shl => r32(a.wrapping_shl(c)),
                ShrS => r32(sa.wrapping_shr(c) as u32),
                ShrU => r32(a.wrapping_shr(c)),
                Rotl => r32(a.rotate_left(c % 32)),
                Rotr => r32(a.rotate_right(c % 32)),
                Eq => b(a == c),
                Ne => b(a != c),
                LtS => b(sa < sc),
                LtU => b(a < c),
                GtS => b(sa > sc),
                GtU => b(a > c),
                LeS => b(sa <= sc),
                LeU => b(a <= c),
                GeS => b(sa >= sc),
                GeU => b(a >= c),
                Div | Min | Max | Copysign | Lt | Gt | Le | Ge => return Err(BAD_OP),
            }
        }
        Type::I64 => {
            let (a, c) = (x, y);
            let (sa, sc) = (a as i64, c as i64);
            match op {
                Add => a.wrapping_add(c),
                Sub => a.wrapping_sub(c),
                Mul => a.wrapping_mul(c),
                DivS => {
                    if sc == 0 {
                        return Err(DIV_BY_ZERO);
                    }
                    if sa == i64::MIN && sc == -1 {
                        return Err(INT_OVERFLOW);
                    }
                    (sa / sc) as u64
                }
                DivU => a.checked_div(c).ok_or(DIV_BY_ZERO)?,
                RemS => {
                    if sc == 0 {
                        return Err(DIV_BY_ZERO);
                    }
                    sa.wrapping_rem(sc) as u64
                }
                RemU => a.checked_rem(c).ok_or(DIV_BY_ZERO)?,
                And => a & c,
                Or => a | c,
                Xor => a ^ c,
                Shl => a.wrapping_shl(c as u32),
                ShrS => sa.wrapping_shr(c as u32) as u64,
                ShrU => a.wrapping_shr(c as u32),
                Rotl => a.rotate_left((c % 64) as u32),
                Rotr => a.rotate_right((c % 64) as u32),
                Eq => b(a == c),
                Ne => b(a != c),
                LtS => b(sa < sc),
                LtU => b(a < c),
                GtS => b(sa > sc),
                GtU => b(a > c),
                LeS => b(sa <= sc),
                LeU => b(a <= c),
                GeS => b(sa >= sc),
                GeU => b(a >= c),
                Div | Min | Max | Copysign | Lt | Gt | Le | Ge => return Err(BAD_OP),
            }
        }
        Type::F32 => {
            let (a, c) = (f32v(x), f32v(y));
            match op {
                Add => rf32(a + c),
                Sub => rf32(a - c),
                Mul => rf32(a * c),
                Div => rf32(a / c),
                Min => rf32(min32(a, c)),
                Max => rf32(max32(a, c)),
                Copysign => rf32(a.copysign(c)),
                Eq => b(a == c),
                Ne => b(a != c),
                Lt => b(a < c),
                Gt => b(a > c),
                Le => b(a <= c),
                Ge => b(a >= c),
                _ => return Err(BAD_OP),
            }
        }
        Type::F64 | Type::Ptr => {
            let (a, c) = (f64v(x), f64v(y));
            match op {
                Add => rf64(a + c),
                Sub => rf64(a - c),
                Mul => rf64(a * c),
                Div => rf64(a / c),
                Min => rf64(min64(a, c)),
                Max => rf64(max64(a, c)),
                Copysign => rf64(a.copysign(c)),
                Eq => b(a == c),
                Ne => b(a != c),
                Lt => b(a < c),
                Gt => b(a > c),
                Le => b(a <= c),
                Ge => b(a >= c),
                _ => return Err(BAD_OP),
            }
        }
    })
}

/// The message for an operation the operand type does not have (the verifier rejects it).
pub(crate) const BAD_OP: &str = "operation not defined for its operand type";

/// A one-operand operation on a value of type `ty`.
pub(crate) fn unary(op: UnaryOp, ty: Type, x: u64) -> R {
    use UnaryOp::*;
    Ok(match ty.canonical() {
        Type::I32 => {
            let a = x as u32;
            match op {
                Clz => r32(a.leading_zeros()),
                Ctz => r32(a.trailing_zeros()),
                Popcnt => r32(a.count_ones()),
                Eqz => b(a == 0),
                Extend8S => r32(i32::from(a as i8) as u32),
                Extend16S => r32(i32::from(a as i16) as u32),
                _ => return Err(BAD_OP),
            }
        }
        Type::I64 => match op {
            Clz => u64::from(x.leading_zeros()),
            Ctz => u64::from(x.trailing_zeros()),
            Popcnt => u64::from(x.count_ones()),
            Eqz => b(x == 0),
            Extend8S => i64::from(x as i8) as u64,
            Extend16S => i64::from(x as i16) as u64,
            Extend32S => i64::from(x as i32) as u64,
            _ => return Err(BAD_OP),
        },
        Type::F32 => {
            let a = f32v(x);
            rf32(match op {
                Abs => a.abs(),
                Neg => -a,
                Ceil => a.ceil(),
                Floor => a.floor(),
                Trunc => a.trunc(),
                Nearest => a.round_ties_even(),
                Sqrt => a.sqrt(),
                _ => return Err(BAD_OP),
            })
        }
        Type::F64 | Type::Ptr => {
            let a = f64v(x);
            rf64(match op {
                Abs => a.abs(),
                Neg => -a,
                Ceil => a.ceil(),
                Floor => a.floor(),
                Trunc => a.trunc(),
                Nearest => a.round_ties_even(),
                Sqrt => a.sqrt(),
                _ => return Err(BAD_OP),
            })
        }
    })
}

/// Checked float-to-integer truncation: `x` (exact as an `f64`) must truncate into
/// `[lo, hi)`, two powers of two (or `-1` exclusive for unsigned), else the wasm traps.
fn trunc_checked(x: f64, lo_exclusive: f64, hi_exclusive: f64) -> Result<f64, &'static str> {
    if x.is_nan() {
        return Err(INVALID_CONVERSION);
    }
    let t = x.trunc();
    if t > lo_exclusive && t < hi_exclusive {
        Ok(t)
    } else {
        Err(INT_OVERFLOW)
    }
}

const TWO_31: f64 = 2_147_483_648.0;
const TWO_32: f64 = 4_294_967_296.0;
const TWO_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_64: f64 = 18_446_744_073_709_551_616.0;

/// A conversion or reinterpretation.
pub(crate) fn convert(op: ConvertOp, x: u64) -> R {
    use ConvertOp::*;
    // Float operands, widened exactly to f64 for the range checks.
    let fin = || match op.from() {
        Type::F32 => f64::from(f32v(x)),
        _ => f64v(x),
    };
    Ok(match op {
        I32WrapI64 => r32(x as u32),
        I64ExtendI32S => i64::from(x as u32 as i32) as u64,
        I64ExtendI32U => u64::from(x as u32),
        I32TruncF32S | I32TruncF64S => {
            // The lower bound -2^31 itself is valid: exclusive bound is one below.
            let t = trunc_checked(fin(), -TWO_31 - 1.0, TWO_31)?;
            r32(t as i32 as u32)
        }
        I32TruncF32U | I32TruncF64U => r32(trunc_checked(fin(), -1.0, TWO_32)? as u32),
        I64TruncF32S | I64TruncF64S => {
            // -2^63 - 1 rounds to -2^63 in f64, so check the lower bound inclusively.
            let v = fin();
            if v.is_nan() {
                return Err(INVALID_CONVERSION);
            }
            let t = v.trunc();
            if !(-TWO_63..TWO_63).contains(&t) {
                return Err(INT_OVERFLOW);
            }
            t as i64 as u64
        }
        I64TruncF32U | I64TruncF64U => trunc_checked(fin(), -1.0, TWO_64)? as u64,
        I32TruncSatF32S => r32(f32v(x) as i32 as u32),
        I32TruncSatF32U => r32(f32v(x) as u32),
        I32TruncSatF64S => r32(f64v(x) as i32 as u32),
        I32TruncSatF64U => r32(f64v(x) as u32),
        I64TruncSatF32S => f32v(x) as i64 as u64,
        I64TruncSatF32U => f32v(x) as u64,
        I64TruncSatF64S => f64v(x) as i64 as u64,
        I64TruncSatF64U => f64v(x) as u64,
        F32ConvertI32S => rf32(x as u32 as i32 as f32),
        F32ConvertI32U => rf32(x as u32 as f32),
        F32ConvertI64S => rf32(x as i64 as f32),
        F32ConvertI64U => rf32(x as f32),
        F64ConvertI32S => rf64(f64::from(x as u32 as i32)),
        F64ConvertI32U => rf64(f64::from(x as u32)),
        F64ConvertI64S => rf64(x as i64 as f64),
        F64ConvertI64U => rf64(x as f64),
        F32DemoteF64 => rf32(f64v(x) as f32),
        F64PromoteF32 => rf64(f64::from(f32v(x))),
        I32ReinterpretF32 | F32ReinterpretI32 => r32(x as u32),
        I64ReinterpretF64 | F64ReinterpretI64 => x,
    })
}

fn i128_of(lo: u64, hi: u64) -> u128 {
    (u128::from(hi) << 64) | u128::from(lo)
}

fn split(v: u128) -> [u64; 2] {
    [v as u64, (v >> 64) as u64]
}

/// A numeric intrinsic (everything but the memory ones): reads `args`, writes `out`.
/// The caller has checked the argument count against [`Intrinsic::params`].
pub(crate) fn intrinsic(
    which: Intrinsic,
    args: &[u64],
    out: &mut [u64; 2],
) -> Result<(), &'static str> {
    use Intrinsic::*;
    let a = |i: usize| args.get(i).copied().unwrap_or(0);
    match which {
        I128Mul | I128DivS | I128DivU | I128RemS | I128RemU => {
            let x = i128_of(a(0), a(1));
            let y = i128_of(a(2), a(3));
            let (sx, sy) = (x as i128, y as i128);
            let r = match which {
                I128Mul => x.wrapping_mul(y),
                I128DivU => x.checked_div(y).ok_or(DIV_BY_ZERO)?,
                I128RemU => x.checked_rem(y).ok_or(DIV_BY_ZERO)?,
                I128DivS => {
                    if sy == 0 {
                        return Err(DIV_BY_ZERO);
                    }
                    sx.checked_div(sy).ok_or(INT_OVERFLOW)? as u128
                }
                _ => {
                    if sy == 0 {
                        return Err(DIV_BY_ZERO);
                    }
                    // MIN % -1 is 0, as wasm's rem_s and compiler-rt's __modti3 give.
                    sx.wrapping_rem(sy) as u128
                }
            };
            *out = split(r);
        }
        I128Shl | I128ShrS | I128ShrU => {
            let x = i128_of(a(0), a(1));
            let n = (a(2) as u32) % 128;
            let r = match which {
                I128Shl => x << n,
                I128ShrU => x >> n,
                _ => ((x as i128) >> n) as u128,
            };
            *out = split(r);
        }
        Fmod => out[0] = rf64(f64v(a(0)) % f64v(a(1))),
        Fmodf => out[0] = rf32(f32v(a(0)) % f32v(a(1))),
        Pow => out[0] = rf64(f64v(a(0)).powf(f64v(a(1)))),
        Powf => out[0] = rf32(f32v(a(0)).powf(f32v(a(1)))),
        Atan2 => out[0] = rf64(f64v(a(0)).atan2(f64v(a(1)))),
        Atan2f => out[0] = rf32(f32v(a(0)).atan2(f32v(a(1)))),
        Fma => out[0] = rf64(f64v(a(0)).mul_add(f64v(a(1)), f64v(a(2)))),
        Fmaf => out[0] = rf32(f32v(a(0)).mul_add(f32v(a(1)), f32v(a(2)))),
        Exp | Exp2 | Log | Log2 | Log10 | Sin | Cos | Tan | Round => {
            let x = f64v(a(0));
            out[0] = rf64(match which {
                Exp => x.exp(),
                Exp2 => x.exp2(),
                Log => x.ln(),
                Log2 => x.log2(),
                Log10 => x.log10(),
                Sin => x.sin(),
                Cos => x.cos(),
                Tan => x.tan(),
                _ => x.round(),
            });
        }
        Expf | Exp2f | Logf | Log2f | Log10f | Sinf | Cosf | Tanf | Roundf => {
            let x = f32v(a(0));
            out[0] = rf32(match which {
                Expf => x.exp(),
                Exp2f => x.exp2(),
                Logf => x.ln(),
                Log2f => x.log2(),
                Log10f => x.log10(),
                Sinf => x.sin(),
                Cosf => x.cos(),
                Tanf => x.tan(),
                _ => x.round(),
            });
        }
        Memcpy | Memmove | Memset => return Err("memory intrinsic reached the numeric path"),
    }
    Ok(())
}
