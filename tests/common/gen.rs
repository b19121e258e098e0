//! A random generator of well-typed IR programs, deterministic from a seed.
//!
//! The output is IR text (parsed with `kiln::ir::parse`), so that a failing case can be
//! printed, saved and replayed with `kiln run`. Every generated module must verify; the
//! tests assert it, which tests the generator itself.
//!
//! Shape of a generated module:
//! - `@buf`, a writable data object of [`BUF_SIZE`] bytes that loads, stores and the memory
//!   intrinsics address through `data_addr @buf` plus a masked offset, so no access leaves
//!   it (the linker and the interpreter may place data differently; both see the same bytes);
//! - mutable globals of each type, and `@budget`, an `i32` that bounds the run time: every
//!   function entry and every loop header (any block that is the target of a backward edge in
//!   layout order) is guarded by a block that decrements it and leaves the function through an
//!   exit block once it is exhausted, so every program terminates without relying on fuel;
//! - functions `@f0 .. @fN`: random CFGs (reducible or not: random backward and cross edges
//!   make loops with side entries and state machines), random block parameters, `br_if`,
//!   `br_table`, `jump`, `return`, `unreachable`, all types, trapping and non-trapping
//!   arithmetic, loads and stores, selects, calls and indirect calls to higher-numbered
//!   functions only (no recursion), stack slots initialized before use, intrinsics;
//! - `@main`, exported: calls `@f0` and returns its results followed by a hash of `@buf`
//!   and of the globals, so wrong stores are seen as well as wrong results.
//!
//! Values whose bits depend on the implementation are kept out of results: addresses
//! (`data_addr`, `stack_addr`, `func_addr`) are only used as addresses, and a float whose bits
//! escape (reinterpretation, a store, the sign operand of `copysign`) is first replaced by 0
//! when it is NaN, since wasm leaves NaN sign and payload open.

use std::fmt::Write as _;

use kiln::interp::Val;
use kiln::ir::Type;

/// Size in bytes of the data buffer `@buf`.
pub const BUF_SIZE: u32 = 1056;
/// Mask for a random 8-byte-accessible offset inside `@buf` (with an `offset=` of at most 7).
const BUF_MASK: i32 = 1016;

/// splitmix64: small, fast, good enough for test generation.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    /// A random element.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Knobs of the generator.
#[derive(Clone, Debug)]
pub struct Config {
    /// Functions besides `@main` (at least 1).
    pub funcs: usize,
    /// Logical blocks per function: at least this...
    pub min_blocks: usize,
    /// ... and at most this.
    pub max_blocks: usize,
    /// Instructions per block: between 0 and this.
    pub max_insts: usize,
    /// Parameters per block: between 0 and this.
    pub max_params: usize,
    /// Percent chance per instruction of an operation that may trap.
    pub trap_percent: u32,
    /// Initial value of `@budget`.
    pub budget: u32,
    /// Emit `@main` (the entry with the hash); without it `@f0` is exported.
    pub main: bool,
    /// Branch targets near the branch (loops of a few blocks, forward edges that skip a few
    /// blocks), as in compiled code; otherwise any block, which makes most CFGs irreducible
    /// with many side entries.
    pub local_edges: bool,
}

impl Config {
    /// The configuration of the property test: small, varied functions.
    pub fn small(rng: &mut Rng) -> Config {
        Config {
            funcs: rng.range(1, 4),
            min_blocks: 1,
            max_blocks: rng.pick(&[2, 4, 8, 16, 30]),
            max_insts: rng.pick(&[2, 6, 12]),
            max_params: rng.pick(&[0, 2, 5]),
            trap_percent: rng.pick(&[0, 0, 1, 3]),
            budget: rng.pick(&[5, 40, 200]),
            main: true,
            local_edges: rng.chance(50),
        }
    }
}

/// A generated program.
pub struct Program {
    /// IR text.
    pub text: String,
    /// Parameter types of `@main`.
    pub params: Vec<Type>,
    /// Result types of `@main`.
    pub results: Vec<Type>,
    /// Random arguments for `@main`.
    pub args: Vec<Val>,
}

/// Generates the program of `seed` with the property test's configuration.
pub fn generate(seed: u64) -> Program {
    let mut rng = Rng::new(seed);
    let config = Config::small(&mut rng);
    generate_with(&mut rng, &config)
}

const INT_TYPES: [Type; 3] = [Type::I32, Type::I64, Type::Ptr];
const ALL_TYPES: [Type; 5] = [Type::I32, Type::I64, Type::F32, Type::F64, Type::Ptr];

fn random_type(rng: &mut Rng) -> Type {
    rng.pick(&ALL_TYPES)
}

fn random_types(rng: &mut Rng, max: usize) -> Vec<Type> {
    let n = rng.range(0, max);
    (0..n).map(|_| random_type(rng)).collect()
}

fn int_const(rng: &mut Rng, ty: Type) -> i64 {
    let v: i64 = match rng.below(6) {
        0 => rng.pick(&[0, 1, -1, 2, 7, 8, 31, 32, 63, 64]),
        1 => rng.pick(&[
            i64::MIN,
            i64::MAX,
            i32::MIN as i64,
            i32::MAX as i64,
            255,
            65535,
        ]),
        2 | 3 => rng.below(100) as i64 - 20,
        _ => rng.next_u64() as i64,
    };
    if ty.bytes() == 4 { v as i32 as i64 } else { v }
}

