//! Tests of the function builder: block parameter shapes, structural validity and execution
//! through a small evaluator of the instructions these tests use.

use super::*;
use crate::interp::{Instance, Val};
use crate::ir::{FuncDecl, Linkage};

fn declare(m: &mut Module, name: &str, params: &[Type], results: &[Type]) -> FuncRef {
    m.declare_func(FuncDecl {
        name: name.into(),
        sig: Signature {
            params: params.to_vec(),
            results: results.to_vec(),
        },
        linkage: Linkage::Export,
        ctor: None,
        loc: Loc::default(),
    })
}

/// Structural checks: every layout block ends with its only terminator, every operand is
/// defined by a parameter or a placed instruction, branch arguments match the target's
/// parameters in number and type, and the entry's parameters are the signature's.
fn check(m: &Module, f: FuncRef) {
    let func = &m.bodies[f];
    let dfg = &func.dfg;
    let mut placed = SecondaryMap::<Inst, bool>::new();
    let mut in_layout = SecondaryMap::<Block, bool>::new();
    for &b in &func.layout {
        in_layout[b] = true;
        for &i in &dfg.blocks[b].insts {
            placed[i] = true;
        }
    }
    let entry = func.entry().expect("entry");
    let sig: Vec<Type> = dfg
        .block_params(entry)
        .iter()
        .map(|&v| dfg.value_type(v))
        .collect();
    assert_eq!(sig, m.decls.funcs[f].sig.params);
    for &b in &func.layout {
        for (n, &p) in dfg.block_params(b).iter().enumerate() {
            assert_eq!(dfg.values[p].def, ValueDef::Param(b, n as u32));
        }
        let insts = &dfg.blocks[b].insts;
        assert!(!insts.is_empty(), "{b} is empty");
        for (k, &i) in insts.iter().enumerate() {
            assert_eq!(
                dfg.insts[i].is_terminator(),
                k + 1 == insts.len(),
                "{b}: {i}"
            );
            dfg.for_each_arg(i, |v| match dfg.values[v].def {
                ValueDef::Param(pb, _) => assert!(in_layout[pb], "{v} of {pb}"),
                ValueDef::Result(pi, _) => assert!(placed[pi], "{v} from unplaced {pi}"),
                ValueDef::None => panic!("{i} in {b} uses undefined {v}"),
            });
            dfg.for_each_dest(i, |d| {
                let args = dfg.list(d.args);
                let params = dfg.block_params(d.block);
                assert_eq!(args.len(), params.len(), "{i} to {}", d.block);
                for (&a, &p) in args.iter().zip(params) {
                    assert!(dfg.value_type(a).same_as(dfg.value_type(p)));
                }
            });
        }
    }
}

/// Verifies the module, then runs `f` in the interpreter on bit patterns (32-bit types in
/// the low bits) and returns the results as bit patterns.
fn eval(m: &Module, f: FuncRef, args: &[u64]) -> Vec<u64> {
    if let Err(e) = crate::verify::verify(m) {
        panic!("verify: {e}\n{}", crate::ir::print(m));
    }
    let sig = &m.decls.funcs[f].sig;
    let args: Vec<Val> = sig
        .params
        .iter()
        .zip(args)
        .map(|(ty, &bits)| match ty.canonical() {
            Type::I64 => Val::I64(bits as i64),
            Type::F32 => Val::F32(f32::from_bits(bits as u32)),
            Type::F64 => Val::F64(f64::from_bits(bits)),
            _ => Val::I32(bits as u32 as i32),
        })
        .collect();
    let mut instance = Instance::new(m).expect("instance");
    let results = instance.call_func(f, &args).expect("no trap");
    results
        .into_iter()
        .map(|v| match v {
            Val::I32(x) => u64::from(x as u32),
            Val::I64(x) => x as u64,
            Val::F32(x) => u64::from(x.to_bits()),
            Val::F64(x) => x.to_bits(),
        })
        .collect()
}

fn nparams(m: &Module, f: FuncRef, b: Block) -> usize {
    m.bodies[f].dfg.block_params(b).len()
}

