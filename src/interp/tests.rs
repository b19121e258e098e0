//! Tests of the interpreter: numeric semantics through `ops` directly, everything else
//! through modules built with a small test builder.

use super::ops::{binary, convert, intrinsic, unary};
use super::*;
use crate::ir::*;

// ---------------------------------------------------------------------------------------
// A small builder for test modules.

fn sig(params: &[Type], results: &[Type]) -> Signature {
    Signature {
        params: params.to_vec(),
        results: results.to_vec(),
    }
}

fn declare(m: &mut Module, name: &str, params: &[Type], results: &[Type]) -> FuncRef {
    m.declare_func(FuncDecl {
        name: name.to_string(),
        sig: sig(params, results),
        linkage: Linkage::Export,
        ctor: None,
        loc: Loc::default(),
    })
}

fn declare_extern(m: &mut Module, name: &str, params: &[Type], results: &[Type]) -> FuncRef {
    m.declare_func(FuncDecl {
        name: name.to_string(),
        sig: sig(params, results),
        linkage: Linkage::Extern(None),
        ctor: None,
        loc: Loc::default(),
    })
}

fn data(
    m: &mut Module,
    name: &str,
    section: DataSection,
    align: u32,
    items: Vec<DataItem>,
) -> DataRef {
    let zero_size = if section.is_zero() {
        items.iter().map(DataItem::size).sum()
    } else {
        0
    };
    let items = if section.is_zero() { Vec::new() } else { items };
    m.declare_data(DataDecl {
        name: name.to_string(),
        section,
        align,
        linkage: Linkage::Local,
        items,
        zero_size,
        loc: Loc::default(),
    })
}

fn extern_data(m: &mut Module, name: &str) -> DataRef {
    m.declare_data(DataDecl {
        name: name.to_string(),
        section: DataSection::Data,
        align: 1,
        linkage: Linkage::Extern(None),
        items: Vec::new(),
        zero_size: 0,
        loc: Loc::default(),
    })
}

fn global(m: &mut Module, name: &str, ty: Type, init: u64, linkage: Linkage) -> GlobalRef {
    m.declare_global(GlobalDecl {
        name: name.to_string(),
        ty,
        mutable: true,
        init,
        linkage,
        loc: Loc::default(),
    })
}

fn int(bytes: u8, value: u64) -> DataItem {
    DataItem::Int { bytes, value }
}

/// Builds one function body; the declarations are a snapshot taken at creation (declare
/// everything the body refers to first).
struct B {
    decls: Decls,
    f: FuncRef,
    func: Function,
    cur: Block,
    tys: Vec<Type>,
}

impl B {
    fn new(m: &Module, f: FuncRef) -> B {
        let mut func = Function::default();
        let entry = func.dfg.make_block();
        func.layout.push(entry);
        for &t in &m.decls.funcs[f].sig.params {
            func.dfg.append_block_param(entry, t);
        }
        B {
            decls: m.decls.clone(),
            f,
            func,
            cur: entry,
            tys: Vec::new(),
        }
    }

    fn params(&self) -> Vec<Value> {
        let entry = self.func.layout[0];
        self.func.dfg.block_params(entry).to_vec()
    }

    fn block(&mut self, params: &[Type]) -> (Block, Vec<Value>) {
        let b = self.func.dfg.make_block();
        self.func.layout.push(b);
        let vs = params
            .iter()
            .map(|&t| self.func.dfg.append_block_param(b, t))
            .collect();
        (b, vs)
    }

    fn switch(&mut self, b: Block) {
        self.cur = b;
    }

    fn ins(&mut self, data: InstData) -> Vec<Value> {
        inst_result_types(&self.decls, &self.func.dfg, &data, &mut self.tys);
        let inst = self.func.dfg.make_inst(data);
        let tys = std::mem::take(&mut self.tys);
        let vs = tys
            .iter()
            .map(|&t| self.func.dfg.append_result(inst, t))
            .collect();
        self.tys = tys;
        self.func.dfg.blocks[self.cur].insts.push(inst);
        vs
    }

    fn ins1(&mut self, data: InstData) -> Value {
        self.ins(data)[0]
    }

    fn iconst(&mut self, ty: Type, v: i64) -> Value {
        let bits = if ty.bytes() == 4 {
            v as u32 as u64
        } else {
            v as u64
        };
        self.ins1(InstData::Const { ty, bits })
    }

    fn bin(&mut self, op: BinaryOp, ty: Type, a: Value, b: Value) -> Value {
        self.ins1(InstData::Binary {
            op,
            ty,
            args: [a, b],
        })
    }

    fn list(&mut self, vs: &[Value]) -> ValueList {
        self.func.dfg.make_value_list(vs)
    }

    fn call(&mut self, func: FuncRef, args: &[Value]) -> Vec<Value> {
        let args = self.list(args);
        self.ins(InstData::Call { func, args })
    }

    fn intr(&mut self, intrinsic: Intrinsic, args: &[Value]) -> Vec<Value> {
        let args = self.list(args);
        self.ins(InstData::Intrinsic { intrinsic, args })
    }

    fn bc(&mut self, block: Block, args: &[Value]) -> BlockCall {
        BlockCall {
            block,
            args: self.list(args),
        }
    }

    fn jump(&mut self, block: Block, args: &[Value]) {
        let dest = self.bc(block, args);
        self.ins(InstData::Jump { dest });
    }

    fn br_if(&mut self, cond: Value, t: Block, targs: &[Value], e: Block, eargs: &[Value]) {
        let then_dest = self.bc(t, targs);
        let else_dest = self.bc(e, eargs);
        self.ins(InstData::BrIf {
            cond,
            then_dest,
            else_dest,
        });
    }

    fn ret(&mut self, vs: &[Value]) {
        let args = self.list(vs);
        self.ins(InstData::Return { args });
    }

    fn load(&mut self, ty: Type, kind: LoadKind, addr: Value, offset: u32) -> Value {
        self.ins1(InstData::Load {
            ty,
            kind,
            addr,
            mem: MemArg { offset, align: 0 },
        })
    }

    fn store(&mut self, ty: Type, width: StoreWidth, addr: Value, v: Value, offset: u32) {
        self.ins(InstData::Store {
            ty,
            width,
            args: [addr, v],
            mem: MemArg { offset, align: 0 },
        });
    }

    fn finish(self, m: &mut Module) {
        m.bodies[self.f] = self.func;
    }
}

fn new(m: &Module) -> Instance<'_> {
    match Instance::new(m) {
        Ok(i) => i,
        Err(t) => panic!("instantiation failed: {t}"),
    }
}

fn call(m: &Module, name: &str, args: &[Val]) -> Result<Vec<Val>, Trap> {
    new(m).call(name, args)
}

fn trap_msg(r: Result<Vec<Val>, Trap>) -> String {
    match r {
        Ok(v) => panic!("expected a trap, got {v:?}"),
        Err(t) => t.message,
    }
}

use Type::{F32, F64, I32, I64, Ptr};

/// A module with `@op(T, T) -> R` applying one binary op.
fn binop_module(op: BinaryOp, ty: Type) -> Module {
    let mut m = Module::default();
    let f = declare(&mut m, "op", &[ty, ty], &[op.result_type(ty)]);
    let mut b = B::new(&m, f);
    let p = b.params();
    let r = b.bin(op, ty, p[0], p[1]);
    b.ret(&[r]);
    b.finish(&mut m);
    m
}

// ---------------------------------------------------------------------------------------
// Numeric semantics.

fn bi32(op: BinaryOp, a: i32, b: i32) -> Result<i32, &'static str> {
    binary(op, I32, u64::from(a as u32), u64::from(b as u32)).map(|x| x as u32 as i32)
}

fn bi64(op: BinaryOp, a: i64, b: i64) -> Result<i64, &'static str> {
    binary(op, I64, a as u64, b as u64).map(|x| x as i64)
}

fn bf32(op: BinaryOp, a: f32, b: f32) -> f32 {
    f32::from_bits(binary(op, F32, a.to_bits().into(), b.to_bits().into()).unwrap() as u32)
}

fn bf64(op: BinaryOp, a: f64, b: f64) -> f64 {
    f64::from_bits(binary(op, F64, a.to_bits(), b.to_bits()).unwrap())
}

#[test]
fn integer_arithmetic_wraps() {
    use BinaryOp::*;
    assert_eq!(bi32(Add, i32::MAX, 1), Ok(i32::MIN));
    assert_eq!(bi32(Sub, i32::MIN, 1), Ok(i32::MAX));
    assert_eq!(bi32(Mul, 0x10000, 0x10000), Ok(0));
    assert_eq!(bi64(Add, i64::MAX, 1), Ok(i64::MIN));
    assert_eq!(bi64(Mul, i64::MIN, -1), Ok(i64::MIN));
    // The result of a 32-bit op is zero-extended in its register.
    assert_eq!(binary(Sub, Ptr, 0, 1), Ok(0xffff_ffff));
}

