//! Instructions: what each one reads, what it produces, and its text-format name.
//!
//! Numeric instructions carry their operand type and mirror wasm one to one
//! (`i32.add`, `f64.lt`, `i64.extend_i32_s`); everything else is an IR-level operation that
//! lowering expands (addresses, calls, intrinsics, tag names, block arguments).
//! Variable-length operand lists live in the function's `ValueList` pool, so an
//! [`InstData`] is small and `Copy`.

use cranelift_entity::EntityList;

use super::entities::*;
use super::intrinsics::Intrinsic;
use super::types::Type;

/// A list of values in the function's value-list pool.
pub type ValueList = EntityList<Value>;

/// A branch destination with its block arguments.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct BlockCall {
    /// The target block.
    pub block: Block,
    /// Arguments for the target's parameters, in the function's value-list pool.
    pub args: ValueList,
}

/// The targets of a `br_table`: `targets[i]` for index `i`, `default` for any other.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct JumpTableData {
    /// Indexed targets.
    pub targets: Vec<BlockCall>,
    /// Target for an out-of-range index.
    pub default: BlockCall,
}

/// Offset and alignment of a load or store.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct MemArg {
    /// Constant byte offset added to the address.
    pub offset: u32,
    /// Alignment hint in bytes; 0 means the natural alignment of the access. The parser
    /// stores 0 when the text states the natural alignment, so the printer omits it.
    pub align: u32,
}

/// One instruction. Result values are kept apart, in the data-flow graph.
#[derive(Copy, Clone, PartialEq, Debug)]
pub enum InstData {
    /// `T.const N`: a constant; `bits` holds the value's bit pattern, zero-extended.
    Const {
        /// Result type.
        ty: Type,
        /// Bit pattern (an `f32` in the low 32 bits).
        bits: u64,
    },
    /// `T.op x`: a one-operand numeric operation.
    Unary {
        /// The operation.
        op: UnaryOp,
        /// Operand type.
        ty: Type,
        /// The operand.
        arg: Value,
    },
    /// `T.op x, y`: a two-operand numeric operation or comparison.
    Binary {
        /// The operation.
        op: BinaryOp,
        /// Operand type.
        ty: Type,
        /// The operands.
        args: [Value; 2],
    },
    /// `T.conv_U x`: a conversion; the opcode fixes both types.
    Convert {
        /// The conversion.
        op: ConvertOp,
        /// The operand.
        arg: Value,
    },
    /// `select c, x, y`: `x` if `c` (an `i32`) is non-zero, else `y`.
    Select {
        /// Condition, if-true value, if-false value.
        args: [Value; 3],
    },
    /// `T.loadK addr`: a load of width `kind` extended to `ty`.
    Load {
        /// Result type.
        ty: Type,
        /// Width and extension.
        kind: LoadKind,
        /// Address operand (`ptr`).
        addr: Value,
        /// Offset and alignment.
        mem: MemArg,
    },
    /// `T.storeK addr, value`: stores the low `width` bytes of `value`.
    Store {
        /// Type of the stored value.
        ty: Type,
        /// Stored width.
        width: StoreWidth,
        /// Address and value.
        args: [Value; 2],
        /// Offset and alignment.
        mem: MemArg,
    },
    /// `memory.size`: current size in 64 KiB pages, as `ptr`.
    MemorySize,
    /// `memory.grow n`: grows by `n` pages, returns the old size or -1.
    MemoryGrow {
        /// Pages to add (`ptr`).
        arg: Value,
    },
    /// `memory.copy dst, src, len`.
    MemoryCopy {
        /// Destination, source, length (all `ptr`).
        args: [Value; 3],
    },
    /// `memory.fill dst, byte, len`.
    MemoryFill {
        /// Destination (`ptr`), byte value (`i32`), length (`ptr`).
        args: [Value; 3],
    },
    /// `global.get @g`.
    GlobalGet {
        /// The global.
        global: GlobalRef,
    },
    /// `global.set @g, v`.
    GlobalSet {
        /// The global.
        global: GlobalRef,
        /// The new value.
        arg: Value,
    },
    /// `data_addr @d + off`: address of a (non-TLS) data object plus a constant.
    DataAddr {
        /// The data object.
        data: DataRef,
        /// Constant addend.
        offset: i64,
    },
    /// `tls_addr @d + off`: address of a thread-local data object in this thread's block.
    TlsAddr {
        /// The TLS data object.
        data: DataRef,
        /// Constant addend.
        offset: i64,
    },
    /// `func_addr @f`: the function's table slot, usable with `call_indirect`.
    FuncAddr {
        /// The function.
        func: FuncRef,
    },
    /// `stack_addr ss + off`: address of a stack slot of this frame.
    StackAddr {
        /// The slot.
        slot: StackSlot,
        /// Constant addend.
        offset: u32,
    },
    /// `call @f(args)`.
    Call {
        /// The callee.
        func: FuncRef,
        /// Arguments.
        args: ValueList,
    },
    /// `call_indirect SIG callee(args)`.
    CallIndirect {
        /// The expected signature.
        sig: SigRef,
        /// The table slot to call (`ptr`).
        callee: Value,
        /// Arguments.
        args: ValueList,
    },
    /// `intrinsic name(args)`.
    Intrinsic {
        /// Which intrinsic.
        intrinsic: Intrinsic,
        /// Arguments.
        args: ValueList,
    },
    /// `tag_name %E(v)`: the name of tag value `v` of enum `E`, as (pointer, length).
    TagName {
        /// The enum.
        enum_ref: EnumRef,
        /// The tag value (the enum's value type).
        arg: Value,
    },
    /// `enum_const %E.name`: the tag value of a variant.
    EnumConst {
        /// The enum.
        enum_ref: EnumRef,
        /// Index of the variant in the enum's list.
        variant: u32,
    },
    /// `jump block(args)`.
    Jump {
        /// The destination.
        dest: BlockCall,
    },
    /// `br_if c, then(args), else(args)`: to `then` if `c` is non-zero.
    BrIf {
        /// Condition (`i32`).
        cond: Value,
        /// Taken when `cond != 0`.
        then_dest: BlockCall,
        /// Taken when `cond == 0`.
        else_dest: BlockCall,
    },
    /// `br_table i, [targets], default`.
    BrTable {
        /// Index (`i32`).
        index: Value,
        /// Targets.
        table: JumpTable,
    },
    /// `return args`.
    Return {
        /// Returned values.
        args: ValueList,
    },
    /// `unreachable`: traps.
    Unreachable,
}