/// Builds `sum(n) = 0 + 1 + ... + (n - 1)` with a counting loop; `seal_early` seals each
/// block as soon as its predecessors are known, otherwise everything is sealed at finalize.
fn build_sum(seal_early: bool) -> (Module, FuncRef, [Block; 4]) {
    let mut m = Module::default();
    let f = declare(&mut m, "sum", &[Type::I32], &[Type::I32]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let (n, i, sum) = (
        b.declare_var(Type::I32),
        b.declare_var(Type::I32),
        b.declare_var(Type::I32),
    );
    let entry = b.entry_block_with_params();
    let (header, body, exit) = (b.create_block(), b.create_block(), b.create_block());
    let p = b.block_params(entry)[0];
    b.def_var(n, p);
    let zero = b.iconst(Type::I32, 0);
    b.def_var(i, zero);
    b.def_var(sum, zero);
    b.jump(header, &[]);
    if seal_early {
        b.seal_block(entry);
    }
    b.switch_to_block(header);
    let (iv, nv) = (b.use_var(i), b.use_var(n));
    let c = b.binary(BinaryOp::LtS, Type::I32, iv, nv);
    b.br_if(c, body, &[], exit, &[]);
    b.switch_to_block(body);
    if seal_early {
        b.seal_block(body);
    }
    let (iv, sv) = (b.use_var(i), b.use_var(sum));
    let s2 = b.binary(BinaryOp::Add, Type::I32, sv, iv);
    b.def_var(sum, s2);
    let one = b.iconst(Type::I32, 1);
    let i2 = b.binary(BinaryOp::Add, Type::I32, iv, one);
    b.def_var(i, i2);
    b.jump(header, &[]);
    b.switch_to_block(exit);
    if seal_early {
        b.seal_block(header);
        b.seal_block(exit);
    }
    let sv = b.use_var(sum);
    b.ret(&[sv]);
    b.finalize().expect("no errors");
    (m, f, [entry, header, body, exit])
}

#[test]
fn counting_loop_has_one_param_per_carried_variable() {
    for seal_early in [true, false] {
        let (m, f, [entry, header, body, exit]) = build_sum(seal_early);
        check(&m, f);
        assert_eq!(nparams(&m, f, entry), 1);
        assert_eq!(nparams(&m, f, header), 2, "i and sum, not n");
        assert_eq!(nparams(&m, f, body), 0);
        assert_eq!(nparams(&m, f, exit), 0);
        assert_eq!(eval(&m, f, &[10]), [45]);
        assert_eq!(eval(&m, f, &[0]), [0]);
    }
}

#[test]
fn straight_line_code_gets_no_params() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[Type::I64], &[Type::I64]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let x = b.declare_var(Type::I64);
    let entry = b.entry_block_with_params();
    let p = b.block_params(entry)[0];
    b.def_var(x, p);
    let mut blocks = vec![entry];
    for k in 0..5 {
        let next = b.create_block();
        b.jump(next, &[]);
        b.switch_to_block(next);
        blocks.push(next);
        let v = b.use_var(x);
        let c = b.iconst(Type::I64, k);
        let v2 = b.binary(BinaryOp::Add, Type::I64, v, c);
        b.def_var(x, v2);
    }
    let v = b.use_var(x);
    b.ret(&[v]);
    b.finalize().expect("no errors");
    check(&m, f);
    for &blk in &blocks[1..] {
        assert_eq!(nparams(&m, f, blk), 0);
    }
    assert_eq!(eval(&m, f, &[100]), [110]);
}

/// `if c { x = a } else { [x = b] }; return x`, with and without the else assignment.
#[test]
fn diamonds() {
    for (assign_else, assign_then, want_params) in
        [(true, true, 1), (false, true, 1), (false, false, 0)]
    {
        let mut m = Module::default();
        let f = declare(&mut m, "f", &[Type::I32], &[Type::I32]);
        let mut b = FunctionBuilder::new(&mut m, f);
        let x = b.declare_var(Type::I32);
        let entry = b.entry_block_with_params();
        let c = b.block_params(entry)[0];
        let seven = b.iconst(Type::I32, 7);
        b.def_var(x, seven);
        let (then_b, else_b, merge) = (b.create_block(), b.create_block(), b.create_block());
        b.br_if(c, then_b, &[], else_b, &[]);
        b.seal_block(then_b);
        b.seal_block(else_b);
        b.switch_to_block(then_b);
        if assign_then {
            let v = b.iconst(Type::I32, 1);
            b.def_var(x, v);
        }
        b.jump(merge, &[]);
        b.switch_to_block(else_b);
        if assign_else {
            let v = b.iconst(Type::I32, 2);
            b.def_var(x, v);
        }
        b.jump(merge, &[]);
        b.switch_to_block(merge);
        b.seal_block(merge);
        let v = b.use_var(x);
        b.ret(&[v]);
        b.finalize().expect("no errors");
        check(&m, f);
        assert_eq!(nparams(&m, f, merge), want_params);
        let then_val = if assign_then { 1 } else { 7 };
        let else_val = if assign_else { 2 } else { 7 };
        assert_eq!(eval(&m, f, &[1]), [then_val]);
        assert_eq!(eval(&m, f, &[0]), [else_val]);
    }
}