#[test]
fn integer_division() {
    use BinaryOp::*;
    assert_eq!(bi32(DivS, -7, 2), Ok(-3));
    assert_eq!(bi32(RemS, -7, 2), Ok(-1));
    assert_eq!(bi32(DivU, -1, 2), Ok(i32::MAX));
    assert_eq!(bi32(RemU, -1, 10), Ok(5));
    assert_eq!(bi32(DivS, 1, 0), Err("integer divide by zero"));
    assert_eq!(bi32(DivU, 1, 0), Err("integer divide by zero"));
    assert_eq!(bi32(RemS, 1, 0), Err("integer divide by zero"));
    assert_eq!(bi32(RemU, 1, 0), Err("integer divide by zero"));
    assert_eq!(bi32(DivS, i32::MIN, -1), Err("integer overflow"));
    assert_eq!(bi32(RemS, i32::MIN, -1), Ok(0));
    assert_eq!(bi64(DivS, i64::MIN, -1), Err("integer overflow"));
    assert_eq!(bi64(RemS, i64::MIN, -1), Ok(0));
    assert_eq!(bi64(DivU, 5, 0), Err("integer divide by zero"));
    assert_eq!(bi64(DivS, -9, 4), Ok(-2));
    assert_eq!(bi64(RemS, -9, 4), Ok(-1));
}

#[test]
fn shifts_and_rotates_take_count_modulo_width() {
    use BinaryOp::*;
    assert_eq!(bi32(Shl, 1, 33), Ok(2));
    assert_eq!(bi32(ShrS, -8, 33), Ok(-4));
    assert_eq!(bi32(ShrU, -8, 33), Ok(0x7fff_fffc));
    assert_eq!(bi32(Shl, 1, -1), Ok(i32::MIN));
    assert_eq!(bi32(Rotl, 0x8000_0001u32 as i32, 33), Ok(3));
    assert_eq!(bi32(Rotr, 3, 33), Ok(0x8000_0001u32 as i32));
    assert_eq!(bi64(Shl, 1, 65), Ok(2));
    assert_eq!(bi64(ShrS, -8, 65), Ok(-4));
    assert_eq!(bi64(ShrU, -1, 127), Ok(1));
    assert_eq!(bi64(Rotl, i64::MIN, 65), Ok(1));
    assert_eq!(bi64(Rotr, 1, -1), Ok(2));
    assert_eq!(bi32(And, 0b1100, 0b1010), Ok(0b1000));
    assert_eq!(bi32(Or, 0b1100, 0b1010), Ok(0b1110));
    assert_eq!(bi32(Xor, 0b1100, 0b1010), Ok(0b0110));
}

#[test]
fn integer_comparisons() {
    use BinaryOp::*;
    assert_eq!(bi32(LtS, -1, 0), Ok(1));
    assert_eq!(bi32(LtU, -1, 0), Ok(0));
    assert_eq!(bi32(GtU, -1, 0), Ok(1));
    assert_eq!(bi32(GtS, -1, 0), Ok(0));
    assert_eq!(bi32(LeS, 3, 3), Ok(1));
    assert_eq!(bi32(GeU, 2, 3), Ok(0));
    assert_eq!(bi32(Eq, 7, 7), Ok(1));
    assert_eq!(bi32(Ne, 7, 7), Ok(0));
    assert_eq!(bi64(LtS, i64::MIN, 0), Ok(1));
    assert_eq!(bi64(LtU, i64::MIN, 0), Ok(0));
    assert_eq!(bi64(GeS, 0, -1), Ok(1));
    assert_eq!(bi64(LeU, 0, -1), Ok(1));
    // Only the low 32 bits of an i32 register count.
    assert_eq!(binary(Eq, I32, 0x1_0000_0005, 5), Ok(1));
}

#[test]
fn integer_unary() {
    use UnaryOp::*;
    let u32op = |op, x: u32| unary(op, I32, u64::from(x)).unwrap();
    assert_eq!(u32op(Clz, 1), 31);
    assert_eq!(u32op(Clz, 0), 32);
    assert_eq!(u32op(Ctz, 0), 32);
    assert_eq!(u32op(Ctz, 8), 3);
    assert_eq!(u32op(Popcnt, 0xf0f0), 8);
    assert_eq!(u32op(Eqz, 0), 1);
    assert_eq!(u32op(Eqz, 5), 0);
    assert_eq!(u32op(Extend8S, 0x80), 0xffff_ff80);
    assert_eq!(u32op(Extend16S, 0x7fff), 0x7fff);
    assert_eq!(u32op(Extend16S, 0x8000), 0xffff_8000);
    assert_eq!(unary(Clz, I64, 1), Ok(63));
    assert_eq!(unary(Ctz, I64, 0), Ok(64));
    assert_eq!(unary(Popcnt, I64, u64::MAX), Ok(64));
    assert_eq!(
        unary(Extend32S, I64, 0x8000_0000),
        Ok(0xffff_ffff_8000_0000)
    );
    assert_eq!(unary(Extend8S, I64, 0x17f), Ok(0x7f));
    assert_eq!(unary(Eqz, I64, 1 << 40), Ok(0));
}

#[test]
fn float_arithmetic_and_min_max() {
    use BinaryOp::*;
    assert_eq!(bf64(Add, 0.1, 0.2), 0.1 + 0.2);
    assert_eq!(bf64(Div, 1.0, 0.0), f64::INFINITY);
    assert!(bf64(Div, 0.0, 0.0).is_nan());
    assert!(bf64(Min, f64::NAN, 1.0).is_nan());
    assert!(bf64(Max, 1.0, f64::NAN).is_nan());
    assert!(bf32(Min, 1.0, f32::NAN).is_nan());
    assert!(bf32(Max, f32::NAN, 1.0).is_nan());
    assert!(bf64(Min, 0.0, -0.0).is_sign_negative());
    assert!(bf64(Min, -0.0, 0.0).is_sign_negative());
    assert!(bf64(Max, -0.0, 0.0).is_sign_positive());
    assert!(bf64(Max, 0.0, -0.0).is_sign_positive());
    assert!(bf32(Min, 0.0, -0.0).is_sign_negative());
    assert!(bf32(Max, -0.0, 0.0).is_sign_positive());
    assert_eq!(bf64(Min, -3.0, 2.0), -3.0);
    assert_eq!(bf64(Max, -3.0, 2.0), 2.0);
    assert_eq!(bf32(Min, 5.0, 4.0), 4.0);
    assert_eq!(bf64(Copysign, 3.0, -0.0), -3.0);
    assert_eq!(bf32(Copysign, -3.0, 1.0), 3.0);
    assert!(bf64(Copysign, f64::NAN, -1.0).is_sign_negative());
    assert_eq!(bf32(Mul, 1.5, 2.0), 3.0);
    assert_eq!(bf32(Sub, 1.5, 2.0), -0.5);
    // Comparisons with NaN are false, except `ne`.
    let cmp = |op, a: f64, b: f64| binary(op, F64, a.to_bits(), b.to_bits()).unwrap();
    assert_eq!(cmp(Eq, f64::NAN, f64::NAN), 0);
    assert_eq!(cmp(Ne, f64::NAN, f64::NAN), 1);
    assert_eq!(cmp(Lt, f64::NAN, 1.0), 0);
    assert_eq!(cmp(Ge, f64::NAN, 1.0), 0);
    assert_eq!(cmp(Le, 1.0, 1.0), 1);
    assert_eq!(cmp(Gt, 2.0, 1.0), 1);
    assert_eq!(cmp(Eq, 0.0, -0.0), 1);
    let cmp32 =
        |op, a: f32, b: f32| binary(op, F32, a.to_bits().into(), b.to_bits().into()).unwrap();
    assert_eq!(cmp32(Lt, -1.0, 1.0), 1);
    assert_eq!(cmp32(Ne, f32::NAN, 1.0), 1);
}

#[test]
fn float_unary() {
    use UnaryOp::*;
    let u = |op, x: f64| f64::from_bits(unary(op, F64, x.to_bits()).unwrap());
    let u32f = |op, x: f32| f32::from_bits(unary(op, F32, x.to_bits().into()).unwrap() as u32);
    assert_eq!(u(Nearest, 2.5), 2.0);
    assert_eq!(u(Nearest, 3.5), 4.0);
    assert_eq!(u(Nearest, -2.5), -2.0);
    assert!(u(Nearest, -0.4).is_sign_negative());
    assert_eq!(u32f(Nearest, 0.5), 0.0);
    assert_eq!(u32f(Nearest, 1.5), 2.0);
    assert_eq!(u(Ceil, -1.5), -1.0);
    assert_eq!(u(Floor, -1.5), -2.0);
    assert_eq!(u(Trunc, -1.5), -1.0);
    assert_eq!(u(Sqrt, 9.0), 3.0);
    assert!(u(Sqrt, -1.0).is_nan());
    assert_eq!(u(Abs, -0.0).to_bits(), 0);
    assert_eq!(u(Neg, 0.0).to_bits(), (-0.0f64).to_bits());
    // abs and neg only touch the sign bit, NaN payloads included.
    let nan = f64::from_bits(0x7ff0_0000_0000_0001);
    assert_eq!(u(Neg, nan).to_bits(), 0xfff0_0000_0000_0001);
    assert_eq!(
        u(Abs, f64::from_bits(0xfff0_0000_0000_0001)).to_bits(),
        0x7ff0_0000_0000_0001
    );
    assert_eq!(u32f(Abs, -2.0), 2.0);
    assert_eq!(u32f(Ceil, 1.1), 2.0);
}