fn float_const(rng: &mut Rng) -> f64 {
    match rng.below(5) {
        0 => rng.pick(&[
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e30,
            -1e-30,
            2147483648.0,
            -2147483649.0,
            9.3e18,
        ]),
        1 | 2 => (rng.below(2000) as f64 - 1000.0) / 8.0,
        _ => (rng.next_u64() as i64 as f64) / (1u64 << rng.below(64)) as f64,
    }
}

/// IR text of a float constant of type `ty`.
fn float_text(x: f64, ty: Type) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if ty == Type::F32 {
        let y = x as f32;
        if y.is_infinite() {
            return if y > 0.0 { "inf" } else { "-inf" }.to_string();
        }
        format!("{y:?}")
    } else {
        format!("{x:?}")
    }
}

fn random_val(rng: &mut Rng, ty: Type) -> Val {
    match ty.canonical() {
        Type::I64 => Val::I64(int_const(rng, ty)),
        Type::F32 => Val::F32(float_const(rng) as f32),
        Type::F64 => Val::F64(float_const(rng)),
        _ => Val::I32(int_const(rng, ty) as i32),
    }
}

/// Generates a module from `config`.
pub fn generate_with(rng: &mut Rng, config: &Config) -> Program {
    let nfuncs = config.funcs.max(1);
    let sigs: Vec<(Vec<Type>, Vec<Type>)> = (0..nfuncs)
        .map(|_| (random_types(rng, 4), random_types(rng, 3)))
        .collect();
    let mut out = String::new();
    out.push_str("; generated by tests/common/gen.rs\n\n");
    out.push_str("data @buf: data align 8 = {");
    for i in 0..(BUF_SIZE / 8) {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "i64 {}", rng.next_u64() as i64);
    }
    out.push_str("}\n\n");
    let _ = writeln!(out, "global @budget: i32 mut = {}\n", config.budget);
    for (i, ty) in ALL_TYPES.iter().enumerate() {
        let init = match ty.canonical() {
            Type::F32 | Type::F64 => float_text((rng.below(100) as f64) / 4.0, *ty),
            _ => int_const(rng, *ty).to_string(),
        };
        let _ = writeln!(out, "global @g{i}: {} mut = {init}\n", ty.name());
    }
    out.push_str("extern global @__stack_pointer: ptr mut\n\n");
    for i in 0..nfuncs {
        let mut f = FuncGen::new(rng, config, i, &sigs);
        f.generate();
        f.write(&mut out);
    }
    let (params, results) = sigs[0].clone();
    if config.main {
        write_main(&mut out, &params, &results);
    }
    let args = params.iter().map(|&t| random_val(rng, t)).collect();
    let mut main_results = results;
    main_results.push(Type::I64);
    Program {
        text: out,
        params,
        results: main_results,
        args,
    }
}

/// `@main`: calls `@f0`, then hashes `@buf` and the globals.
fn write_main(out: &mut String, params: &[Type], results: &[Type]) {
    let tys = |t: &[Type]| t.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
    let mut res = tys(results);
    if !res.is_empty() {
        res.push_str(", ");
    }
    res.push_str("i64");
    let _ = writeln!(out, "func @main({}) -> {res} export {{", tys(params));
    let ps: Vec<String> = (0..params.len()).map(|i| format!("v{i}")).collect();
    let decl: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, t)| format!("v{i}: {}", t.name()))
        .collect();
    let _ = writeln!(out, "block0({}):", decl.join(", "));
    let rs: Vec<String> = (0..results.len())
        .map(|i| format!("v{}", 100 + i))
        .collect();
    if rs.is_empty() {
        let _ = writeln!(out, "    call @f0({})", ps.join(", "));
    } else {
        let _ = writeln!(out, "    {} = call @f0({})", rs.join(", "), ps.join(", "));
    }
    out.push_str("    v200 = i32.const 0\n    v201 = i64.const 0\n    jump block1(v200, v201)\n\n");
    out.push_str("block1(v202: i32, v203: i64):\n");
    out.push_str("    v204 = data_addr @buf\n    v205 = i32.add v204, v202\n");
    out.push_str("    v206 = i64.load v205\n    v207 = i64.xor v203, v206\n");
    out.push_str("    v208 = i64.const 5\n    v209 = i64.rotl v207, v208\n");
    out.push_str("    v210 = i32.const 8\n    v211 = i32.add v202, v210\n");
    let _ = writeln!(out, "    v212 = i32.const {BUF_SIZE}");
    out.push_str("    v213 = i32.lt_u v211, v212\n    br_if v213, block1(v211, v209), block2\n\n");
    out.push_str("block2:\n");
    let mut h = "v209".to_string();
    let mut n = 300;
    for (i, ty) in ALL_TYPES.iter().enumerate() {
        let _ = writeln!(out, "    v{n} = global.get @g{i}");
        let g = n;
        n += 1;
        let bits = match ty.canonical() {
            Type::I32 => format!("i64.extend_i32_u v{g}"),
            Type::I64 => format!("i64.add v{g}, v{g}"),
            Type::F32 => {
                let _ = writeln!(out, "    v{n} = f32.eq v{g}, v{g}");
                let _ = writeln!(out, "    v{} = f32.const 0", n + 1);
                let _ = writeln!(out, "    v{} = select v{n}, v{g}, v{}", n + 2, n + 1);
                let _ = writeln!(out, "    v{} = i32.reinterpret_f32 v{}", n + 3, n + 2);
                n += 4;
                format!("i64.extend_i32_u v{}", n - 1)
            }
            _ => {
                let _ = writeln!(out, "    v{n} = f64.eq v{g}, v{g}");
                let _ = writeln!(out, "    v{} = f64.const 0", n + 1);
                let _ = writeln!(out, "    v{} = select v{n}, v{g}, v{}", n + 2, n + 1);
                n += 3;
                format!("i64.reinterpret_f64 v{}", n - 1)
            }
        };
        let _ = writeln!(out, "    v{n} = {bits}");
        let _ = writeln!(out, "    v{} = i64.const 31", n + 1);
        let _ = writeln!(out, "    v{} = i64.mul {h}, v{}", n + 2, n + 1);
        let _ = writeln!(out, "    v{} = i64.xor v{}, v{n}", n + 3, n + 2);
        h = format!("v{}", n + 3);
        n += 4;
    }
    let mut rets = rs;
    rets.push(h);
    let _ = writeln!(out, "    return {}\n}}\n", rets.join(", "));
}