/// Nested loops: `for i in 0..n { for j in 0..n { s += i * j } }`; `n` is a variable never
/// reassigned, so the trivial parameters it would need cascade away.
#[test]
fn nested_loops() {
    for seal_early in [true, false] {
        let mut m = Module::default();
        let f = declare(&mut m, "f", &[Type::I32], &[Type::I32]);
        let mut b = FunctionBuilder::new(&mut m, f);
        let [n, i, j, s] = [0; 4].map(|_| b.declare_var(Type::I32));
        let entry = b.entry_block_with_params();
        let p = b.block_params(entry)[0];
        b.def_var(n, p);
        let zero = b.iconst(Type::I32, 0);
        let one = b.iconst(Type::I32, 1);
        b.def_var(i, zero);
        b.def_var(s, zero);
        let [oh, ob, ih, ib, il, oexit] = [0; 6].map(|_| b.create_block());
        b.jump(oh, &[]);
        b.switch_to_block(oh);
        let (iv, nv) = (b.use_var(i), b.use_var(n));
        let c = b.binary(BinaryOp::LtS, Type::I32, iv, nv);
        b.br_if(c, ob, &[], oexit, &[]);
        b.switch_to_block(ob);
        if seal_early {
            b.seal_block(ob);
        }
        b.def_var(j, zero);
        b.jump(ih, &[]);
        b.switch_to_block(ih);
        let (jv, nv) = (b.use_var(j), b.use_var(n));
        let c = b.binary(BinaryOp::LtS, Type::I32, jv, nv);
        b.br_if(c, ib, &[], il, &[]);
        b.switch_to_block(ib);
        if seal_early {
            b.seal_block(ib);
        }
        let (iv, jv, sv) = (b.use_var(i), b.use_var(j), b.use_var(s));
        let prod = b.binary(BinaryOp::Mul, Type::I32, iv, jv);
        let s2 = b.binary(BinaryOp::Add, Type::I32, sv, prod);
        b.def_var(s, s2);
        let j2 = b.binary(BinaryOp::Add, Type::I32, jv, one);
        b.def_var(j, j2);
        b.jump(ih, &[]);
        if seal_early {
            b.seal_block(ih);
        }
        b.switch_to_block(il);
        if seal_early {
            b.seal_block(il);
        }
        let iv = b.use_var(i);
        let i2 = b.binary(BinaryOp::Add, Type::I32, iv, one);
        b.def_var(i, i2);
        b.jump(oh, &[]);
        if seal_early {
            b.seal_block(oh);
        }
        b.switch_to_block(oexit);
        let sv = b.use_var(s);
        b.ret(&[sv]);
        b.finalize().expect("no errors");
        check(&m, f);
        assert_eq!(nparams(&m, f, oh), 2, "i and s");
        assert_eq!(nparams(&m, f, ih), 2, "j and s");
        for blk in [ob, ib, il, oexit] {
            assert_eq!(nparams(&m, f, blk), 0);
        }
        // sum over i, j < 4 of i * j = (0 + 1 + 2 + 3)^2
        assert_eq!(eval(&m, f, &[4]), [36]);
    }
}