fn cv(op: ConvertOp, x: u64) -> Result<u64, &'static str> {
    convert(op, x)
}

#[test]
fn trapping_truncation() {
    use ConvertOp::*;
    let f = |x: f64| x.to_bits();
    let g = |x: f32| u64::from(x.to_bits());
    assert_eq!(cv(I32TruncF64S, f(-2147483648.9)), Ok(0x8000_0000));
    assert_eq!(cv(I32TruncF64S, f(-2147483649.0)), Err("integer overflow"));
    assert_eq!(cv(I32TruncF64S, f(2147483647.9)), Ok(0x7fff_ffff));
    assert_eq!(cv(I32TruncF64S, f(2147483648.0)), Err("integer overflow"));
    assert_eq!(
        cv(I32TruncF64S, f(f64::NAN)),
        Err("invalid conversion to integer")
    );
    assert_eq!(cv(I32TruncF32S, g(2147483648.0)), Err("integer overflow"));
    assert_eq!(cv(I32TruncF32S, g(-2147483648.0)), Ok(0x8000_0000));
    assert_eq!(cv(I32TruncF32U, g(-0.9)), Ok(0));
    assert_eq!(cv(I32TruncF32U, g(-1.0)), Err("integer overflow"));
    assert_eq!(cv(I32TruncF64U, f(4294967295.9)), Ok(0xffff_ffff));
    assert_eq!(cv(I32TruncF64U, f(4294967296.0)), Err("integer overflow"));
    assert_eq!(
        cv(I64TruncF64S, f(-9223372036854775808.0)),
        Ok(i64::MIN as u64)
    );
    assert_eq!(
        cv(I64TruncF64S, f(9223372036854775808.0)),
        Err("integer overflow")
    );
    assert_eq!(cv(I64TruncF32S, g(f32::INFINITY)), Err("integer overflow"));
    assert_eq!(cv(I64TruncF32S, g(-1.5)), Ok(-1i64 as u64));
    assert_eq!(
        cv(I64TruncF64U, f(18446744073709549568.0)),
        Ok(18446744073709549568)
    );
    assert_eq!(
        cv(I64TruncF64U, f(18446744073709551616.0)),
        Err("integer overflow")
    );
    assert_eq!(
        cv(I64TruncF32U, g(f32::NAN)),
        Err("invalid conversion to integer")
    );
}

#[test]
fn saturating_truncation() {
    use ConvertOp::*;
    let f = |x: f64| x.to_bits();
    let g = |x: f32| u64::from(x.to_bits());
    assert_eq!(cv(I32TruncSatF64S, f(1e10)), Ok(0x7fff_ffff));
    assert_eq!(cv(I32TruncSatF64S, f(-1e10)), Ok(0x8000_0000));
    assert_eq!(cv(I32TruncSatF64S, f(f64::NAN)), Ok(0));
    assert_eq!(cv(I32TruncSatF32U, g(-5.0)), Ok(0));
    assert_eq!(cv(I32TruncSatF32U, g(1e20)), Ok(0xffff_ffff));
    assert_eq!(cv(I64TruncSatF64S, f(f64::INFINITY)), Ok(i64::MAX as u64));
    assert_eq!(
        cv(I64TruncSatF32S, g(f32::NEG_INFINITY)),
        Ok(i64::MIN as u64)
    );
    assert_eq!(cv(I64TruncSatF64U, f(-1.0)), Ok(0));
    assert_eq!(cv(I64TruncSatF32U, g(f32::NAN)), Ok(0));
    assert_eq!(cv(I32TruncSatF64U, f(3.9)), Ok(3));
}

#[test]
fn other_conversions() {
    use ConvertOp::*;
    assert_eq!(cv(I32WrapI64, 0x1_2345_6789), Ok(0x2345_6789));
    assert_eq!(cv(I64ExtendI32S, 0xffff_fffe), Ok(-2i64 as u64));
    assert_eq!(cv(I64ExtendI32U, 0xffff_fffe), Ok(0xffff_fffe));
    assert_eq!(cv(F64ConvertI32S, 0xffff_ffff), Ok((-1.0f64).to_bits()));
    assert_eq!(
        cv(F64ConvertI32U, 0xffff_ffff),
        Ok(4294967295.0f64.to_bits())
    );
    assert_eq!(
        cv(F32ConvertI32S, 16777217),
        Ok(u64::from(16777216.0f32.to_bits()))
    );
    // Round to nearest, ties to even: 2^24 + 3 rounds up to 2^24 + 4.
    assert_eq!(
        cv(F32ConvertI32U, 16777219),
        Ok(u64::from(16777220.0f32.to_bits()))
    );
    assert_eq!(
        cv(F32ConvertI64U, u64::MAX),
        Ok(u64::from(18446744073709551616.0f32.to_bits()))
    );
    assert_eq!(
        cv(F64ConvertI64S, i64::MIN as u64),
        Ok((-9223372036854775808.0f64).to_bits())
    );
    assert_eq!(
        cv(F64ConvertI64U, u64::MAX),
        Ok(18446744073709551616.0f64.to_bits())
    );
    assert_eq!(
        cv(F32ConvertI64S, -1i64 as u64),
        Ok(u64::from((-1.0f32).to_bits()))
    );
    assert_eq!(
        cv(F32DemoteF64, 1e300f64.to_bits()),
        Ok(u64::from(f32::INFINITY.to_bits()))
    );
    assert_eq!(
        cv(F64PromoteF32, u64::from(1.5f32.to_bits())),
        Ok(1.5f64.to_bits())
    );
    assert_eq!(
        cv(I32ReinterpretF32, u64::from(1.0f32.to_bits())),
        Ok(0x3f80_0000)
    );
    assert_eq!(
        cv(F64ReinterpretI64, 0x3ff0_0000_0000_0000),
        Ok(1.0f64.to_bits())
    );
    assert_eq!(cv(I64ReinterpretF64, (-0.0f64).to_bits()), Ok(1 << 63));
    assert_eq!(cv(F32ReinterpretI32, 0x1_7fc0_0000), Ok(0x7fc0_0000));
}

fn i128_op(which: Intrinsic, a: i128, b: i128) -> Result<i128, &'static str> {
    let (a, b) = (a as u128, b as u128);
    let args = [a as u64, (a >> 64) as u64, b as u64, (b >> 64) as u64];
    let mut out = [0; 2];
    intrinsic(which, &args, &mut out)?;
    Ok(((u128::from(out[1]) << 64) | u128::from(out[0])) as i128)
}

fn i128_shift(which: Intrinsic, a: i128, n: i32) -> i128 {
    let a = a as u128;
    let args = [a as u64, (a >> 64) as u64, u64::from(n as u32)];
    let mut out = [0; 2];
    intrinsic(which, &args, &mut out).unwrap();
    ((u128::from(out[1]) << 64) | u128::from(out[0])) as i128
}

#[test]
fn i128_intrinsics() {
    use Intrinsic::*;
    let big = 0x1234_5678_9abc_def0_1122_3344_5566_7788i128;
    assert_eq!(i128_op(I128Mul, big, 3), Ok(big.wrapping_mul(3)));
    assert_eq!(i128_op(I128Mul, i128::MAX, 2), Ok(-2));
    assert_eq!(i128_op(I128DivS, -big, 7), Ok(-big / 7));
    assert_eq!(i128_op(I128RemS, -big, 7), Ok(-big % 7));
    assert_eq!(i128_op(I128DivU, -1, 2), Ok((u128::MAX / 2) as i128));
    assert_eq!(i128_op(I128RemU, -1, 10), Ok((u128::MAX % 10) as i128));
    assert_eq!(i128_op(I128DivS, 1, 0), Err("integer divide by zero"));
    assert_eq!(i128_op(I128DivU, 1, 0), Err("integer divide by zero"));
    assert_eq!(i128_op(I128RemS, 1, 0), Err("integer divide by zero"));
    assert_eq!(i128_op(I128RemU, 1, 0), Err("integer divide by zero"));
    assert_eq!(i128_op(I128DivS, i128::MIN, -1), Err("integer overflow"));
    assert_eq!(i128_op(I128RemS, i128::MIN, -1), Ok(0));
    assert_eq!(i128_shift(I128Shl, 1, 100), 1 << 100);
    assert_eq!(i128_shift(I128Shl, 1, 128 + 64), 1 << 64);
    assert_eq!(i128_shift(I128ShrS, i128::MIN, 127), -1);
    assert_eq!(i128_shift(I128ShrU, i128::MIN, 127), 1);
    assert_eq!(i128_shift(I128ShrU, -1, -1), 1);
}

