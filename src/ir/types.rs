//! Value types and enum tag types.

use std::fmt;

/// The type of an SSA value.
///
/// `Ptr` is the pointer-sized integer of the target: `i32` on wasm32, the only target today.
/// It is interchangeable with `I32` everywhere; the verifier compares types by
/// [`Type::canonical`]. Keeping it distinct in the IR lets frontends and the printer say what
/// a value means.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Type {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE float.
    F32,
    /// 64-bit IEEE float.
    F64,
    /// Pointer-sized integer (`i32` on wasm32).
    Ptr,
}

impl Type {
    /// All types, in text-format order.
    pub const ALL: [Type; 5] = [Type::I32, Type::I64, Type::F32, Type::F64, Type::Ptr];

    /// The type this one is on the target: `Ptr` becomes `I32`.
    pub fn canonical(self) -> Type {
        match self {
            Type::Ptr => Type::I32,
            t => t,
        }
    }

    /// Whether two types are the same on the target.
    pub fn same_as(self, other: Type) -> bool {
        self.canonical() == other.canonical()
    }

    /// Integer types (`i32`, `i64`, `ptr`).
    pub fn is_int(self) -> bool {
        matches!(self, Type::I32 | Type::I64 | Type::Ptr)
    }

    /// Float types (`f32`, `f64`).
    pub fn is_float(self) -> bool {
        matches!(self, Type::F32 | Type::F64)
    }

    /// Size in bytes.
    pub fn bytes(self) -> u32 {
        match self.canonical() {
            Type::I32 | Type::F32 => 4,
            _ => 8,
        }
    }

    /// Size in bits.
    pub fn bits(self) -> u32 {
        self.bytes() * 8
    }

    /// The text-format name.
    pub fn name(self) -> &'static str {
        match self {
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::Ptr => "ptr",
        }
    }

    /// Parses a text-format type name.
    pub fn from_name(s: &str) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.name() == s)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The integer type of an enum's tag: 8 to 64 bits, signed or unsigned.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct TagType {
    /// Width in bits: 8, 16, 32 or 64.
    pub bits: u8,
    /// Whether the tag is a signed integer.
    pub signed: bool,
}

impl TagType {
    /// The SSA type that carries a tag value: `i64` for 64-bit tags, `i32` otherwise. Narrow
    /// tags use only the low `bits` bits of the value.
    pub fn value_type(self) -> Type {
        if self.bits == 64 {
            Type::I64
        } else {
            Type::I32
        }
    }

    /// Smallest and largest value of the tag type, as `i128` so both signednesses fit.
    pub fn range(self) -> (i128, i128) {
        let bits = u32::from(self.bits);
        if self.signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        }
    }

    /// Interprets the low `bits` bits of `raw` as a tag value of this type.
    pub fn decode(self, raw: u64) -> i128 {
        let bits = u32::from(self.bits);
        let shift = 64 - bits;
        if self.signed {
            i128::from(((raw << shift) as i64) >> shift)
        } else {
            i128::from((raw << shift) >> shift)
        }
    }

    /// Parses `u8`, `i16`, ... `u64`.
    pub fn from_name(s: &str) -> Option<TagType> {
        let (signed, rest) = match s.as_bytes().first()? {
            b'i' => (true, &s[1..]),
            b'u' => (false, &s[1..]),
            _ => return None,
        };
        let bits = match rest {
            "8" => 8,
            "16" => 16,
            "32" => 32,
            "64" => 64,
            _ => return None,
        };
        Some(TagType { bits, signed })
    }
}

impl fmt::Display for TagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.signed { 'i' } else { 'u' }, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_decode() {
        let i8t = TagType {
            bits: 8,
            signed: true,
        };
        assert_eq!(i8t.decode(0xff), -1);
        assert_eq!(i8t.decode(0xffff_ff80), -128);
        let u16t = TagType {
            bits: 16,
            signed: false,
        };
        assert_eq!(u16t.decode(0x1_ffff), 0xffff);
        assert_eq!(
            TagType::from_name("u64").unwrap().range(),
            (0, u64::MAX as i128)
        );
    }
}