impl InstData {
    /// Whether this instruction ends a block.
    pub fn is_terminator(&self) -> bool {
        matches!(
            self,
            InstData::Jump { .. }
                | InstData::BrIf { .. }
                | InstData::BrTable { .. }
                | InstData::Return { .. }
                | InstData::Unreachable
        )
    }
}

/// Defines an operation enum with its text names.
macro_rules! named_ops {
    ($(#[$m:meta])* $name:ident { $($variant:ident $text:literal,)* }) => {
        $(#[$m])*
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $(
                #[doc = concat!("`", $text, "`")]
                $variant,
            )*
        }

        impl $name {
            /// Every operation of this kind.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The text name (after the `T.` prefix).
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// Looks an operation up by its text name.
            pub fn from_name(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)* _ => None }
            }
        }
    };
}

named_ops! {
    /// One-operand numeric operations.
    UnaryOp {
        Clz "clz", Ctz "ctz", Popcnt "popcnt", Eqz "eqz",
        Extend8S "extend8_s", Extend16S "extend16_s", Extend32S "extend32_s",
        Abs "abs", Neg "neg", Ceil "ceil", Floor "floor", Trunc "trunc",
        Nearest "nearest", Sqrt "sqrt",
    }
}

impl UnaryOp {
    /// Whether the operation exists for operand type `ty`.
    pub fn valid_for(self, ty: Type) -> bool {
        use UnaryOp::*;
        match self {
            Clz | Ctz | Popcnt | Eqz | Extend8S | Extend16S => ty.is_int(),
            Extend32S => ty.canonical() == Type::I64,
            Abs | Neg | Ceil | Floor | Trunc | Nearest | Sqrt => ty.is_float(),
        }
    }

    /// The result type for operand type `ty`.
    pub fn result_type(self, ty: Type) -> Type {
        if self == UnaryOp::Eqz { Type::I32 } else { ty }
    }
}

named_ops! {
    /// Two-operand numeric operations and comparisons.
    BinaryOp {
        Add "add", Sub "sub", Mul "mul",
        DivS "div_s", DivU "div_u", RemS "rem_s", RemU "rem_u",
        And "and", Or "or", Xor "xor", Shl "shl", ShrS "shr_s", ShrU "shr_u",
        Rotl "rotl", Rotr "rotr",
        Div "div", Min "min", Max "max", Copysign "copysign",
        Eq "eq", Ne "ne",
        LtS "lt_s", LtU "lt_u", GtS "gt_s", GtU "gt_u",
        LeS "le_s", LeU "le_u", GeS "ge_s", GeU "ge_u",
        Lt "lt", Gt "gt", Le "le", Ge "ge",
    }
}