/// Irreducible control flow: two blocks that jump to each other, both entered from the
/// entry. `x` counts steps; `a` is entered first when the argument is non-zero.
#[test]
fn irreducible_loop() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[Type::I32], &[Type::I32]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let (x, unused) = (b.declare_var(Type::I32), b.declare_var(Type::I32));
    let entry = b.entry_block_with_params();
    let c = b.block_params(entry)[0];
    let zero = b.iconst(Type::I32, 0);
    let one = b.iconst(Type::I32, 1);
    let ten = b.iconst(Type::I32, 10);
    b.def_var(x, zero);
    b.def_var(unused, ten);
    let (a, bb, exit) = (b.create_block(), b.create_block(), b.create_block());
    b.br_if(c, a, &[], bb, &[]);
    b.switch_to_block(a);
    let v = b.use_var(x);
    let v2 = b.binary(BinaryOp::Add, Type::I32, v, one);
    b.def_var(x, v2);
    b.jump(bb, &[]);
    b.switch_to_block(bb);
    let v = b.use_var(x);
    let two = b.iconst(Type::I32, 2);
    let v2 = b.binary(BinaryOp::Mul, Type::I32, v, two);
    b.def_var(x, v2);
    let big = b.binary(BinaryOp::GtS, Type::I32, v2, ten);
    b.br_if(big, exit, &[], a, &[]);
    b.switch_to_block(exit);
    let (v, u) = (b.use_var(x), b.use_var(unused));
    let r = b.binary(BinaryOp::Add, Type::I32, v, u);
    b.ret(&[r]);
    b.finalize().expect("no errors");
    check(&m, f);
    // `x` needs a parameter in both blocks; `unused` makes a redundant cycle of parameters
    // (a: {v, b's}, b: {v, a's}) that trivial-parameter removal cannot see, as in
    // cranelift-frontend: it costs arguments, not correctness.
    assert!((1..=2).contains(&nparams(&m, f, a)));
    assert!((1..=2).contains(&nparams(&m, f, bb)));
    assert_eq!(nparams(&m, f, exit), 0);
    // c != 0: a(0) -> 1 -> b: 2 -> a: 3 -> b: 6 -> a: 7 -> b: 14 > 10
    assert_eq!(eval(&m, f, &[1]), [24]);
    // c == 0: b(0): 0 -> a: 1 -> b: 2 -> a: 3 -> b: 6 -> a: 7 -> b: 14
    assert_eq!(eval(&m, f, &[0]), [24]);
}

/// `br_table` naming one block several times, and `br_if` with both arms to one block:
/// every `BlockCall` gets its argument.
#[test]
fn shared_targets() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[Type::I32], &[Type::I32]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let x = b.declare_var(Type::I32);
    let entry = b.entry_block_with_params();
    let idx = b.block_params(entry)[0];
    let ten = b.iconst(Type::I32, 10);
    let always = b.iconst(Type::I32, 1);
    b.def_var(x, ten);
    let (ta, tb, tc, join) = (
        b.create_block(),
        b.create_block(),
        b.create_block(),
        b.create_block(),
    );
    b.br_table(
        idx,
        &[(ta, &[]), (tb, &[]), (ta, &[]), (tc, &[])],
        (tb, &[]),
    );
    b.switch_to_block(tb);
    let v = b.iconst(Type::I32, 20);
    b.def_var(x, v);
    b.jump(ta, &[]);
    b.switch_to_block(tc);
    let v = b.iconst(Type::I32, 30);
    b.def_var(x, v);
    b.br_if(always, ta, &[], ta, &[]);
    b.switch_to_block(ta);
    let v = b.use_var(x);
    let v2 = b.binary(BinaryOp::Add, Type::I32, v, always);
    b.def_var(x, v2);
    // A join where both arms carry the same value: the parameter is trivial.
    b.br_if(idx, join, &[], join, &[]);
    b.switch_to_block(join);
    let v = b.use_var(x);
    b.ret(&[v]);
    b.finalize().expect("no errors");
    check(&m, f);
    assert_eq!(nparams(&m, f, ta), 1);
    assert_eq!(nparams(&m, f, join), 0);
    for (arg, want) in [(0, 10), (1, 20), (2, 10), (3, 30), (4, 20), (99, 20)] {
        assert_eq!(eval(&m, f, &[arg]), [want + 1], "index {arg}");
    }
}