#[test]
fn float_intrinsics() {
    use Intrinsic::*;
    let run = |w, args: &[f64]| {
        let bits: Vec<u64> = args.iter().map(|a| a.to_bits()).collect();
        let mut out = [0; 2];
        intrinsic(w, &bits, &mut out).unwrap();
        f64::from_bits(out[0])
    };
    let runf = |w, args: &[f32]| {
        let bits: Vec<u64> = args.iter().map(|a| u64::from(a.to_bits())).collect();
        let mut out = [0; 2];
        intrinsic(w, &bits, &mut out).unwrap();
        f32::from_bits(out[0] as u32)
    };
    assert_eq!(run(Fmod, &[7.5, 2.0]), 1.5);
    assert_eq!(run(Fmod, &[-7.5, 2.0]), -1.5);
    assert_eq!(runf(Fmodf, &[7.5, 2.0]), 1.5);
    assert_eq!(run(Pow, &[2.0, 10.0]), 1024.0);
    assert_eq!(runf(Powf, &[2.0, 3.0]), 8.0);
    assert_eq!(run(Round, &[2.5]), 3.0);
    assert_eq!(run(Round, &[-2.5]), -3.0);
    assert_eq!(runf(Roundf, &[0.5]), 1.0);
    assert_eq!(run(Fma, &[2.0, 3.0, 4.0]), 10.0);
    assert_eq!(runf(Fmaf, &[2.0, 3.0, 4.0]), 10.0);
    assert_eq!(run(Atan2, &[1.0, 0.0]), std::f64::consts::FRAC_PI_2);
    assert_eq!(run(Exp2, &[10.0]), 1024.0);
    assert_eq!(run(Log2, &[1024.0]), 10.0);
    assert_eq!(run(Log10, &[1000.0]), 3.0);
    assert_eq!(run(Exp, &[0.0]), 1.0);
    assert_eq!(run(Log, &[1.0]), 0.0);
    assert_eq!(run(Sin, &[0.0]), 0.0);
    assert_eq!(run(Cos, &[0.0]), 1.0);
    assert_eq!(run(Tan, &[0.0]), 0.0);
    assert_eq!(runf(Logf, &[1.0]), 0.0);
    assert_eq!(runf(Exp2f, &[3.0]), 8.0);
    assert_eq!(runf(Log2f, &[8.0]), 3.0);
    assert_eq!(runf(Log10f, &[100.0]), 2.0);
    assert_eq!(runf(Expf, &[0.0]), 1.0);
    assert_eq!(runf(Sinf, &[0.0]), 0.0);
    assert_eq!(runf(Cosf, &[0.0]), 1.0);
    assert_eq!(runf(Tanf, &[0.0]), 0.0);
    assert_eq!(runf(Atan2f, &[0.0, 1.0]), 0.0);
}

// ---------------------------------------------------------------------------------------
// Values and traps.

#[test]
fn val_and_trap_display() {
    assert_eq!(Val::I32(-5).to_string(), "-5");
    assert_eq!(Val::I64(i64::MIN).to_string(), "-9223372036854775808");
    assert_eq!(Val::F64(1.5).to_string(), "1.5");
    assert_eq!(Val::F32(f32::NAN).to_string(), "nan");
    assert_eq!(Val::F64(-f64::NAN).to_string(), "nan");
    assert_eq!(Val::F64(f64::INFINITY).to_string(), "inf");
    assert_eq!(Val::F32(f32::NEG_INFINITY).to_string(), "-inf");
    let t = Trap {
        message: "integer divide by zero".into(),
        func: Some("f".into()),
        block: Some(Block::new(3)),
    };
    assert_eq!(t.to_string(), "trap in @f block3: integer divide by zero");
    assert_eq!(Trap::new("x").to_string(), "trap: x");
}

#[test]
fn binary_ops_through_calls() {
    let m = binop_module(BinaryOp::Add, I32);
    assert_eq!(
        call(&m, "op", &[Val::I32(i32::MAX), Val::I32(1)]),
        Ok(vec![Val::I32(i32::MIN)])
    );
    let m = binop_module(BinaryOp::DivS, I64);
    assert_eq!(
        call(&m, "op", &[Val::I64(-9), Val::I64(2)]),
        Ok(vec![Val::I64(-4)])
    );
    let t = call(&m, "op", &[Val::I64(1), Val::I64(0)]).unwrap_err();
    assert_eq!(t.to_string(), "trap in @op block0: integer divide by zero");
    let m = binop_module(BinaryOp::Min, F32);
    assert_eq!(
        call(&m, "op", &[Val::F32(1.0), Val::F32(-2.0)]),
        Ok(vec![Val::F32(-2.0)])
    );
    let m = binop_module(BinaryOp::LtU, Ptr);
    assert_eq!(
        call(&m, "op", &[Val::I32(-1), Val::I32(0)]),
        Ok(vec![Val::I32(0)])
    );
}

#[test]
fn call_checks_arguments() {
    let m = binop_module(BinaryOp::Add, I32);
    let msg = trap_msg(call(&m, "op", &[Val::I32(1)]));
    assert_eq!(msg, "@op takes (i32, i32), called with (i32)");
    let msg = trap_msg(call(&m, "op", &[Val::I32(1), Val::I64(1)]));
    assert_eq!(msg, "@op takes (i32, i32), called with (i32, i64)");
    assert_eq!(trap_msg(call(&m, "nope", &[])), "no function named @nope");
}

// ---------------------------------------------------------------------------------------
// Control flow and calls.

/// `@sum(n) = n + sum(n - 1)`, `sum(0) = 0`, recursively; and `@loop` that never ends.
fn recursion_module() -> Module {
    let mut m = Module::default();
    let sum = declare(&mut m, "sum", &[I64], &[I64]);
    let mut b = B::new(&m, sum);
    let n = b.params()[0];
    let (base_case, _) = b.block(&[]);
    let (rec, _) = b.block(&[]);
    let z = b.ins1(InstData::Unary {
        op: UnaryOp::Eqz,
        ty: I64,
        arg: n,
    });
    b.br_if(z, base_case, &[], rec, &[]);
    b.switch(base_case);
    b.ret(&[n]);
    b.switch(rec);
    let one = b.iconst(I64, 1);
    let n1 = b.bin(BinaryOp::Sub, I64, n, one);
    let r = b.call(sum, &[n1])[0];
    let s = b.bin(BinaryOp::Add, I64, n, r);
    b.ret(&[s]);
    b.finish(&mut m);

    let forever = declare(&mut m, "forever", &[I32], &[I32]);
    let mut b = B::new(&m, forever);
    let p = b.params()[0];
    let r = b.call(forever, &[p])[0];
    b.ret(&[r]);
    b.finish(&mut m);

    let spin = declare(&mut m, "spin", &[], &[]);
    let mut b = B::new(&m, spin);
    let (lp, _) = b.block(&[]);
    b.jump(lp, &[]);
    b.switch(lp);
    b.jump(lp, &[]);
    b.finish(&mut m);
    m
}

#[test]
fn deep_recursion_uses_no_host_stack() {
    let m = recursion_module();
    let mut inst = new(&m);
    assert_eq!(
        inst.call("sum", &[Val::I64(5000)]),
        Ok(vec![Val::I64(5000 * 5001 / 2)])
    );
    assert_eq!(
        inst.call("sum", &[Val::I64(9_999)]),
        Ok(vec![Val::I64(9_999 * 10_000 / 2)])
    );
    let t = inst.call("sum", &[Val::I64(10_000)]).unwrap_err();
    assert_eq!(t.message, "call stack exhausted");
    // The instance is usable after a trap.
    assert_eq!(inst.call("sum", &[Val::I64(3)]), Ok(vec![Val::I64(6)]));
}

#[test]
fn infinite_recursion_and_loops_trap() {
    let m = recursion_module();
    let t = call(&m, "forever", &[Val::I32(1)]).unwrap_err();
    assert_eq!(t.message, "call stack exhausted");
    assert_eq!(t.func.as_deref(), Some("forever"));
    let mut inst = new(&m);
    inst.set_fuel(10_000);
    let t = inst.call("spin", &[]).unwrap_err();
    assert_eq!(t.to_string(), "trap in @spin block1: out of fuel");
    // Fuel is per call.
    inst.set_fuel(100);
    assert_eq!(inst.call("sum", &[Val::I64(5)]), Ok(vec![Val::I64(15)]));
    assert_eq!(trap_msg(inst.call("sum", &[Val::I64(50)])), "out of fuel");
}

#[test]
fn block_arguments_are_a_parallel_copy() {
    // loop(a, b, n): if n == 0 return a, b; else loop(b, a, n - 1)
    let mut m = Module::default();
    let f = declare(&mut m, "swap", &[I32, I32, I32], &[I32, I32]);
    let mut b = B::new(&m, f);
    let p = b.params();
    let (lp, lv) = b.block(&[I32, I32, I32]);
    let (done, _) = b.block(&[]);
    let (body, _) = b.block(&[]);
    b.jump(lp, &p);
    b.switch(lp);
    b.br_if(lv[2], body, &[], done, &[]);
    b.switch(done);
    b.ret(&[lv[0], lv[1]]);
    b.switch(body);
    let one = b.iconst(I32, 1);
    let n1 = b.bin(BinaryOp::Sub, I32, lv[2], one);
    b.jump(lp, &[lv[1], lv[0], n1]);
    b.finish(&mut m);
    let r = call(&m, "swap", &[Val::I32(1), Val::I32(2), Val::I32(3)]);
    assert_eq!(r, Ok(vec![Val::I32(2), Val::I32(1)]));
    let r = call(&m, "swap", &[Val::I32(1), Val::I32(2), Val::I32(4)]);
    assert_eq!(r, Ok(vec![Val::I32(1), Val::I32(2)]));
}