/// One IR block being generated.
#[derive(Default)]
struct GBlock {
    /// Parameters (value number, type).
    params: Vec<(u32, Type)>,
    /// Instruction lines, terminator last.
    lines: Vec<String>,
    /// Values usable by dominated blocks, by canonical type.
    pool: [Vec<u32>; 4],
    /// Immediate dominator.
    idom: usize,
    /// Successor blocks.
    succs: Vec<usize>,
}

fn slot(ty: Type) -> usize {
    match ty.canonical() {
        Type::I32 => 0,
        Type::I64 => 1,
        Type::F32 => 2,
        _ => 3,
    }
}

/// A terminator plan of a logical block, in logical block numbers.
enum Term {
    Jump(usize),
    BrIf(usize, usize),
    Table(Vec<usize>, usize),
    Return,
    Unreachable,
}

struct FuncGen<'a> {
    rng: &'a mut Rng,
    config: &'a Config,
    index: usize,
    sigs: &'a [(Vec<Type>, Vec<Type>)],
    blocks: Vec<GBlock>,
    next_value: u32,
    /// Stack slot sizes (all 8-aligned, multiples of 8).
    slots: Vec<u32>,
}

impl<'a> FuncGen<'a> {
    fn new(
        rng: &'a mut Rng,
        config: &'a Config,
        index: usize,
        sigs: &'a [(Vec<Type>, Vec<Type>)],
    ) -> FuncGen<'a> {
        FuncGen {
            rng,
            config,
            index,
            sigs,
            blocks: Vec::new(),
            next_value: 0,
            slots: Vec::new(),
        }
    }

    fn value(&mut self) -> u32 {
        let v = self.next_value;
        self.next_value += 1;
        v
    }

    fn generate(&mut self) {
        let lo = self.config.min_blocks.max(1);
        let n = self.rng.range(lo, self.config.max_blocks.max(lo));
        let (params, results) = self.sigs[self.index].clone();
        // Logical block types and plans.
        let ptypes: Vec<Vec<Type>> = (0..n)
            .map(|k| {
                if k == 0 {
                    params.clone()
                } else {
                    random_types(self.rng, self.config.max_params)
                }
            })
            .collect();
        let mut required: Vec<Vec<usize>> = vec![Vec::new(); n];
        for k in 1..n {
            let p = if self.rng.chance(70) {
                k - 1
            } else {
                self.rng.below(k)
            };
            required[p].push(k);
        }
        let mut plans = Vec::with_capacity(n);
        for (k, req) in required.iter().enumerate() {
            plans.push(self.plan(k, n, req));
        }
        let mut guarded = vec![false; n];
        guarded[0] = true;
        for (k, plan) in plans.iter().enumerate() {
            let mut mark = |t: usize| {
                if t <= k {
                    guarded[t] = true;
                }
            };
            match plan {
                Term::Jump(t) => mark(*t),
                Term::BrIf(a, b) => {
                    mark(*a);
                    mark(*b);
                }
                Term::Table(ts, d) => {
                    ts.iter().for_each(|&t| mark(t));
                    mark(*d);
                }
                Term::Return | Term::Unreachable => {}
            }
        }
        // IR blocks: for each logical block an optional guard, then the body; then the exit.
        let mut entry_of = vec![0; n];
        let mut body_of = vec![0; n];
        let mut count = 0;
        for k in 0..n {
            entry_of[k] = count;
            if guarded[k] {
                count += 1;
            }
            body_of[k] = count;
            count += 1;
        }
        let exit = count;
        self.blocks = (0..=exit).map(|_| GBlock::default()).collect();
        for k in 0..n {
            let e = entry_of[k];
            for &t in &ptypes[k] {
                let v = self.value();
                self.blocks[e].params.push((v, t));
            }
            if guarded[k] {
                self.blocks[e].succs = vec![exit, body_of[k]];
            }
            let succs = match &plans[k] {
                Term::Jump(t) => vec![entry_of[*t]],
                Term::BrIf(a, b) => vec![entry_of[*a], entry_of[*b]],
                Term::Table(ts, d) => ts
                    .iter()
                    .chain(std::iter::once(d))
                    .map(|&t| entry_of[t])
                    .collect(),
                Term::Return | Term::Unreachable => Vec::new(),
            };
            self.blocks[body_of[k]].succs = succs;
        }
        for &t in &results {
            let v = self.value();
            self.blocks[exit].params.push((v, t));
        }
        for b in &mut self.blocks {
            for &(v, t) in &b.params {
                b.pool[slot(t)].push(v);
            }
        }
        if self.rng.chance(40) {
            for _ in 0..self.rng.range(1, 3) {
                let size = 8 * self.rng.range(1, 4) as u32;
                self.slots.push(size);
            }
        }
        let rpo = self.dominators();
        let ret_line = {
            let vals: Vec<String> = self.blocks[exit]
                .params
                .iter()
                .map(|(v, _)| format!("v{v}"))
                .collect();
            format!("return {}", vals.join(", ")).trim_end().to_string()
        };
        self.blocks[exit].lines.push(ret_line);
        let logical_of_body: Vec<Option<usize>> = {
            let mut m = vec![None; count + 1];
            for k in 0..n {
                m[body_of[k]] = Some(k);
            }
            m
        };
        for b in rpo {
            if b == exit {
                continue;
            }
            match logical_of_body[b] {
                None => self.guard(b, exit, &results),
                Some(k) => {
                    if k == 0 {
                        self.init_slots(b);
                    }
                    let ninst = self.rng.range(0, self.config.max_insts);
                    for _ in 0..ninst {
                        self.inst(b);
                    }
                    let plan = std::mem::replace(&mut plans[k], Term::Unreachable);
                    self.terminator(b, plan, &entry_of, &results);
                }
            }
        }
    }

    /// The terminator plan of logical block `k` of `n`, which must reach `required`.
    fn plan(&mut self, k: usize, n: usize, required: &[usize]) -> Term {
        let local = self.config.local_edges;
        let target = |rng: &mut Rng| -> usize {
            if n <= 1 {
                return 0;
            }
            if local {
                // A short loop back (25%), else a short jump forward.
                return if rng.chance(25) || k + 1 > n - 1 {
                    rng.range(k.saturating_sub(4).max(1), k.max(1))
                } else {
                    rng.range(k + 1, (k + 4).min(n - 1))
                };
            }
            if rng.chance(35) {
                // Backward or self: a loop (possibly with side entries).
                rng.range(1, k.max(1))
            } else {
                rng.range(1, n - 1)
            }
        };
        if n <= 1 {
            return if self.rng.chance(5) {
                Term::Unreachable
            } else {
                Term::Return
            };
        }
        match required.len() {
            0 => match self.rng.below(20) {
                0 => Term::Unreachable,
                1..=6 => Term::Return,
                7..=10 => Term::Jump(target(self.rng)),
                11..=16 => {
                    if self.rng.chance(50) {
                        Term::BrIf(target(self.rng), target(self.rng))
                    } else {
                        Term::Return
                    }
                }
                _ => {
                    let len = self.rng.range(0, 5);
                    Term::Table(
                        (0..len).map(|_| target(self.rng)).collect(),
                        target(self.rng),
                    )
                }
            },
            1 => match self.rng.below(3) {
                0 => Term::Jump(required[0]),
                1 => {
                    if self.rng.chance(50) {
                        Term::BrIf(required[0], target(self.rng))
                    } else {
                        Term::BrIf(target(self.rng), required[0])
                    }
                }
                _ => {
                    let mut ts: Vec<usize> = (0..self.rng.range(0, 4))
                        .map(|_| target(self.rng))
                        .collect();
                    ts.insert(self.rng.below(ts.len() + 1), required[0]);
                    let d = ts.pop().unwrap_or(required[0]);
                    Term::Table(ts, d)
                }
            },
            2 if self.rng.chance(60) => Term::BrIf(required[0], required[1]),
            _ => {
                let mut ts = required.to_vec();
                for _ in 0..self.rng.range(0, 3) {
                    let t = target(self.rng);
                    ts.insert(self.rng.below(ts.len() + 1), t);
                }
                let d = ts.pop().unwrap_or(required[0]);
                Term::Table(ts, d)
            }
        }
    }

    /// Cooper-Harvey-Kennedy dominators; returns the reverse postorder.
    fn dominators(&mut self) -> Vec<usize> {
        let nb = self.blocks.len();
        let mut post = Vec::with_capacity(nb);
        let mut seen = vec![false; nb];
        let mut stack = vec![(0usize, 0usize)];
        seen[0] = true;
        while let Some(&mut (b, ref mut i)) = stack.last_mut() {
            if let Some(&s) = self.blocks[b].succs.get(*i) {
                *i += 1;
                if !seen[s] {
                    seen[s] = true;
                    stack.push((s, 0));
                }
            } else {
                post.push(b);
                stack.pop();
            }
        }
        let mut order = vec![usize::MAX; nb];
        for (i, &b) in post.iter().enumerate() {
            order[b] = i;
        }
        let mut preds = vec![Vec::new(); nb];
        for (b, blk) in self.blocks.iter().enumerate() {
            for &s in &blk.succs {
                preds[s].push(b);
            }
        }
        let rpo: Vec<usize> = post.iter().rev().copied().collect();
        let mut idom = vec![usize::MAX; nb];
        idom[0] = 0;
        let mut changed = true;
        while changed {
            changed = false;
            for &b in rpo.iter().skip(1) {
                let mut new = usize::MAX;
                for &p in &preds[b] {
                    if idom[p] == usize::MAX {
                        continue;
                    }
                    new = if new == usize::MAX {
                        p
                    } else {
                        let (mut x, mut y) = (p, new);
                        while x != y {
                            while order[x] < order[y] {
                                x = idom[x];
                            }
                            while order[y] < order[x] {
                                y = idom[y];
                            }
                        }
                        x
                    };
                }
                if idom[b] != new {
                    idom[b] = new;
                    changed = true;
                }
            }
        }
        for (b, d) in idom.into_iter().enumerate() {
            self.blocks[b].idom = d;
        }
        rpo
    }

    /// A value of `ty` usable in block `b`, or a new constant there.
    fn operand(&mut self, b: usize, ty: Type) -> String {
        let s = slot(ty);
        let mut at = b;
        // Walk up the dominator tree a random distance, then take the first block that has
        // a value of the type.
        while at != 0 && self.rng.chance(30) {
            at = self.blocks[at].idom;
        }
        loop {
            let pool = &self.blocks[at].pool[s];
            if !pool.is_empty() && self.rng.chance(85) {
                let v = pool[self.rng.below(pool.len())];
                return format!("v{v}");
            }
            if at == 0 || self.blocks[at].idom == at {
                break;
            }
            at = self.blocks[at].idom;
        }
        self.constant(b, ty)
    }

    fn constant(&mut self, b: usize, ty: Type) -> String {
        let v = self.value();
        let text = match ty.canonical() {
            Type::F32 | Type::F64 => float_text(float_const(self.rng), ty),
            _ => int_const(self.rng, ty).to_string(),
        };
        self.blocks[b]
            .lines
            .push(format!("v{v} = {}.const {text}", ty.name()));
        format!("v{v}")
    }

    /// A constant not added to any pool (for masks and counts).
    fn imm(&mut self, b: usize, ty: Type, value: i64) -> String {
        let v = self.value();
        self.blocks[b]
            .lines
            .push(format!("v{v} = {}.const {value}", ty.name()));
        format!("v{v}")
    }

    /// Emits `line` defining one new value of `ty`; adds it to the pool when `pooled`.
    fn def(&mut self, b: usize, ty: Type, rhs: String, pooled: bool) -> String {
        let v = self.value();
        self.blocks[b].lines.push(format!("v{v} = {rhs}"));
        if pooled {
            self.blocks[b].pool[slot(ty)].push(v);
        }
        format!("v{v}")
    }

    fn emit(&mut self, b: usize, line: String) {
        self.blocks[b].lines.push(line);
    }

    /// `x` if it is not NaN, else 0 (for floats whose bits escape).
    fn sanitize(&mut self, b: usize, ty: Type, x: String) -> String {
        let t = ty.name();
        let c = self.def(b, Type::I32, format!("{t}.eq {x}, {x}"), false);
        let z = self.def(b, ty, format!("{t}.const 0"), false);
        self.def(b, ty, format!("select {c}, {x}, {z}"), false)
    }

    /// An address inside `@buf`, from a random integer.
    fn buf_addr(&mut self, b: usize) -> String {
        let x = self.operand(b, Type::I32);
        let m = self.imm(b, Type::I32, i64::from(BUF_MASK));
        let off = self.def(b, Type::I32, format!("i32.and {x}, {m}"), false);
        let base = self.def(b, Type::Ptr, "data_addr @buf".to_string(), false);
        self.def(b, Type::Ptr, format!("ptr.add {base}, {off}"), false)
    }

    fn guard(&mut self, b: usize, exit: usize, results: &[Type]) {
        let g = self.def(b, Type::I32, "global.get @budget".into(), false);
        let one = self.imm(b, Type::I32, 1);
        let nb = self.def(b, Type::I32, format!("i32.sub {g}, {one}"), false);
        self.emit(b, format!("global.set @budget, {nb}"));
        let zero = self.imm(b, Type::I32, 0);
        let c = self.def(b, Type::I32, format!("i32.le_s {g}, {zero}"), false);
        let args: Vec<String> = results.iter().map(|&t| self.operand(b, t)).collect();
        let body = self.blocks[b].succs[1];
        self.emit(
            b,
            format!("br_if {c}, block{exit}({}), block{body}", args.join(", ")),
        );
    }

    fn init_slots(&mut self, b: usize) {
        for s in 0..self.slots.len() {
            for off in (0..self.slots[s]).step_by(8) {
                let a = self.def(b, Type::Ptr, format!("stack_addr ss{s} + {off}"), false);
                let x = self.operand(b, Type::I64);
                self.emit(b, format!("i64.store {a}, {x}"));
            }
        }
    }

    fn terminator(&mut self, b: usize, plan: Term, entry_of: &[usize], results: &[Type]) {
        let call = |this: &mut Self, k: usize| -> String {
            let target = entry_of[k];
            let tys: Vec<Type> = this.blocks[target].params.iter().map(|p| p.1).collect();
            let args: Vec<String> = tys.iter().map(|&t| this.operand(b, t)).collect();
            if args.is_empty() {
                format!("block{target}")
            } else {
                format!("block{target}({})", args.join(", "))
            }
        };
        let line = match plan {
            Term::Jump(t) => format!("jump {}", call(self, t)),
            Term::BrIf(x, y) => {
                let c = self.operand(b, Type::I32);
                let c = if self.rng.chance(50) {
                    let one = self.imm(b, Type::I32, 1);
                    self.def(b, Type::I32, format!("i32.and {c}, {one}"), false)
                } else {
                    c
                };
                let x = call(self, x);
                let y = call(self, y);
                format!("br_if {c}, {x}, {y}")
            }
            Term::Table(ts, d) => {
                let i = self.operand(b, Type::I32);
                let i = if self.rng.chance(70) {
                    let m = self.imm(
                        b,
                        Type::I32,
                        (ts.len() as u64 + 1).next_power_of_two() as i64 - 1,
                    );
                    self.def(b, Type::I32, format!("i32.and {i}, {m}"), false)
                } else {
                    i
                };
                let ts: Vec<String> = ts.into_iter().map(|t| call(self, t)).collect();
                let d = call(self, d);
                format!("br_table {i}, [{}], {d}", ts.join(", "))
            }
            Term::Return => {
                let vals: Vec<String> = results.iter().map(|&t| self.operand(b, t)).collect();
                format!("return {}", vals.join(", ")).trim_end().to_string()
            }
            Term::Unreachable => "unreachable".to_string(),
        };
        self.emit(b, line);
    }

    fn inst(&mut self, b: usize) {
        let trap = self.rng.chance(self.config.trap_percent);
        match self.rng.below(100) {
            0..=24 => self.int_binary(b, trap),
            25..=31 => self.int_unary(b),
            32..=39 => self.compare(b),
            40..=49 => self.float_op(b),
            50..=57 => self.convert(b, trap),
            58..=61 => {
                let ty = random_type(self.rng);
                let c = self.operand(b, Type::I32);
                let x = self.operand(b, ty);
                let y = self.operand(b, ty);
                self.def(b, ty, format!("select {c}, {x}, {y}"), true);
            }
            62..=69 => self.load(b),
            70..=76 => self.store(b),
            77..=80 => {
                let i = self.rng.below(5);
                let ty = ALL_TYPES[i];
                if self.rng.chance(50) {
                    self.def(b, ty, format!("global.get @g{i}"), true);
                } else {
                    let x = self.operand(b, ty);
                    self.emit(b, format!("global.set @g{i}, {x}"));
                }
            }
            81..=86 => self.call(b, trap),
            87..=91 => self.intrinsic(b, trap),
            92..=94 if !self.slots.is_empty() => self.slot_access(b),
            _ => {
                let ty = random_type(self.rng);
                let c = self.constant(b, ty);
                if let Some(v) = c.strip_prefix('v').and_then(|s| s.parse().ok()) {
                    self.blocks[b].pool[slot(ty)].push(v);
                }
            }
        }
    }

    fn int_binary(&mut self, b: usize, trap: bool) {
        let ty = self.rng.pick(&INT_TYPES);
        let t = ty.name();
        let x = self.operand(b, ty);
        let y = self.operand(b, ty);
        const SAFE: [&str; 13] = [
            "add", "sub", "mul", "and", "or", "xor", "shl", "shr_s", "shr_u", "rotl", "rotr",
            "add", "mul",
        ];
        const DIV: [&str; 4] = ["div_s", "div_u", "rem_s", "rem_u"];
        if self.rng.chance(15) {
            let op = self.rng.pick(&DIV);
            let y = if trap {
                y
            } else {
                // (y | 1) & MAX: odd and positive, so neither zero nor -1.
                let one = self.imm(b, ty, 1);
                let y1 = self.def(b, ty, format!("{t}.or {y}, {one}"), false);
                let max = self.imm(
                    b,
                    ty,
                    if ty.bytes() == 4 {
                        0x7fff_ffff
                    } else {
                        i64::MAX
                    },
                );
                self.def(b, ty, format!("{t}.and {y1}, {max}"), false)
            };
            self.def(b, ty, format!("{t}.{op} {x}, {y}"), true);
        } else {
            let op = self.rng.pick(&SAFE);
            self.def(b, ty, format!("{t}.{op} {x}, {y}"), true);
        }
    }

    fn int_unary(&mut self, b: usize) {
        let ty = self.rng.pick(&INT_TYPES);
        let t = ty.name();
        let x = self.operand(b, ty);
        let mut ops = vec!["clz", "ctz", "popcnt", "extend8_s", "extend16_s", "eqz"];
        if ty == Type::I64 {
            ops.push("extend32_s");
        }
        let op = self.rng.pick(&ops);
        let rty = if op == "eqz" { Type::I32 } else { ty };
        self.def(b, rty, format!("{t}.{op} {x}"), true);
    }

    fn compare(&mut self, b: usize) {
        let ty = random_type(self.rng);
        let t = ty.name();
        let op = if ty.is_int() {
            self.rng.pick(&[
                "eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u",
            ])
        } else {
            self.rng.pick(&["eq", "ne", "lt", "gt", "le", "ge"])
        };
        let x = self.operand(b, ty);
        let y = self.operand(b, ty);
        self.def(b, Type::I32, format!("{t}.{op} {x}, {y}"), true);
    }

    fn float_op(&mut self, b: usize) {
        let ty = self.rng.pick(&[Type::F32, Type::F64]);
        let t = ty.name();
        let x = self.operand(b, ty);
        if self.rng.chance(60) {
            let op = self
                .rng
                .pick(&["add", "sub", "mul", "div", "min", "max", "copysign"]);
            let y = self.operand(b, ty);
            let y = if op == "copysign" {
                self.sanitize(b, ty, y)
            } else {
                y
            };
            self.def(b, ty, format!("{t}.{op} {x}, {y}"), true);
        } else {
            let op = self
                .rng
                .pick(&["abs", "neg", "ceil", "floor", "trunc", "nearest", "sqrt"]);
            self.def(b, ty, format!("{t}.{op} {x}"), true);
        }
    }

    fn convert(&mut self, b: usize, trap: bool) {
        use Type::*;
        // (name, from, to)
        const CONVS: [(&str, Type, Type); 22] = [
            ("i32.wrap_i64", I64, I32),
            ("i64.extend_i32_s", I32, I64),
            ("i64.extend_i32_u", I32, I64),
            ("i32.trunc_sat_f32_s", F32, I32),
            ("i32.trunc_sat_f32_u", F32, I32),
            ("i32.trunc_sat_f64_s", F64, I32),
            ("i32.trunc_sat_f64_u", F64, I32),
            ("i64.trunc_sat_f32_s", F32, I64),
            ("i64.trunc_sat_f32_u", F32, I64),
            ("i64.trunc_sat_f64_s", F64, I64),
            ("i64.trunc_sat_f64_u", F64, I64),
            ("f32.convert_i32_s", I32, F32),
            ("f32.convert_i32_u", I32, F32),
            ("f32.convert_i64_s", I64, F32),
            ("f32.convert_i64_u", I64, F32),
            ("f64.convert_i32_s", I32, F64),
            ("f64.convert_i32_u", I32, F64),
            ("f64.convert_i64_s", I64, F64),
            ("f64.convert_i64_u", I64, F64),
            ("f32.demote_f64", F64, F32),
            ("f64.promote_f32", F32, F64),
            ("f32.reinterpret_i32", I32, F32),
        ];
        const MORE: [(&str, Type, Type); 4] = [
            ("f64.reinterpret_i64", I64, F64),
            ("i32.reinterpret_f32", F32, I32),
            ("i64.reinterpret_f64", F64, I64),
            ("i32.trunc_f64_s", F64, I32),
        ];
        const TRAPPING: [(&str, Type, Type); 8] = [
            ("i32.trunc_f32_s", F32, I32),
            ("i32.trunc_f32_u", F32, I32),
            ("i32.trunc_f64_s", F64, I32),
            ("i32.trunc_f64_u", F64, I32),
            ("i64.trunc_f32_s", F32, I64),
            ("i64.trunc_f32_u", F32, I64),
            ("i64.trunc_f64_s", F64, I64),
            ("i64.trunc_f64_u", F64, I64),
        ];
        let (name, from, to) = if trap {
            self.rng.pick(&TRAPPING)
        } else if self.rng.chance(15) {
            self.rng.pick(&MORE[..3])
        } else {
            self.rng.pick(&CONVS)
        };
        let x = self.operand(b, from);
        let x = if name.contains("reinterpret_f") {
            self.sanitize(b, from, x)
        } else {
            x
        };
        self.def(b, to, format!("{name} {x}"), true);
    }

    fn load(&mut self, b: usize) {
        let (ty, op) = self.rng.pick(&[
            (Type::I32, "i32.load"),
            (Type::I32, "i32.load8_s"),
            (Type::I32, "i32.load8_u"),
            (Type::I32, "i32.load16_s"),
            (Type::I32, "i32.load16_u"),
            (Type::I64, "i64.load"),
            (Type::I64, "i64.load8_s"),
            (Type::I64, "i64.load16_u"),
            (Type::I64, "i64.load32_s"),
            (Type::I64, "i64.load32_u"),
            (Type::F32, "f32.load"),
            (Type::F64, "f64.load"),
            (Type::Ptr, "ptr.load"),
        ]);
        let a = self.buf_addr(b);
        let off = self.rng.below(8);
        let suffix = if off > 0 {
            format!(" offset={off}")
        } else {
            String::new()
        };
        self.def(b, ty, format!("{op} {a}{suffix}"), true);
    }

    fn store(&mut self, b: usize) {
        let (ty, op) = self.rng.pick(&[
            (Type::I32, "i32.store"),
            (Type::I32, "i32.store8"),
            (Type::I32, "i32.store16"),
            (Type::I64, "i64.store"),
            (Type::I64, "i64.store8"),
            (Type::I64, "i64.store16"),
            (Type::I64, "i64.store32"),
            (Type::F32, "f32.store"),
            (Type::F64, "f64.store"),
            (Type::Ptr, "ptr.store"),
        ]);
        let a = self.buf_addr(b);
        let x = self.operand(b, ty);
        let x = if ty.is_float() {
            self.sanitize(b, ty, x)
        } else {
            x
        };
        let off = self.rng.below(8);
        let suffix = if off > 0 {
            format!(" offset={off}")
        } else {
            String::new()
        };
        self.emit(b, format!("{op} {a}, {x}{suffix}"));
    }

    fn slot_access(&mut self, b: usize) {
        let s = self.rng.below(self.slots.len());
        let size = self.slots[s];
        let ty = self.rng.pick(&[Type::I32, Type::I64, Type::F64]);
        let off = self.rng.below((size - ty.bytes()) as usize + 1);
        let a = self.def(b, Type::Ptr, format!("stack_addr ss{s} + {off}"), false);
        if self.rng.chance(50) {
            self.def(b, ty, format!("{}.load {a}", ty.name()), true);
        } else {
            let x = self.operand(b, ty);
            let x = if ty.is_float() {
                self.sanitize(b, ty, x)
            } else {
                x
            };
            self.emit(b, format!("{}.store {a}, {x}", ty.name()));
        }
    }

    fn call(&mut self, b: usize, trap: bool) {
        if self.index + 1 >= self.sigs.len() {
            return;
        }
        let callee = self.rng.range(self.index + 1, self.sigs.len() - 1);
        let (params, results) = self.sigs[callee].clone();
        let args: Vec<String> = params.iter().map(|&t| self.operand(b, t)).collect();
        let args = args.join(", ");
        let rhs = if self.rng.chance(30) {
            // Indirect: through the table slot; with `trap`, maybe the wrong signature.
            let other = if trap {
                self.rng.range(self.index + 1, self.sigs.len() - 1)
            } else {
                callee
            };
            let fa = self.def(b, Type::Ptr, format!("func_addr @f{other}"), false);
            let tys = |t: &[Type]| t.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
            let sig = if results.is_empty() {
                format!("({})", tys(&params))
            } else {
                format!("({}) -> {}", tys(&params), tys(&results))
            };
            format!("call_indirect {sig} {fa}({args})")
        } else {
            format!("call @f{callee}({args})")
        };
        self.results_line(b, &results, rhs);
    }

    fn results_line(&mut self, b: usize, results: &[Type], rhs: String) {
        if results.is_empty() {
            self.emit(b, rhs);
            return;
        }
        let vs: Vec<u32> = results.iter().map(|_| self.value()).collect();
        let names: Vec<String> = vs.iter().map(|v| format!("v{v}")).collect();
        self.emit(b, format!("{} = {rhs}", names.join(", ")));
        for (&v, &t) in vs.iter().zip(results) {
            self.blocks[b].pool[slot(t)].push(v);
        }
    }

    fn intrinsic(&mut self, b: usize, trap: bool) {
        use Type::*;
        match self.rng.below(6) {
            0 => {
                let name = if trap {
                    self.rng
                        .pick(&["i128.div_s", "i128.div_u", "i128.rem_s", "i128.rem_u"])
                } else {
                    self.rng
                        .pick(&["i128.mul", "i128.shl", "i128.shr_s", "i128.shr_u"])
                };
                let mut args: Vec<String> = (0..2).map(|_| self.operand(b, I64)).collect();
                if name.contains("sh") {
                    args.push(self.operand(b, I32));
                } else {
                    args.extend((0..2).map(|_| self.operand(b, I64)));
                }
                self.results_line(
                    b,
                    &[I64, I64],
                    format!("intrinsic {name}({})", args.join(", ")),
                );
            }
            1 | 2 => {
                let (name, ty, n) = self.rng.pick(&[
                    ("fmod", F64, 2),
                    ("fmodf", F32, 2),
                    ("pow", F64, 2),
                    ("sqrt_like_round", F64, 1),
                    ("roundf", F32, 1),
                    ("fma", F64, 3),
                    ("fmaf", F32, 3),
                    ("atan2", F64, 2),
                ]);
                let name = if name == "sqrt_like_round" {
                    "round"
                } else {
                    name
                };
                let args: Vec<String> = (0..n).map(|_| self.operand(b, ty)).collect();
                self.results_line(b, &[ty], format!("intrinsic {name}({})", args.join(", ")));
            }
            _ => {
                let dst = self.buf_addr(b);
                let src = self.buf_addr(b);
                let n = self.operand(b, I32);
                let m = self.imm(b, I32, 31);
                let len = self.def(b, Ptr, format!("i32.and {n}, {m}"), false);
                let line = match self.rng.below(5) {
                    0 => format!("intrinsic memcpy({dst}, {src}, {len})"),
                    1 => format!("intrinsic memmove({dst}, {src}, {len})"),
                    2 => {
                        let byte = self.operand(b, I32);
                        format!("intrinsic memset({dst}, {byte}, {len})")
                    }
                    3 => format!("memory.copy {dst}, {src}, {len}"),
                    _ => {
                        let byte = self.operand(b, I32);
                        format!("memory.fill {dst}, {byte}, {len}")
                    }
                };
                self.emit(b, line);
            }
        }
    }

    fn write(&self, out: &mut String) {
        let (params, results) = &self.sigs[self.index];
        let tys = |t: &[Type]| t.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ");
        let res = if results.is_empty() {
            String::new()
        } else {
            format!(" -> {}", tys(results))
        };
        // Without `@main`, `@f0` is the export that keeps the module alive.
        let linkage = if self.index == 0 && !self.config.main {
            " export"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "func @f{}({}){res}{linkage} {{",
            self.index,
            tys(params)
        );
        for (i, size) in self.slots.iter().enumerate() {
            let _ = writeln!(out, "    ss{i} = stack_slot {size} align 8");
        }
        for (i, blk) in self.blocks.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let ps: Vec<String> = blk
                .params
                .iter()
                .map(|(v, t)| format!("v{v}: {}", t.name()))
                .collect();
            if ps.is_empty() {
                let _ = writeln!(out, "block{i}:");
            } else {
                let _ = writeln!(out, "block{i}({}):", ps.join(", "));
            }
            for line in &blk.lines {
                let _ = writeln!(out, "    {line}");
            }
        }
        out.push_str("}\n\n");
    }
}