/// One loop-carried variable of each type: the header gets one parameter of each type.
#[test]
fn variables_of_each_type() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[Type::I32], &Type::ALL);
    let mut b = FunctionBuilder::new(&mut m, f);
    let vars = Type::ALL.map(|ty| b.declare_var(ty));
    let count = b.declare_var(Type::I32);
    let entry = b.entry_block_with_params();
    let n = b.block_params(entry)[0];
    b.def_var(count, n);
    let inits = [
        b.iconst(Type::I32, 1),
        b.iconst(Type::I64, 1),
        b.f32const(1.0),
        b.f64const(1.0),
        b.iconst(Type::Ptr, 1),
    ];
    for (&v, init) in vars.iter().zip(inits) {
        b.def_var(v, init);
    }
    let (header, body, exit) = (b.create_block(), b.create_block(), b.create_block());
    b.jump(header, &[]);
    b.switch_to_block(header);
    let c = b.use_var(count);
    b.br_if(c, body, &[], exit, &[]);
    b.switch_to_block(body);
    for (&var, ty) in vars.iter().zip(Type::ALL) {
        let v = b.use_var(var);
        let doubled = b.binary(BinaryOp::Add, ty, v, v);
        b.def_var(var, doubled);
    }
    let c = b.use_var(count);
    let one = b.iconst(Type::I32, 1);
    let c2 = b.binary(BinaryOp::Sub, Type::I32, c, one);
    b.def_var(count, c2);
    b.jump(header, &[]);
    b.switch_to_block(exit);
    let results: Vec<Value> = vars.iter().map(|&v| b.use_var(v)).collect();
    b.ret(&results);
    b.finalize().expect("no errors");
    check(&m, f);
    let dfg = &m.bodies[f].dfg;
    let mut types: Vec<Type> = dfg
        .block_params(header)
        .iter()
        .map(|&v| dfg.value_type(v))
        .collect();
    types.sort_by_key(|t| t.name());
    let mut want = Type::ALL.to_vec();
    want.push(Type::I32);
    want.sort_by_key(|t| t.name());
    assert_eq!(types, want);
    assert_eq!(
        eval(&m, f, &[3]),
        [8, 8, u64::from(8f32.to_bits()), 8f64.to_bits(), 8]
    );
}

/// A variable never defined reads as zero, in straight-line code and around a loop.
#[test]
fn undefined_variable_reads_zero() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[Type::I32], &[Type::I64, Type::F64]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let (x, y) = (b.declare_var(Type::I64), b.declare_var(Type::F64));
    let entry = b.entry_block_with_params();
    let n = b.block_params(entry)[0];
    let (header, body, exit) = (b.create_block(), b.create_block(), b.create_block());
    b.jump(header, &[]);
    b.switch_to_block(header);
    let c = b.use_var(x);
    let ni = b.convert(ConvertOp::I64ExtendI32U, n);
    let more = b.binary(BinaryOp::LtS, Type::I64, c, ni);
    b.br_if(more, body, &[], exit, &[]);
    b.switch_to_block(body);
    let c = b.use_var(x);
    let one = b.iconst(Type::I64, 1);
    let c2 = b.binary(BinaryOp::Add, Type::I64, c, one);
    b.def_var(x, c2);
    b.jump(header, &[]);
    b.switch_to_block(exit);
    let (xv, yv) = (b.use_var(x), b.use_var(y));
    b.ret(&[xv, yv]);
    b.finalize().expect("no errors");
    check(&m, f);
    // The entry keeps only the signature's parameter; zero constants start it.
    assert_eq!(nparams(&m, f, entry), 1);
    assert_eq!(nparams(&m, f, header), 1);
    let func = &m.bodies[f];
    let first = func.dfg.blocks[entry].insts[0];
    assert!(matches!(
        func.dfg.insts[first],
        InstData::Const { bits: 0, .. }
    ));
}

#[test]
fn undefined_variable_in_entry_only() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[], &[Type::F32]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let x = b.declare_var(Type::F32);
    b.entry_block_with_params();
    let v = b.use_var(x);
    b.ret(&[v]);
    b.finalize().expect("no errors");
    check(&m, f);
    assert_eq!(eval(&m, f, &[]), [0]);
}