#[test]
fn br_table_select_and_unreachable() {
    let mut m = Module::default();
    let f = declare(&mut m, "pick", &[I32], &[I32]);
    let mut b = B::new(&m, f);
    let i = b.params()[0];
    let (b0, v0) = b.block(&[I32]);
    let (b1, _) = b.block(&[]);
    let (bd, _) = b.block(&[]);
    let ten = b.iconst(I32, 10);
    let targets = vec![b.bc(b0, &[ten]), b.bc(b1, &[])];
    let default = b.bc(bd, &[]);
    let table = b
        .func
        .dfg
        .jump_tables
        .push(JumpTableData { targets, default });
    b.ins(InstData::BrTable { index: i, table });
    b.switch(b0);
    b.ret(&[v0[0]]);
    b.switch(b1);
    let x = b.iconst(I32, 20);
    let y = b.iconst(I32, 30);
    let s = b.ins1(InstData::Select { args: [i, x, y] });
    b.ret(&[s]);
    b.switch(bd);
    b.ins(InstData::Unreachable);
    b.finish(&mut m);
    assert_eq!(call(&m, "pick", &[Val::I32(0)]), Ok(vec![Val::I32(10)]));
    assert_eq!(call(&m, "pick", &[Val::I32(1)]), Ok(vec![Val::I32(20)]));
    let t = call(&m, "pick", &[Val::I32(-1)]).unwrap_err();
    assert_eq!(t.to_string(), "trap in @pick block3: unreachable");
}

#[test]
fn indirect_calls() {
    let mut m = Module::default();
    let add = declare(&mut m, "add", &[I32, I32], &[I32]);
    let mut b = B::new(&m, add);
    let p = b.params();
    let r = b.bin(BinaryOp::Add, I32, p[0], p[1]);
    b.ret(&[r]);
    b.finish(&mut m);
    let neg = declare(&mut m, "neg", &[I32], &[I32]);
    let mut b = B::new(&m, neg);
    let p = b.params();
    let z = b.iconst(I32, 0);
    let r = b.bin(BinaryOp::Sub, I32, z, p[0]);
    b.ret(&[r]);
    b.finish(&mut m);
    let ext = declare_extern(&mut m, "host", &[I32, I32], &[I32]);

    // @via(slot, a, b) = call_indirect (i32, i32) -> i32 slot(a, b)
    let via = declare(&mut m, "via", &[I32, I32, I32], &[I32]);
    let mut b = B::new(&m, via);
    let p = b.params();
    let s = b.func.dfg.sigs.push(sig(&[I32, Ptr], &[I32]));
    let args = b.list(&p[1..]);
    let r = b.ins1(InstData::CallIndirect {
        sig: s,
        callee: p[0],
        args,
    });
    b.ret(&[r]);
    b.finish(&mut m);

    // @slots() -> (add, neg, host) slots
    let slots = declare(&mut m, "slots", &[], &[I32, I32, I32]);
    let mut b = B::new(&m, slots);
    let a = b.ins1(InstData::FuncAddr { func: add });
    let n = b.ins1(InstData::FuncAddr { func: neg });
    let h = b.ins1(InstData::FuncAddr { func: ext });
    b.ret(&[a, n, h]);
    b.finish(&mut m);

    let mut inst = new(&m);
    let s = inst.call("slots", &[]).unwrap();
    assert_eq!(s, vec![Val::I32(1), Val::I32(2), Val::I32(3)]);
    let c =
        |inst: &mut Instance, slot| inst.call("via", &[Val::I32(slot), Val::I32(40), Val::I32(2)]);
    assert_eq!(c(&mut inst, 1), Ok(vec![Val::I32(42)]));
    assert_eq!(
        trap_msg(c(&mut inst, 2)),
        "indirect call signature mismatch"
    );
    assert_eq!(
        trap_msg(c(&mut inst, 0)),
        "indirect call to null or invalid function pointer"
    );
    assert_eq!(
        trap_msg(c(&mut inst, 4)),
        "indirect call to null or invalid function pointer"
    );
    let t = c(&mut inst, 3).unwrap_err();
    assert_eq!(
        t.to_string(),
        "trap in @via block0: call to extern function @host, which the interpreter cannot run"
    );
}

// ---------------------------------------------------------------------------------------
// Memory, data, globals.

#[test]
fn loads_stores_and_bounds() {
    let mut m = Module::default();
    // @rw(addr, v: i64) -> (i64 load, load8_s, load8_u, load16_s, load32_u, i32 load)
    let f = declare(&mut m, "rw", &[Ptr, I64], &[I64, I64, I32, I32, I64, I32]);
    let mut b = B::new(&m, f);
    let p = b.params();
    b.store(I64, StoreWidth::Full, p[0], p[1], 0);
    let full = b.load(I64, LoadKind::Full, p[0], 0);
    let s8 = b.load(I64, LoadKind::S8, p[0], 0);
    let u8_ = b.load(I32, LoadKind::U8, p[0], 0);
    let s16 = b.load(I32, LoadKind::S16, p[0], 0);
    let u32_ = b.load(I64, LoadKind::U32, p[0], 4);
    let w = b.load(I32, LoadKind::Full, p[0], 4);
    b.ret(&[full, s8, u8_, s16, u32_, w]);
    b.finish(&mut m);

    // @narrow(addr) stores 0xAABBCCDD with store8/store16/store32 at addr, addr+2, addr+4
    let g = declare(&mut m, "narrow", &[Ptr], &[I64]);
    let mut b = B::new(&m, g);
    let a = b.params()[0];
    let zero = b.iconst(I64, 0);
    b.store(I64, StoreWidth::Full, a, zero, 0);
    let v = b.iconst(I64, 0x1122_3344_AABB_CCDD);
    b.store(I64, StoreWidth::W8, a, v, 0);
    b.store(I64, StoreWidth::W16, a, v, 2);
    let v32 = b.iconst(I32, 0xAABB_CCDDu32 as i64);
    b.store(I32, StoreWidth::W8, a, v32, 4);
    let r = b.load(I64, LoadKind::Full, a, 0);
    b.ret(&[r]);
    b.finish(&mut m);

    let size = declare(&mut m, "grow", &[Ptr], &[Ptr, Ptr]);
    let mut b = B::new(&m, size);
    let n = b.params()[0];
    let old = b.ins1(InstData::MemoryGrow { arg: n });
    let now = b.ins1(InstData::MemorySize);
    b.ret(&[old, now]);
    b.finish(&mut m);

    let mut inst = new(&m);
    let r = inst
        .call(
            "rw",
            &[Val::I32(1000), Val::I64(0x8877_6655_4433_22F1u64 as i64)],
        )
        .unwrap();
    assert_eq!(
        r,
        vec![
            Val::I64(0x8877_6655_4433_22F1u64 as i64),
            Val::I64(-15),
            Val::I32(0xF1),
            Val::I32(0x22F1),
            Val::I64(0x8877_6655),
            Val::I32(0x8877_6655u32 as i32),
        ]
    );
    assert_eq!(&inst.memory()[1000..1002], &[0xF1, 0x22]);
    let r = inst.call("narrow", &[Val::I32(2000)]).unwrap();
    assert_eq!(r, vec![Val::I64(0x0000_00DD_CCDD_00DD)]);

    let pages = (inst.memory().len() / 65536) as i32;
    assert_eq!(pages, 2, "64 KiB stack, a little data, one free page");
    let end = pages * 65536;
    let t = inst
        .call("rw", &[Val::I32(end - 4), Val::I64(0)])
        .unwrap_err();
    assert_eq!(
        t.to_string(),
        "trap in @rw block0: out of bounds memory access"
    );
    assert_eq!(
        trap_msg(inst.call("rw", &[Val::I32(-1), Val::I64(0)])),
        "out of bounds memory access"
    );
    assert!(inst.call("rw", &[Val::I32(end - 8), Val::I64(0)]).is_ok());
    // memory.grow
    assert_eq!(
        inst.call("grow", &[Val::I32(1)]),
        Ok(vec![Val::I32(pages), Val::I32(pages + 1)])
    );
    assert!(inst.call("rw", &[Val::I32(end), Val::I64(0)]).is_ok());
    assert_eq!(
        inst.call("grow", &[Val::I32(16384)]),
        Ok(vec![Val::I32(-1), Val::I32(pages + 1)])
    );
    assert_eq!(
        inst.call("grow", &[Val::I32(0)]),
        Ok(vec![Val::I32(pages + 1), Val::I32(pages + 1)])
    );
}