impl BinaryOp {
    /// Whether the operation exists for operand type `ty`.
    pub fn valid_for(self, ty: Type) -> bool {
        use BinaryOp::*;
        match self {
            Add | Sub | Mul | Eq | Ne => true,
            DivS | DivU | RemS | RemU | And | Or | Xor | Shl | ShrS | ShrU | Rotl | Rotr | LtS
            | LtU | GtS | GtU | LeS | LeU | GeS | GeU => ty.is_int(),
            Div | Min | Max | Copysign | Lt | Gt | Le | Ge => ty.is_float(),
        }
    }

    /// Whether this is a comparison (its result is an `i32` 0 or 1).
    pub fn is_comparison(self) -> bool {
        use BinaryOp::*;
        matches!(
            self,
            Eq | Ne | LtS | LtU | GtS | GtU | LeS | LeU | GeS | GeU | Lt | Gt | Le | Ge
        )
    }

    /// The result type for operand type `ty`.
    pub fn result_type(self, ty: Type) -> Type {
        if self.is_comparison() { Type::I32 } else { ty }
    }
}

macro_rules! convert_ops {
    ($($variant:ident $text:literal $to:ident $from:ident,)*) => {
        /// Conversions and reinterpretations; each fixes its operand and result type.
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
        pub enum ConvertOp {
            $(
                #[doc = concat!("`", $text, "`")]
                $variant,
            )*
        }

        impl ConvertOp {
            /// Every conversion.
            pub const ALL: &'static [ConvertOp] = &[$(ConvertOp::$variant),*];

            /// The full text name, type prefix included (`i64.extend_i32_s`).
            pub fn name(self) -> &'static str {
                match self { $(ConvertOp::$variant => $text,)* }
            }

            /// Result type.
            pub fn to(self) -> Type {
                match self { $(ConvertOp::$variant => Type::$to,)* }
            }

            /// Operand type.
            pub fn from(self) -> Type {
                match self { $(ConvertOp::$variant => Type::$from,)* }
            }

            /// Looks a conversion up by its full text name.
            pub fn from_name(s: &str) -> Option<ConvertOp> {
                match s { $($text => Some(ConvertOp::$variant),)* _ => None }
            }
        }
    };
}

convert_ops! {
    I32WrapI64 "i32.wrap_i64" I32 I64,
    I64ExtendI32S "i64.extend_i32_s" I64 I32,
    I64ExtendI32U "i64.extend_i32_u" I64 I32,
    I32TruncF32S "i32.trunc_f32_s" I32 F32,
    I32TruncF32U "i32.trunc_f32_u" I32 F32,
    I32TruncF64S "i32.trunc_f64_s" I32 F64,
    I32TruncF64U "i32.trunc_f64_u" I32 F64,
    I64TruncF32S "i64.trunc_f32_s" I64 F32,
    I64TruncF32U "i64.trunc_f32_u" I64 F32,
    I64TruncF64S "i64.trunc_f64_s" I64 F64,
    I64TruncF64U "i64.trunc_f64_u" I64 F64,
    I32TruncSatF32S "i32.trunc_sat_f32_s" I32 F32,
    I32TruncSatF32U "i32.trunc_sat_f32_u" I32 F32,
    I32TruncSatF64S "i32.trunc_sat_f64_s" I32 F64,
    I32TruncSatF64U "i32.trunc_sat_f64_u" I32 F64,
    I64TruncSatF32S "i64.trunc_sat_f32_s" I64 F32,
    I64TruncSatF32U "i64.trunc_sat_f32_u" I64 F32,
    I64TruncSatF64S "i64.trunc_sat_f64_s" I64 F64,
    I64TruncSatF64U "i64.trunc_sat_f64_u" I64 F64,
    F32ConvertI32S "f32.convert_i32_s" F32 I32,
    F32ConvertI32U "f32.convert_i32_u" F32 I32,
    F32ConvertI64S "f32.convert_i64_s" F32 I64,
    F32ConvertI64U "f32.convert_i64_u" F32 I64,
    F64ConvertI32S "f64.convert_i32_s" F64 I32,
    F64ConvertI32U "f64.convert_i32_u" F64 I32,
    F64ConvertI64S "f64.convert_i64_s" F64 I64,
    F64ConvertI64U "f64.convert_i64_u" F64 I64,
    F32DemoteF64 "f32.demote_f64" F32 F64,
    F64PromoteF32 "f64.promote_f32" F64 F32,
    I32ReinterpretF32 "i32.reinterpret_f32" I32 F32,
    I64ReinterpretF64 "i64.reinterpret_f64" I64 F64,
    F32ReinterpretI32 "f32.reinterpret_i32" F32 I32,
    F64ReinterpretI64 "f64.reinterpret_i64" F64 I64,
}