#[test]
fn unreachable_cycle_does_not_hang() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[], &[Type::I32]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let x = b.declare_var(Type::I32);
    b.entry_block_with_params();
    let five = b.iconst(Type::I32, 5);
    b.def_var(x, five);
    let v = b.use_var(x);
    b.ret(&[v]);
    // Two blocks that only reach each other.
    let (p, q) = (b.create_block(), b.create_block());
    b.switch_to_block(p);
    b.jump(q, &[]);
    b.switch_to_block(q);
    let v = b.use_var(x);
    b.def_var(x, v);
    b.jump(p, &[]);
    b.seal_block(p);
    b.seal_block(q);
    let v2 = b.use_var(x);
    assert_eq!(b.func().dfg.value_type(v2), Type::I32);
    b.finalize().expect("no errors");
    check(&m, f);
    assert_eq!(eval(&m, f, &[]), [5]);
}

#[test]
fn other_instructions_get_their_results() {
    let mut m = Module::default();
    let callee = declare(&mut m, "pair", &[Type::I32], &[Type::I32, Type::I64]);
    m.decls.funcs[callee].linkage = Linkage::Extern(None);
    let f = declare(&mut m, "f", &[Type::Ptr], &[]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let entry = b.entry_block_with_params();
    let addr = b.block_params(entry)[0];
    let slot = b.create_stack_slot(16, 8);
    let sa = b.stack_addr(slot, 4);
    let l = b.load(Type::I64, LoadKind::S8, addr, MemArg::default());
    b.store(
        StoreWidth::W32,
        sa,
        l,
        MemArg {
            offset: 4,
            align: 0,
        },
    );
    let size = b.memory_size();
    let _ = b.memory_grow(size);
    b.memory_copy(addr, sa, size);
    let byte = b.iconst(Type::I32, 0);
    b.memory_fill(addr, byte, size);
    let r = b.call(callee, &[byte]).to_vec();
    assert_eq!(r.len(), 2);
    let fp = b.func_addr(callee);
    let sig = Signature {
        params: vec![Type::I32],
        results: vec![Type::F64],
    };
    let ri = b.call_indirect(sig.clone(), fp, &[byte]).to_vec();
    let ri2 = b.call_indirect(sig, fp, &[byte]).to_vec();
    assert_eq!(b.func().dfg.sigs.len(), 1, "interned");
    assert_eq!((ri.len(), ri2.len()), (1, 1));
    let d = b
        .intrinsic(Intrinsic::I128Mul, &[r[1], r[1], r[1], r[1]])
        .to_vec();
    assert_eq!(d.len(), 2);
    let conv = b.convert(ConvertOp::I32WrapI64, d[0]);
    let sel = b.select(conv, conv, byte);
    let _ = b.unary(UnaryOp::Popcnt, Type::I32, sel);
    b.ret(&[]);
    b.finalize().expect("no errors");
    check(&m, f);
    crate::verify::verify(&m).expect("verifies");
    let dfg = &m.bodies[f].dfg;
    assert_eq!(dfg.value_type(sa), Type::Ptr);
    assert_eq!(dfg.value_type(l), Type::I64);
    assert_eq!(dfg.value_type(ri[0]), Type::F64);
}

#[test]
fn misuse_is_recorded_not_fatal() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[], &[Type::I32]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let stray = b.iconst(Type::I32, 1); // no current block
    let x = b.declare_var(Type::I32);
    let entry = b.entry_block_with_params();
    b.def_var(x, stray);
    let wrong = b.iconst(Type::I64, 2);
    b.def_var(x, wrong); // type mismatch
    b.def_var(Variable::new(99), wrong); // undeclared
    let u = b.use_var(Variable::new(42));
    assert_eq!(b.func().dfg.values[u].def, ValueDef::None);
    let next = b.create_block();
    b.seal_block(next);
    b.jump(next, &[]); // branch to a sealed block
    b.iconst(Type::I32, 3); // after the terminator
    b.switch_to_block(entry);
    b.iconst(Type::I32, 3); // still after the terminator
    b.jump(Block::new(1000), &[]); // missing block
    let other = b.create_block();
    b.switch_to_block(other);
    b.jump(entry, &[]); // the entry block
    b.switch_to_block(Block::new(1000));
    b.seal_block(Block::new(1000));
    let dangling = b.create_block();
    b.switch_to_block(dangling); // in the layout, never terminated
    let errors = b.finalize().expect_err("misuse reported");
    assert!(errors.0.len() >= 10, "{errors}");
    assert!(errors.to_string().contains("branch to the entry block"));
    assert!(errors.to_string().contains("after the terminator"));
    assert!(errors.to_string().contains("has no terminator"));
}