#[test]
fn bulk_memory_and_intrinsics() {
    let mut m = Module::default();
    // @bulk(dst, src, len, which): which 0 = memory.copy, 1 = memory.fill 0x5a,
    // 2 = memcpy, 3 = memmove, 4 = memset 0x33
    let f = declare(&mut m, "bulk", &[Ptr, Ptr, Ptr, I32], &[]);
    let mut b = B::new(&m, f);
    let p = b.params();
    let blocks: Vec<Block> = (0..5).map(|_| b.block(&[]).0).collect();
    let targets = blocks.iter().map(|&bl| b.bc(bl, &[])).collect::<Vec<_>>();
    let default = b.bc(blocks[0], &[]);
    let table = b
        .func
        .dfg
        .jump_tables
        .push(JumpTableData { targets, default });
    b.ins(InstData::BrTable { index: p[3], table });
    b.switch(blocks[0]);
    b.ins(InstData::MemoryCopy {
        args: [p[0], p[1], p[2]],
    });
    b.ret(&[]);
    b.switch(blocks[1]);
    let byte = b.iconst(I32, 0x15a);
    b.ins(InstData::MemoryFill {
        args: [p[0], byte, p[2]],
    });
    b.ret(&[]);
    b.switch(blocks[2]);
    b.intr(Intrinsic::Memcpy, &[p[0], p[1], p[2]]);
    b.ret(&[]);
    b.switch(blocks[3]);
    b.intr(Intrinsic::Memmove, &[p[0], p[1], p[2]]);
    b.ret(&[]);
    b.switch(blocks[4]);
    let byte = b.iconst(I32, 0x33);
    b.intr(Intrinsic::Memset, &[p[0], byte, p[2]]);
    b.ret(&[]);
    b.finish(&mut m);

    let mut inst = new(&m);
    let run = |inst: &mut Instance, d: i32, s: i32, n: i32, w: i32| {
        inst.call(
            "bulk",
            &[Val::I32(d), Val::I32(s), Val::I32(n), Val::I32(w)],
        )
    };
    run(&mut inst, 100, 0, 8, 1).unwrap();
    assert_eq!(
        &inst.memory()[99..109],
        &[0, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0]
    );
    run(&mut inst, 104, 0, 4, 4).unwrap();
    run(&mut inst, 102, 100, 8, 0).unwrap(); // overlapping, forward
    assert_eq!(
        &inst.memory()[100..110],
        &[0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x33, 0x33, 0x33, 0x33]
    );
    run(&mut inst, 100, 102, 8, 3).unwrap(); // overlapping, backward
    assert_eq!(
        &inst.memory()[100..108],
        &[0x5a, 0x5a, 0x5a, 0x5a, 0x33, 0x33, 0x33, 0x33]
    );
    run(&mut inst, 200, 100, 4, 2).unwrap();
    assert_eq!(&inst.memory()[200..204], &[0x5a; 4]);
    let len = inst.memory().len() as i32;
    assert!(
        run(&mut inst, len, 0, 0, 0).is_ok(),
        "zero bytes at the end is in bounds"
    );
    for w in 0..5 {
        assert_eq!(
            trap_msg(run(&mut inst, len - 2, 0, 4, w)),
            "out of bounds memory access"
        );
    }
    assert_eq!(
        trap_msg(run(&mut inst, 0, len - 2, 4, 0)),
        "out of bounds memory access"
    );
    assert_eq!(
        trap_msg(run(&mut inst, len + 1, 0, 0, 1)),
        "out of bounds memory access"
    );
}

#[test]
fn data_layout_and_relocations() {
    let mut m = Module::default();
    let add = declare(&mut m, "add", &[I32], &[I32]);
    let mut b = B::new(&m, add);
    let p = b.params()[0];
    b.ret(&[p]);
    b.finish(&mut m);
    let other = declare(&mut m, "other", &[], &[]);
    let mut b = B::new(&m, other);
    b.ret(&[]);
    b.finish(&mut m);

    let bss = data(
        &mut m,
        "zeros",
        DataSection::Bss,
        8,
        vec![DataItem::Zero(12)],
    );
    let ro = data(
        &mut m,
        "ro",
        DataSection::Rodata,
        1,
        vec![DataItem::Bytes(b"hi!".to_vec())],
    );
    let d = data(
        &mut m,
        "d",
        DataSection::Data,
        4,
        vec![
            int(1, 0xff),
            int(2, 0x1234),
            DataItem::Zero(1),
            int(4, 0xdead_beef),
            int(8, u64::MAX - 1),
            DataItem::F32(1.5f32.to_bits()),
            DataItem::F64(2.5f64.to_bits()),
        ],
    );
    let ptrs = data(
        &mut m,
        "ptrs",
        DataSection::Data,
        16,
        vec![
            DataItem::DataAddr {
                data: ro,
                offset: 1,
            },
            DataItem::DataAddr {
                data: d,
                offset: -4,
            },
            DataItem::FuncAddr(other),
            DataItem::FuncAddr(add),
            DataItem::FuncAddr(other),
            DataItem::DataAddr {
                data: bss,
                offset: 0,
            },
        ],
    );
    let sec_a = data(
        &mut m,
        "sa",
        DataSection::Named("mysec".into()),
        1,
        vec![int(1, 7)],
    );
    data(
        &mut m,
        "sb",
        DataSection::Named("other".into()),
        1,
        vec![int(1, 8)],
    );
    let sec_c = data(
        &mut m,
        "sc",
        DataSection::Named("mysec".into()),
        1,
        vec![int(2, 9)],
    );
    let names = [
        "__heap_base",
        "__data_end",
        "__dso_handle",
        "__stack_low",
        "__stack_high",
        "__global_base",
        "__start_mysec",
        "__stop_mysec",
    ];
    let syms: Vec<DataRef> = names.iter().map(|n| extern_data(&mut m, n)).collect();
    let unresolved = extern_data(&mut m, "nowhere");

    let addrs = declare(&mut m, "addrs", &[], &[Ptr; 6]);
    let mut b = B::new(&m, addrs);
    let vs: Vec<Value> = [ro, d, ptrs, bss, sec_a, sec_c]
        .iter()
        .map(|&data| b.ins1(InstData::DataAddr { data, offset: 0 }))
        .collect();
    b.ret(&vs);
    b.finish(&mut m);
    let syms_f = declare(&mut m, "syms", &[], &[Ptr; 8]);
    let mut b = B::new(&m, syms_f);
    let vs: Vec<Value> = syms
        .iter()
        .map(|&data| b.ins1(InstData::DataAddr { data, offset: 0 }))
        .collect();
    b.ret(&vs);
    b.finish(&mut m);
    let bad = declare(&mut m, "bad", &[], &[Ptr]);
    let mut b = B::new(&m, bad);
    let v = b.ins1(InstData::DataAddr {
        data: unresolved,
        offset: 4,
    });
    b.ret(&[v]);
    b.finish(&mut m);

    let mut inst = new(&m);
    let a: Vec<u32> = inst
        .call("addrs", &[])
        .unwrap()
        .into_iter()
        .map(|v| match v {
            Val::I32(x) => x as u32,
            _ => panic!(),
        })
        .collect();
    let (ro_a, d_a, ptrs_a, bss_a, sa_a, sc_a) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    // rodata, data, named sections, bss; each aligned.
    assert_eq!(ro_a, 65536);
    assert_eq!(d_a, 65540);
    assert_eq!(ptrs_a, 65536 + 32, "d is 28 bytes, ptrs aligned to 16");
    assert_eq!(sa_a, ptrs_a + 24);
    assert_eq!(sc_a, sa_a + 1, "sections grouped by name");
    assert_eq!(
        bss_a,
        ptrs_a + 32,
        "after the 'other' section, aligned to 8"
    );
    let mem = inst.memory();
    let at = |a: u32, n: usize| &mem[a as usize..a as usize + n];
    assert_eq!(at(ro_a, 3), b"hi!");
    assert_eq!(
        at(d_a, 28),
        &[
            0xff, 0x34, 0x12, 0, 0xef, 0xbe, 0xad, 0xde, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0, 0, 0xc0, 0x3f, 0, 0, 0, 0, 0, 0, 4, 0x40
        ]
    );
    let word = |a: u32| u32::from_le_bytes(at(a, 4).try_into().unwrap());
    assert_eq!(word(ptrs_a), ro_a + 1);
    assert_eq!(word(ptrs_a + 4), d_a - 4);
    assert_eq!(
        word(ptrs_a + 8),
        2,
        "@add is slot 1, @other slot 2 (FuncRef order)"
    );
    assert_eq!(word(ptrs_a + 12), 1);
    assert_eq!(word(ptrs_a + 16), 2);
    assert_eq!(word(ptrs_a + 20), bss_a);
    assert_eq!(at(sa_a, 4), &[7, 9, 0, 8]);

    let s: Vec<i32> = inst
        .call("syms", &[])
        .unwrap()
        .into_iter()
        .map(|v| match v {
            Val::I32(x) => x,
            _ => panic!(),
        })
        .collect();
    let data_end = bss_a as i32 + 12;
    assert_eq!(
        s,
        vec![
            (data_end + 15) & !15,
            data_end,
            65536,
            0,
            65536,
            65536,
            sa_a as i32,
            sc_a as i32 + 2
        ]
    );
    assert_eq!(
        trap_msg(inst.call("bad", &[])),
        "use of unresolved extern data @nowhere"
    );

    // A data item pointing at unresolved extern data fails instantiation.
    data(
        &mut m,
        "dangling",
        DataSection::Data,
        4,
        vec![DataItem::DataAddr {
            data: unresolved,
            offset: 0,
        }],
    );
    let err = Instance::new(&m).err().unwrap();
    assert_eq!(
        err.message,
        "data @dangling refers to unresolved extern data @nowhere"
    );
}