/// Width and extension of a load.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum LoadKind {
    /// The full width of the result type: `T.load`.
    Full,
    /// `load8_s`
    S8,
    /// `load8_u`
    U8,
    /// `load16_s`
    S16,
    /// `load16_u`
    U16,
    /// `load32_s` (`i64` only)
    S32,
    /// `load32_u` (`i64` only)
    U32,
}

impl LoadKind {
    /// Every kind.
    pub const ALL: [LoadKind; 7] = [
        LoadKind::Full,
        LoadKind::S8,
        LoadKind::U8,
        LoadKind::S16,
        LoadKind::U16,
        LoadKind::S32,
        LoadKind::U32,
    ];

    /// Text suffix after `T.`: `load`, `load8_s`, ...
    pub fn name(self) -> &'static str {
        match self {
            LoadKind::Full => "load",
            LoadKind::S8 => "load8_s",
            LoadKind::U8 => "load8_u",
            LoadKind::S16 => "load16_s",
            LoadKind::U16 => "load16_u",
            LoadKind::S32 => "load32_s",
            LoadKind::U32 => "load32_u",
        }
    }

    /// Bytes read, for result type `ty`.
    pub fn bytes(self, ty: Type) -> u32 {
        match self {
            LoadKind::Full => ty.bytes(),
            LoadKind::S8 | LoadKind::U8 => 1,
            LoadKind::S16 | LoadKind::U16 => 2,
            LoadKind::S32 | LoadKind::U32 => 4,
        }
    }

    /// Whether the narrow value is sign-extended.
    pub fn signed(self) -> bool {
        matches!(self, LoadKind::S8 | LoadKind::S16 | LoadKind::S32)
    }

    /// Whether the load exists for result type `ty`.
    pub fn valid_for(self, ty: Type) -> bool {
        match self {
            LoadKind::Full => true,
            LoadKind::S8 | LoadKind::U8 | LoadKind::S16 | LoadKind::U16 => ty.is_int(),
            LoadKind::S32 | LoadKind::U32 => ty.canonical() == Type::I64,
        }
    }
}

/// Width of a store.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum StoreWidth {
    /// The full width of the value: `T.store`.
    Full,
    /// `store8`
    W8,
    /// `store16`
    W16,
    /// `store32` (`i64` only)
    W32,
}

impl StoreWidth {
    /// Every width.
    pub const ALL: [StoreWidth; 4] = [
        StoreWidth::Full,
        StoreWidth::W8,
        StoreWidth::W16,
        StoreWidth::W32,
    ];

    /// Text suffix after `T.`: `store`, `store8`, ...
    pub fn name(self) -> &'static str {
        match self {
            StoreWidth::Full => "store",
            StoreWidth::W8 => "store8",
            StoreWidth::W16 => "store16",
            StoreWidth::W32 => "store32",
        }
    }

    /// Bytes written, for value type `ty`.
    pub fn bytes(self, ty: Type) -> u32 {
        match self {
            StoreWidth::Full => ty.bytes(),
            StoreWidth::W8 => 1,
            StoreWidth::W16 => 2,
            StoreWidth::W32 => 4,
        }
    }

    /// Whether the store exists for value type `ty`.
    pub fn valid_for(self, ty: Type) -> bool {
        match self {
            StoreWidth::Full => true,
            StoreWidth::W8 | StoreWidth::W16 => ty.is_int(),
            StoreWidth::W32 => ty.canonical() == Type::I64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inst_data_is_small() {
        assert_eq!(std::mem::size_of::<InstData>(), 24);
    }

    #[test]
    fn names_round_trip() {
        for &op in ConvertOp::ALL {
            assert_eq!(ConvertOp::from_name(op.name()), Some(op));
            assert!(op.name().starts_with(op.to().name()));
        }
        for &op in BinaryOp::ALL {
            assert_eq!(BinaryOp::from_name(op.name()), Some(op));
        }
    }
}