#[test]
fn undeclared_function_is_an_error() {
    let mut m = Module::default();
    let mut b = FunctionBuilder::new(&mut m, FuncRef::new(7));
    b.entry_block_with_params();
    b.ret(&[]);
    assert!(b.finalize().is_err());
    assert!(
        m.bodies
            .get(FuncRef::new(7))
            .is_none_or(|f| f.layout.is_empty())
    );
}

fn with_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}

/// A chain of 100,000 blocks, each reading and updating a variable; nothing is sealed
/// before `finalize`, so every block first gets a placeholder parameter.
#[test]
fn long_chain_on_small_stack() {
    with_small_stack(|| {
        const N: i64 = 100_000;
        let mut m = Module::default();
        let f = declare(&mut m, "f", &[Type::I32], &[Type::I32]);
        let mut b = FunctionBuilder::new(&mut m, f);
        let (x, y) = (b.declare_var(Type::I32), b.declare_var(Type::I32));
        let entry = b.entry_block_with_params();
        let p = b.block_params(entry)[0];
        b.def_var(x, p);
        b.def_var(y, p);
        let one = b.iconst(Type::I32, 1);
        for _ in 0..N {
            let next = b.create_block();
            b.jump(next, &[]);
            b.switch_to_block(next);
            let v = b.use_var(x);
            let v2 = b.binary(BinaryOp::Add, Type::I32, v, one);
            b.def_var(x, v2);
        }
        // `y` is read only at the end: the lookup walks the whole chain.
        let (xv, yv) = (b.use_var(x), b.use_var(y));
        let r = b.binary(BinaryOp::Sub, Type::I32, xv, yv);
        b.ret(&[r]);
        b.finalize().expect("no errors");
        check(&m, f);
        let func = &m.bodies[f];
        assert_eq!(func.layout.len() as i64, N + 1);
        assert!(func.layout[1..].iter().all(|&b| nparams(&m, f, b) == 0));
        assert_eq!(eval(&m, f, &[5]), [N as u64]);
    });
}

/// A loop nest 10,000 deep, all loops driven by one counter `c`: loop `k` runs while
/// `c <= k`, and the innermost body increments `c`, so the nest returns the depth. A variable
/// that no loop changes is read in the innermost body. Blocks are sealed as a frontend would:
/// bodies and exits when switched to, headers after their back edge.
///
/// (A variable per loop, read at its header, would make every inner header look it up along
/// the back edges: Braun-style construction creates trivial parameters there and removes
/// them, which is quadratic in the depth; cranelift-frontend behaves the same.)
#[test]
fn deep_loop_nest_on_small_stack() {
    with_small_stack(|| {
        const DEPTH: usize = 10_000;
        let mut m = Module::default();
        let f = declare(&mut m, "f", &[Type::I32], &[Type::I32]);
        let mut b = FunctionBuilder::new(&mut m, f);
        let (c, fixed) = (b.declare_var(Type::I32), b.declare_var(Type::I32));
        let entry = b.entry_block_with_params();
        let p = b.block_params(entry)[0];
        let zero = b.iconst(Type::I32, 0);
        b.def_var(c, zero);
        b.def_var(fixed, p);
        let mut headers = Vec::new();
        let mut exits = Vec::new();
        for k in 0..DEPTH {
            let (header, body, exit) = (b.create_block(), b.create_block(), b.create_block());
            b.jump(header, &[]);
            b.switch_to_block(header);
            let cv = b.use_var(c);
            let kv = b.iconst(Type::I32, k as i64 + 1);
            let more = b.binary(BinaryOp::LtS, Type::I32, cv, kv);
            b.br_if(more, body, &[], exit, &[]);
            b.switch_to_block(body);
            b.seal_block(body);
            headers.push(header);
            exits.push(exit);
        }
        let cv = b.use_var(c);
        let fv = b.use_var(fixed);
        let one = b.binary(BinaryOp::Sub, Type::I32, fv, fv);
        let one = b.binary(BinaryOp::Eq, Type::I32, one, zero);
        let c2 = b.binary(BinaryOp::Add, Type::I32, cv, one);
        b.def_var(c, c2);
        for (&header, &exit) in headers.iter().zip(&exits).rev() {
            b.jump(header, &[]);
            b.seal_block(header);
            b.switch_to_block(exit);
            b.seal_block(exit);
        }
        let cv = b.use_var(c);
        b.ret(&[cv]);
        b.finalize().expect("no errors");
        check(&m, f);
        // Each header carries the counter, never `fixed`.
        for &h in &headers {
            assert_eq!(nparams(&m, f, h), 1);
        }
        assert_eq!(eval(&m, f, &[3]), [DEPTH as u64]);
    });
}