#[test]
fn globals_and_stack_slots() {
    let mut m = Module::default();
    let sp = global(&mut m, "__stack_pointer", Ptr, 0, Linkage::Extern(None));
    let counter = global(&mut m, "counter", I64, 5, Linkage::Local);
    let unresolved = global(&mut m, "elsewhere", I32, 0, Linkage::Extern(None));

    // @leaf(x) -> (sp seen inside, value read back from the slot)
    let leaf = declare(&mut m, "leaf", &[I32], &[Ptr, I32]);
    let mut b = B::new(&m, leaf);
    b.func.stack_slots.push(StackSlotData { size: 3, align: 1 });
    let s1 = b.func.stack_slots.push(StackSlotData { size: 4, align: 4 });
    let x = b.params()[0];
    let a = b.ins1(InstData::StackAddr {
        slot: s1,
        offset: 0,
    });
    b.store(I32, StoreWidth::Full, a, x, 0);
    let r = b.load(I32, LoadKind::Full, a, 0);
    let now = b.ins1(InstData::GlobalGet { global: sp });
    b.ret(&[now, r]);
    b.finish(&mut m);

    // @outer() -> (sp before, leaf's sp, leaf's value, slot address, sp after); outer has a
    // 32-aligned slot.
    let outer = declare(&mut m, "outer", &[], &[Ptr, Ptr, I32, Ptr, Ptr]);
    let mut b = B::new(&m, outer);
    let s = b.func.stack_slots.push(StackSlotData {
        size: 20,
        align: 32,
    });
    let before = b.ins1(InstData::GlobalGet { global: sp });
    let v = b.iconst(I32, 77);
    let r = b.call(leaf, &[v]);
    let a = b.ins1(InstData::StackAddr { slot: s, offset: 4 });
    let after = b.ins1(InstData::GlobalGet { global: sp });
    b.ret(&[before, r[0], r[1], a, after]);
    b.finish(&mut m);

    // @bump() -> counter += 1
    let bump = declare(&mut m, "bump", &[], &[I64]);
    let mut b = B::new(&m, bump);
    let c = b.ins1(InstData::GlobalGet { global: counter });
    let one = b.iconst(I64, 1);
    let c1 = b.bin(BinaryOp::Add, I64, c, one);
    b.ins(InstData::GlobalSet {
        global: counter,
        arg: c1,
    });
    b.ret(&[c1]);
    b.finish(&mut m);

    // @setsp(v) sets the stack pointer, then calls @leaf.
    let setsp = declare(&mut m, "setsp", &[Ptr], &[Ptr, I32]);
    let mut b = B::new(&m, setsp);
    let v = b.params()[0];
    b.ins(InstData::GlobalSet { global: sp, arg: v });
    let r = b.call(leaf, &[v]);
    b.ret(&r);
    b.finish(&mut m);

    let bad = declare(&mut m, "bad", &[], &[I32]);
    let mut b = B::new(&m, bad);
    let v = b.ins1(InstData::GlobalGet { global: unresolved });
    b.ret(&[v]);
    b.finish(&mut m);

    let mut inst = new(&m);
    let r = inst.call("outer", &[]).unwrap();
    // outer's frame: 20 bytes -> 32, aligned to 32: 65536 - 32. leaf's: 3 + pad + 4 = 8 -> 16.
    assert_eq!(
        r,
        vec![
            Val::I32(65536 - 32),
            Val::I32(65536 - 48),
            Val::I32(77),
            Val::I32(65536 - 32 + 4),
            Val::I32(65536 - 32)
        ]
    );
    assert_eq!(
        &inst.memory()[65536 - 48 + 4..65536 - 48 + 8],
        &77u32.to_le_bytes()
    );
    assert_eq!(inst.call("bump", &[]), Ok(vec![Val::I64(6)]));
    assert_eq!(inst.call("bump", &[]), Ok(vec![Val::I64(7)]));
    assert_eq!(
        trap_msg(inst.call("bad", &[])),
        "use of unresolved extern global @elsewhere"
    );
    // After outer returned, the stack pointer is back at the top.
    assert_eq!(
        inst.call("leaf", &[Val::I32(1)]),
        Ok(vec![Val::I32(65536 - 16), Val::I32(1)])
    );
    // An unaligned stack pointer gets aligned down; too low a one overflows.
    assert_eq!(
        inst.call("setsp", &[Val::I32(1000)]),
        Ok(vec![Val::I32(976), Val::I32(1000)])
    );
    let t = inst.call("setsp", &[Val::I32(8)]).unwrap_err();
    assert_eq!(t.to_string(), "trap in @setsp block0: stack overflow");
}

#[test]
fn thread_locals() {
    let mut m = Module::default();
    let plain = data(&mut m, "plain", DataSection::Data, 1, vec![int(1, 1)]);
    let t1 = data(
        &mut m,
        "t1",
        DataSection::Tdata,
        4,
        vec![int(4, 0x1234_5678)],
    );
    let t2 = data(&mut m, "t2", DataSection::Tbss, 8, vec![DataItem::Zero(8)]);
    let t3 = data(&mut m, "t3", DataSection::Tdata, 2, vec![int(2, 0xbeef)]);
    let f = declare(&mut m, "tls", &[], &[Ptr, Ptr, Ptr, I32, I32, Ptr]);
    let mut b = B::new(&m, f);
    let a1 = b.ins1(InstData::TlsAddr {
        data: t1,
        offset: 0,
    });
    let a2 = b.ins1(InstData::TlsAddr {
        data: t2,
        offset: 0,
    });
    let a3 = b.ins1(InstData::TlsAddr {
        data: t3,
        offset: 2,
    });
    let v1 = b.load(I32, LoadKind::Full, a1, 0);
    let v3 = b.load(I32, LoadKind::U16, a3, 0);
    let p = b.ins1(InstData::DataAddr {
        data: plain,
        offset: 0,
    });
    b.ret(&[a1, a2, a3, v1, v3, p]);
    b.finish(&mut m);
    let bad = declare(&mut m, "bad", &[], &[Ptr]);
    let mut b = B::new(&m, bad);
    let a = b.ins1(InstData::TlsAddr {
        data: plain,
        offset: 0,
    });
    b.ret(&[a]);
    b.finish(&mut m);

    let mut inst = new(&m);
    let r = inst.call("tls", &[]).unwrap();
    // The TLS block comes first: tdata (t1, t3), then tbss (t2), then ordinary data.
    assert_eq!(
        r,
        vec![
            Val::I32(65536),
            Val::I32(65536 + 8),
            Val::I32(65536 + 4 + 2),
            Val::I32(0x1234_5678),
            Val::I32(0),
            Val::I32(65536 + 16)
        ]
    );
    assert_eq!(&inst.memory()[65540..65542], &[0xef, 0xbe]);
    assert_eq!(
        trap_msg(inst.call("bad", &[])),
        "tls_addr of data @plain, which is not thread-local"
    );
}

#[test]
fn constructors_run_by_priority_then_order() {
    let mut m = Module::default();
    let log = global(&mut m, "log", I64, 0, Linkage::Local);
    // Each ctor does log = log * 10 + digit.
    let ctor = |m: &mut Module, name: &str, prio: Option<u32>, digit: i64| {
        let f = m.declare_func(FuncDecl {
            name: name.to_string(),
            sig: Signature::default(),
            linkage: Linkage::Local,
            ctor: prio,
            loc: Loc::default(),
        });
        let mut b = B::new(m, f);
        let l = b.ins1(InstData::GlobalGet { global: log });
        let ten = b.iconst(I64, 10);
        let d = b.iconst(I64, digit);
        let l10 = b.bin(BinaryOp::Mul, I64, l, ten);
        let n = b.bin(BinaryOp::Add, I64, l10, d);
        b.ins(InstData::GlobalSet {
            global: log,
            arg: n,
        });
        b.ret(&[]);
        b.finish(m);
    };
    ctor(&mut m, "c1", Some(DEFAULT_CTOR_PRIORITY), 1);
    ctor(&mut m, "c2", Some(100), 2);
    ctor(&mut m, "not_a_ctor", None, 9);
    ctor(&mut m, "c3", Some(DEFAULT_CTOR_PRIORITY), 3);
    ctor(&mut m, "c4", Some(5), 4);
    let get = declare(&mut m, "get", &[], &[I64]);
    let mut b = B::new(&m, get);
    let l = b.ins1(InstData::GlobalGet { global: log });
    b.ret(&[l]);
    b.finish(&mut m);
    assert_eq!(call(&m, "get", &[]), Ok(vec![Val::I64(4213)]));

    // A trapping constructor fails instantiation, located in the constructor.
    let f = declare(&mut m, "boom", &[], &[]);
    m.decls.funcs[f].ctor = Some(0);
    let mut b = B::new(&m, f);
    b.ins(InstData::Unreachable);
    b.finish(&mut m);
    let err = Instance::new(&m).err().unwrap();
    assert_eq!(err.to_string(), "trap in @boom block0: unreachable");
}

fn enum_decl(m: &mut Module, name: &str, tag: &str, variants: &[(&str, i128)]) -> EnumRef {
    m.declare_enum(EnumDecl {
        name: name.to_string(),
        tag: TagType::from_name(tag).unwrap(),
        variants: variants
            .iter()
            .map(|&(n, v)| EnumVariant {
                name: n.to_string(),
                value: v,
                explicit: true,
            })
            .collect(),
        loc: Loc::default(),
    })
}

#[test]
fn tag_names_and_enum_consts() {
    let mut m = Module::default();
    let dense = enum_decl(
        &mut m,
        "Color",
        "u8",
        &[("red", 0), ("green", 1), ("blue", 2)],
    );
    let sparse = enum_decl(
        &mut m,
        "Sparse",
        "u32",
        &[("a", 5), ("bb", 1000), ("ccc", 0xffff_ffff)],
    );
    let signed = enum_decl(
        &mut m,
        "S",
        "i8",
        &[("minus", -1), ("low", -128), ("zero", 0)],
    );
    let wide = enum_decl(&mut m, "W", "u64", &[("max", u64::MAX as i128), ("one", 1)]);
    let wide_s = enum_decl(&mut m, "WS", "i64", &[("neg", -5)]);
    let unused = enum_decl(&mut m, "Unused", "u16", &[("x", 3)]);

    // @name_E(v) -> the name's bytes read back as (ptr, len)
    let tag_fn = |m: &mut Module, fname: &str, e: EnumRef, ty: Type| {
        let f = declare(m, fname, &[ty], &[Ptr, Ptr]);
        let mut b = B::new(m, f);
        let v = b.params()[0];
        let r = b.ins(InstData::TagName {
            enum_ref: e,
            arg: v,
        });
        b.ret(&r);
        b.finish(m);
    };
    tag_fn(&mut m, "color", dense, I32);
    tag_fn(&mut m, "sparse", sparse, I32);
    tag_fn(&mut m, "signed", signed, I32);
    tag_fn(&mut m, "wide", wide, I64);
    tag_fn(&mut m, "wide_s", wide_s, I64);

    let consts = declare(&mut m, "consts", &[], &[I32, I32, I64, I32, I64]);
    let mut b = B::new(&m, consts);
    let c = [(dense, 2), (signed, 1), (wide, 0), (unused, 0), (wide_s, 0)]
        .map(|(enum_ref, variant)| b.ins1(InstData::EnumConst { enum_ref, variant }));
    b.ret(&c);
    b.finish(&mut m);

    let mut inst = new(&m);
    let mut name = |f: &str, v: Val| -> Result<String, String> {
        match inst.call(f, &[v]) {
            Ok(r) => match r[..] {
                [Val::I32(p), Val::I32(l)] => {
                    let (p, l) = (p as usize, l as usize);
                    Ok(String::from_utf8(inst.memory()[p..p + l].to_vec()).unwrap())
                }
                _ => panic!("{r:?}"),
            },
            Err(t) => Err(t.message),
        }
    };
    assert_eq!(name("color", Val::I32(0)).unwrap(), "red");
    assert_eq!(name("color", Val::I32(2)).unwrap(), "blue");
    assert_eq!(
        name("color", Val::I32(0x101)).unwrap(),
        "green",
        "only the low 8 bits count"
    );
    assert_eq!(
        name("color", Val::I32(3)).unwrap_err(),
        "invalid tag value 3 for enum %Color"
    );
    assert_eq!(name("sparse", Val::I32(1000)).unwrap(), "bb");
    assert_eq!(name("sparse", Val::I32(-1)).unwrap(), "ccc");
    assert_eq!(name("sparse", Val::I32(5)).unwrap(), "a");
    assert_eq!(
        name("sparse", Val::I32(6)).unwrap_err(),
        "invalid tag value 6 for enum %Sparse"
    );
    assert_eq!(name("signed", Val::I32(-1)).unwrap(), "minus");
    assert_eq!(name("signed", Val::I32(0xff)).unwrap(), "minus");
    assert_eq!(name("signed", Val::I32(0x80)).unwrap(), "low");
    assert_eq!(name("signed", Val::I32(0)).unwrap(), "zero");
    assert_eq!(
        name("signed", Val::I32(0xfe)).unwrap_err(),
        "invalid tag value -2 for enum %S"
    );
    assert_eq!(name("wide", Val::I64(-1)).unwrap(), "max");
    assert_eq!(name("wide", Val::I64(1)).unwrap(), "one");
    assert_eq!(
        name("wide", Val::I64(2)).unwrap_err(),
        "invalid tag value 2 for enum %W"
    );
    assert_eq!(name("wide_s", Val::I64(-5)).unwrap(), "neg");
    assert_eq!(
        name("wide_s", Val::I64(5)).unwrap_err(),
        "invalid tag value 5 for enum %WS"
    );
    assert_eq!(
        inst.call("consts", &[]),
        Ok(vec![
            Val::I32(2),
            Val::I32(0xff_ff_ff_80u32 as i32),
            Val::I64(-1),
            Val::I32(3),
            Val::I64(-5)
        ])
    );
    // Names live after the data: below __data_end, and the unused enum has no table.
    let t = inst.call("color", &[Val::I32(0)]).unwrap();
    assert_eq!(t, vec![Val::I32(65536), Val::I32(3)]);
}

#[test]
fn extern_calls_and_missing_bodies_trap() {
    let mut m = Module::default();
    let ext = declare_extern(&mut m, "puts", &[Ptr], &[I32]);
    let f = declare(&mut m, "f", &[], &[I32]);
    let mut b = B::new(&m, f);
    let z = b.iconst(Ptr, 0);
    let r = b.call(ext, &[z])[0];
    b.ret(&[r]);
    b.finish(&mut m);
    declare(&mut m, "empty", &[], &[]);
    let t = call(&m, "f", &[]).unwrap_err();
    assert_eq!(
        t.to_string(),
        "trap in @f block0: call to extern function @puts, which the interpreter cannot run"
    );
    let t = call(&m, "puts", &[Val::I32(0)]).unwrap_err();
    assert_eq!(
        t.to_string(),
        "trap in @puts: call to extern function @puts, which the interpreter cannot run"
    );
    assert_eq!(
        trap_msg(call(&m, "empty", &[])),
        "function @empty has no body"
    );
}

#[test]
fn malformed_bodies_trap_instead_of_panicking() {
    let mut m = Module::default();
    // A block without a terminator, a use of an undefined value, a result-less const.
    let f = declare(&mut m, "noterm", &[], &[]);
    let mut b = B::new(&m, f);
    b.iconst(I32, 1);
    b.finish(&mut m);
    let g = declare(&mut m, "badval", &[], &[I32]);
    let mut b = B::new(&m, g);
    b.ret(&[Value::new(99)]);
    b.finish(&mut m);
    let h = declare(&mut m, "nores", &[], &[]);
    let mut b = B::new(&m, h);
    let inst = b.func.dfg.make_inst(InstData::Const { ty: I32, bits: 0 });
    b.func.dfg.blocks[b.cur].insts.push(inst);
    b.ret(&[]);
    b.finish(&mut m);
    let k = declare(&mut m, "badret", &[], &[I32]);
    let mut b = B::new(&m, k);
    b.ret(&[]);
    b.finish(&mut m);
    let mut inst = new(&m);
    assert_eq!(
        trap_msg(inst.call("noterm", &[])),
        "block ends without a terminator"
    );
    assert_eq!(
        trap_msg(inst.call("badval", &[])),
        "reference to a value outside the function"
    );
    assert_eq!(
        trap_msg(inst.call("nores", &[])),
        "instruction has fewer result values than it produces"
    );
    assert_eq!(
        trap_msg(inst.call("badret", &[])),
        "@badret returned 0 values, its signature has 1"
    );
}

#[test]
fn multi_result_calls_and_float_memory() {
    let mut m = Module::default();
    // @divmod(a, b) -> (a / b, a % b), unsigned
    let divmod = declare(&mut m, "divmod", &[I32, I32], &[I32, I32]);
    let mut b = B::new(&m, divmod);
    let p = b.params();
    let q = b.bin(BinaryOp::DivU, I32, p[0], p[1]);
    let r = b.bin(BinaryOp::RemU, I32, p[0], p[1]);
    b.ret(&[q, r]);
    b.finish(&mut m);
    // @use(a, b) -> q * 1000 + r, and an f32 stored and loaded as f64 after promotion.
    let user = declare(&mut m, "use", &[I32, I32, F32], &[I32, F64]);
    let mut b = B::new(&m, user);
    let p = b.params();
    let qr = b.call(divmod, &[p[0], p[1]]);
    let k = b.iconst(I32, 1000);
    let qk = b.bin(BinaryOp::Mul, I32, qr[0], k);
    let s = b.bin(BinaryOp::Add, I32, qk, qr[1]);
    let addr = b.iconst(Ptr, 512);
    b.store(F32, StoreWidth::Full, addr, p[2], 0);
    let back = b.load(F32, LoadKind::Full, addr, 0);
    let wide = b.ins1(InstData::Convert {
        op: ConvertOp::F64PromoteF32,
        arg: back,
    });
    b.store(F64, StoreWidth::Full, addr, wide, 8);
    let w = b.load(F64, LoadKind::Full, addr, 8);
    b.ret(&[s, w]);
    b.finish(&mut m);
    let r = call(&m, "use", &[Val::I32(47), Val::I32(5), Val::F32(-1.25)]);
    assert_eq!(r, Ok(vec![Val::I32(9002), Val::F64(-1.25)]));
    let t = call(&m, "use", &[Val::I32(47), Val::I32(0), Val::F32(0.0)]).unwrap_err();
    assert_eq!(
        t.to_string(),
        "trap in @divmod block0: integer divide by zero"
    );
}