/// A variable no loop changes, read in the innermost of a 10,000-deep loop nest: its
/// parameters at every header are trivial and cascade away.
#[test]
fn trivial_cascade_in_deep_nest() {
    with_small_stack(|| {
        const DEPTH: usize = 10_000;
        let mut m = Module::default();
        let f = declare(&mut m, "f", &[Type::I32], &[Type::I32]);
        let mut b = FunctionBuilder::new(&mut m, f);
        let x = b.declare_var(Type::I32);
        let entry = b.entry_block_with_params();
        let p = b.block_params(entry)[0];
        b.def_var(x, p);
        let mut headers = Vec::new();
        for _ in 0..DEPTH {
            let header = b.create_block();
            b.jump(header, &[]);
            b.switch_to_block(header);
            headers.push(header);
        }
        // Loop k is header_k ..= exit_(k+1); exit_k branches back to header_(k-1).
        let exits: Vec<Block> = (0..DEPTH).map(|_| b.create_block()).collect();
        let v = b.use_var(x);
        b.br_if(v, headers[DEPTH - 1], &[], exits[DEPTH - 1], &[]);
        b.seal_block(headers[DEPTH - 1]);
        for k in (1..DEPTH).rev() {
            b.switch_to_block(exits[k]);
            b.seal_block(exits[k]);
            let v = b.use_var(x);
            b.br_if(v, headers[k - 1], &[], exits[k - 1], &[]);
            b.seal_block(headers[k - 1]);
        }
        b.switch_to_block(exits[0]);
        let v = b.use_var(x);
        b.ret(&[v]);
        b.finalize().expect("no errors");
        check(&m, f);
        assert!(
            m.bodies[f].layout[1..]
                .iter()
                .all(|&h| nparams(&m, f, h) == 0)
        );
        assert_eq!(eval(&m, f, &[0]), [0]);
    });
}

/// Explicit block parameters and variables together: the builder's parameters come after
/// the frontend's, and branch arguments line up.
#[test]
fn explicit_params_and_variables() {
    let mut m = Module::default();
    let f = declare(&mut m, "f", &[Type::I32], &[Type::I32]);
    let mut b = FunctionBuilder::new(&mut m, f);
    let sum = b.declare_var(Type::I32);
    let entry = b.entry_block_with_params();
    let n = b.block_params(entry)[0];
    let zero = b.iconst(Type::I32, 0);
    let one = b.iconst(Type::I32, 1);
    b.def_var(sum, zero);
    let (header, body, exit) = (b.create_block(), b.create_block(), b.create_block());
    let i = b.append_block_param(header, Type::I32);
    let r = b.append_block_param(exit, Type::I32);
    b.jump(header, &[zero]);
    b.switch_to_block(header);
    let s = b.use_var(sum);
    let more = b.binary(BinaryOp::LtS, Type::I32, i, n);
    b.br_if(more, body, &[], exit, &[s]);
    b.switch_to_block(body);
    let s = b.use_var(sum);
    let s2 = b.binary(BinaryOp::Add, Type::I32, s, i);
    b.def_var(sum, s2);
    let i2 = b.binary(BinaryOp::Add, Type::I32, i, one);
    b.jump(header, &[i2]);
    b.switch_to_block(exit);
    let s = b.use_var(sum);
    let out = b.binary(BinaryOp::Sub, Type::I32, r, s);
    let out = b.binary(BinaryOp::Add, Type::I32, out, r);
    b.ret(&[out]);
    b.finalize().expect("no errors");
    check(&m, f);
    assert_eq!(m.bodies[f].dfg.block_params(header)[0], i);
    assert_eq!(nparams(&m, f, header), 2);
    assert_eq!(nparams(&m, f, exit), 1);
    assert_eq!(eval(&m, f, &[5]), [10]);
}
