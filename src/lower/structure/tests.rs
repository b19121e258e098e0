//! The spec of the control-flow stage: structured output, run as a wasm machine would run
//! it, takes the same paths as the IR CFG, for random and hand-written CFGs, reducible and
//! irreducible (after `make_reducible`), plus the deep and large cases.

use std::fmt::Write as _;

use cranelift_entity::EntityRef;

use crate::interp::{Instance, Val};
use crate::ir::{Block, BlockCall, Function, InstData, Module, Type, Value};
use crate::lower::cfg::Cfg;
use crate::lower::reducible::{
    Reducer, ReducibleOptions, make_reducible, make_reducible_into, make_reducible_with,
};
use crate::lower::structure::{Structurer, structure};
use crate::lower::structured::Node;

use crate::testing::Rng;

impl Rng {
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One observable step of a walk.
#[derive(Clone, PartialEq, Debug)]
enum Event {
    /// A block's code ran.
    Code(Block),
    /// Copies along an edge to a block with parameters: (from, to, args).
    Edge(Block, Block, Vec<Value>),
    /// Returned from the given block.
    Return(Block),
    /// Trapped.
    Trap,
    /// Control fell off the end of the structured code.
    FellOff,
    /// The step limit was reached.
    Limit,
}

/// Decisions for unknown conditions, shared by both walks through the same seed; values the
/// walk knows (constants and block parameters copied from them) decide instead.
struct Oracle {
    rng: Rng,
    /// Known values (by value index): constants, and parameters that received known values.
    env: Vec<Option<u64>>,
}

impl Oracle {
    fn new(seed: u64) -> Oracle {
        Oracle {
            rng: Rng(seed | 1),
            env: Vec::new(),
        }
    }
    /// Evaluates the constants of `b`.
    fn enter(&mut self, f: &Function, b: Block) {
        for &i in &f.dfg.blocks[b].insts {
            if let InstData::Const { bits, .. } = f.dfg.insts[i] {
                self.set(f.dfg.inst_results(i)[0], Some(bits));
            }
        }
    }
    /// Assigns `to`'s parameters from `args` (a parallel copy).
    fn copy(&mut self, f: &Function, to: Block, args: &[Value]) {
        let vals: Vec<Option<u64>> = args.iter().map(|&a| self.get(a)).collect();
        for (&p, v) in f.dfg.block_params(to).iter().zip(vals) {
            self.set(p, v);
        }
    }
    fn get(&self, v: Value) -> Option<u64> {
        self.env.get(v.index()).copied().flatten()
    }
    fn set(&mut self, v: Value, x: Option<u64>) {
        if self.env.len() <= v.index() {
            self.env.resize(v.index() + 1, None);
        }
        self.env[v.index()] = x;
    }
    fn cond(&mut self, v: Value) -> bool {
        match self.get(v) {
            Some(x) => x as u32 != 0,
            None => self.rng.chance(50),
        }
    }
    fn index(&mut self, v: Value, n: usize) -> usize {
        match self.get(v) {
            Some(x) => (x as u32 as usize).min(n - 1),
            None => self.rng.below(n as u64) as usize,
        }
    }
}

fn dests(f: &Function, b: Block) -> Vec<BlockCall> {
    let mut out = Vec::new();
    if let Some(t) = f.terminator(b) {
        f.dfg.for_each_dest(t, |d| out.push(*d));
    }
    out
}

fn edge_event(f: &Function, from: Block, d: &BlockCall) -> Option<Event> {
    (!f.dfg.block_params(d.block).is_empty())
        .then(|| Event::Edge(from, d.block, f.dfg.list(d.args).to_vec()))
}

/// Walks the IR CFG for up to `limit` blocks.
fn walk_ir(f: &Function, seed: u64, limit: usize) -> Vec<Event> {
    let mut o = Oracle::new(seed);
    let mut ev = Vec::new();
    let mut b = f.layout[0];
    let mut steps = 0;
    loop {
        if steps == limit {
            ev.push(Event::Limit);
            return ev;
        }
        steps += 1;
        ev.push(Event::Code(b));
        o.enter(f, b);
        let t = f.terminator(b).expect("terminator");
        let ds = dests(f, b);
        let k = match f.dfg.insts[t] {
            InstData::Jump { .. } => 0,
            InstData::BrIf { cond, .. } => usize::from(!o.cond(cond)),
            InstData::BrTable { index, .. } => o.index(index, ds.len()),
            InstData::Return { .. } => {
                ev.push(Event::Return(b));
                return ev;
            }
            _ => {
                ev.push(Event::Trap);
                return ev;
            }
        };
        let d = ds[k];
        ev.extend(edge_event(f, b, &d));
        o.copy(f, d.block, f.dfg.list(d.args));
        b = d.block;
    }
}

/// Checks well-formedness; returns for each opener its `End` and for each `If` its `Else`.
fn check_nesting(f: &Function, nodes: &[Node]) -> (Vec<usize>, Vec<Option<usize>>) {
    let mut end = vec![usize::MAX; nodes.len()];
    let mut els = vec![None; nodes.len()];
    let mut used = vec![false; nodes.len()];
    let mut stack: Vec<usize> = Vec::new();
    let mut seen = vec![0u32; f.dfg.blocks.len()];
    for (i, n) in nodes.iter().enumerate() {
        // The condition or index of a terminator is computed by its block's code, right
        // before: nothing may come between them.
        if let Node::If(b) | Node::BrTable { from: b, .. } = n {
            assert_eq!(
                nodes.get(i.wrapping_sub(1)),
                Some(&Node::Code(*b)),
                "at {i}"
            );
        }
        match n {
            Node::Block | Node::Loop(_) | Node::If(_) => stack.push(i),
            Node::Else => {
                let &top = stack.last().expect("else outside if");
                assert!(matches!(nodes[top], Node::If(_)), "else not in an if");
                assert!(els[top].is_none(), "two elses");
                els[top] = Some(i);
            }
            Node::End => end[stack.pop().expect("unbalanced end")] = i,
            Node::Br(d) => {
                let d = *d as usize;
                assert!(d < stack.len(), "br depth out of range");
                used[stack[stack.len() - 1 - d]] = true;
            }
            Node::BrTable {
                depths, default, ..
            } => {
                for &d in depths.iter().chain(std::iter::once(default)) {
                    let d = d as usize;
                    assert!(d < stack.len(), "br_table depth out of range");
                    used[stack[stack.len() - 1 - d]] = true;
                }
            }
            Node::Code(b) => seen[b.index()] += 1,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed constructs");
    // Every reachable block once, no unreachable one; every Block/Loop is a branch target;
    // a Loop starts with its header's code.
    let cfg = Cfg::compute(f);
    for (n, &b) in f.layout.iter().enumerate() {
        let want = u32::from(cfg.is_reachable(n));
        assert_eq!(
            seen[b.index()],
            want,
            "{b} emitted {} times",
            seen[b.index()]
        );
    }
    for (i, n) in nodes.iter().enumerate() {
        match n {
            Node::Block => assert!(used[i], "block at {i} never targeted"),
            Node::Loop(h) => {
                assert!(used[i], "loop at {i} never targeted");
                let first = nodes[i + 1..]
                    .iter()
                    .find(|n| !matches!(n, Node::Block | Node::Loop(_)));
                assert_eq!(first, Some(&Node::Code(*h)), "loop of {h} starts elsewhere");
            }
            _ => {}
        }
    }
    (end, els)
}

/// Runs the node sequence like a wasm machine, for up to `limit` blocks; `shape` is what
/// [`check_nesting`] returned for it.
fn walk_nodes(
    f: &Function,
    nodes: &[Node],
    shape: &(Vec<usize>, Vec<Option<usize>>),
    seed: u64,
    limit: usize,
) -> Vec<Event> {
    let (end, els) = shape;
    let mut o = Oracle::new(seed);
    let mut ev = Vec::new();
    let mut stack: Vec<usize> = Vec::new(); // positions of open constructs
    let mut pc = 0;
    let mut steps = 0;
    let mut last: Option<Block> = None;
    let br = |stack: &mut Vec<usize>, d: u32| -> usize {
        let t = stack.len() - 1 - d as usize;
        let pos = stack[t];
        if let Node::Loop(_) = nodes[pos] {
            stack.truncate(t + 1);
            pos + 1
        } else {
            stack.truncate(t);
            end[pos] + 1
        }
    };
    loop {
        let Some(n) = nodes.get(pc) else {
            ev.push(Event::FellOff);
            return ev;
        };
        match n {
            Node::Block | Node::Loop(_) => {
                stack.push(pc);
                pc += 1;
            }
            Node::If(b) => {
                assert_eq!(last, Some(*b), "if of {b} away from its code");
                let InstData::BrIf { cond, .. } = f.dfg.insts[f.terminator(*b).unwrap()] else {
                    panic!("if on a block without br_if");
                };
                if o.cond(cond) {
                    stack.push(pc);
                    pc += 1;
                } else if let Some(e) = els[pc] {
                    stack.push(pc);
                    pc = e + 1;
                } else {
                    pc = end[pc] + 1;
                }
            }
            Node::Else => {
                // End of the then arm: leave the if.
                let top = stack.pop().unwrap();
                pc = end[top] + 1;
            }
            Node::End => {
                stack.pop();
                pc += 1;
            }
            Node::Code(b) => {
                if steps == limit {
                    ev.push(Event::Limit);
                    return ev;
                }
                steps += 1;
                ev.push(Event::Code(*b));
                o.enter(f, *b);
                last = Some(*b);
                pc += 1;
            }
            Node::Edge { from, dest } => {
                let d = dests(f, *from)[*dest as usize];
                ev.extend(edge_event(f, *from, &d));
                o.copy(f, d.block, f.dfg.list(d.args));
                pc += 1;
            }
            Node::Br(d) => pc = br(&mut stack, *d),
            Node::BrTable {
                from,
                depths,
                default,
            } => {
                assert_eq!(last, Some(*from), "br_table of {from} away from its code");
                let InstData::BrTable { index, .. } = f.dfg.insts[f.terminator(*from).unwrap()]
                else {
                    panic!("br_table node on a block without br_table");
                };
                let k = o.index(index, depths.len() + 1);
                let d = depths.get(k).copied().unwrap_or(*default);
                pc = br(&mut stack, d);
            }
            Node::Return(b) => {
                ev.push(Event::Return(*b));
                return ev;
            }
            Node::Unreachable => {
                ev.push(Event::Trap);
                return ev;
            }
        }
    }
}

/// Fresh value names.
struct Names(usize);

impl Names {
    fn fresh(&mut self) -> String {
        self.0 += 1;
        format!("v{}", self.0 + 1)
    }
}

/// A random branch target from block `i` of `n`, biased to nearby blocks.
fn target(rng: &mut Rng, i: usize, n: usize) -> usize {
    if rng.chance(60) {
        (i + 1 + rng.below(3) as usize).min(n - 1)
    } else {
        rng.below(n as u64) as usize
    }
}

/// `blockT(args)`: state, accumulator, then constants (written to `s`) or own parameters.
fn args_for(
    rng: &mut Rng,
    s: &mut String,
    names: &mut Names,
    extras: &[Vec<&str>],
    own: &[(String, &str)],
    base: (&str, &str),
    t: usize,
) -> String {
    let mut a = vec![base.0.to_string(), base.1.to_string()];
    for &ty in &extras[t] {
        let mine: Vec<&String> = own
            .iter()
            .filter(|(_, pt)| *pt == ty)
            .map(|(p, _)| p)
            .collect();
        if !mine.is_empty() && rng.chance(50) {
            a.push(mine[rng.below(mine.len() as u64) as usize].clone());
        } else {
            let c = names.fresh();
            let val = rng.below(1000);
            let lit = if ty == "f64" {
                format!("{val}.5")
            } else {
                val.to_string()
            };
            writeln!(s, "    {c} = {ty}.const {lit}").unwrap();
            a.push(c);
        }
    }
    format!("block{t}({})", a.join(", "))
}

/// Generates a random function as IR text: blocks carry a state and an accumulator plus
/// random extra parameters; conditions come from the state, so every path is possible.
fn random_func(rng: &mut Rng, name: &str) -> String {
    let big = rng.chance(20);
    let n = 1 + rng.below(if big { 30 } else { 10 }) as usize;
    let types = ["i32", "i64", "f64"];
    let extras: Vec<Vec<&str>> = (0..n)
        .map(|i| {
            if i == 0 {
                Vec::new()
            } else {
                (0..rng.below(3))
                    .map(|_| types[rng.below(3) as usize])
                    .collect()
            }
        })
        .collect();
    let mut s = String::new();
    let mut names = Names(0);
    writeln!(s, "func @{name}(i32, i32) -> i32 export {{").unwrap();
    for (i, ex) in extras.iter().enumerate() {
        let (st, acc) = if i == 0 {
            ("v0".to_string(), "v1".to_string())
        } else {
            (names.fresh(), names.fresh())
        };
        let mut own: Vec<(String, &str)> = Vec::new();
        for &t in ex {
            own.push((names.fresh(), t));
        }
        let mut header = vec![format!("{st}: i32"), format!("{acc}: i32")];
        header.extend(own.iter().map(|(v, t)| format!("{v}: {t}")));
        writeln!(s, "block{i}({}):", header.join(", ")).unwrap();
        let mut fresh = || names.fresh();
        let (c1, c2, c31, cid, c16) = (fresh(), fresh(), fresh(), fresh(), fresh());
        writeln!(s, "    {c1} = i32.const 1103515245").unwrap();
        writeln!(s, "    {c2} = i32.const 12345").unwrap();
        writeln!(s, "    {c31} = i32.const 31").unwrap();
        writeln!(s, "    {cid} = i32.const {i}").unwrap();
        writeln!(s, "    {c16} = i32.const 16").unwrap();
        let (m, s2) = (fresh(), fresh());
        writeln!(s, "    {m} = i32.mul {st}, {c1}").unwrap();
        writeln!(s, "    {s2} = i32.add {m}, {c2}").unwrap();
        let (am, a2) = (fresh(), fresh());
        writeln!(s, "    {am} = i32.mul {acc}, {c31}").unwrap();
        writeln!(s, "    {a2} = i32.add {am}, {cid}").unwrap();
        let mut acc_v = a2;
        for (p, t) in &own {
            if *t == "i32" {
                let x = names.fresh();
                writeln!(s, "    {x} = i32.add {acc_v}, {p}").unwrap();
                acc_v = x;
            } else if *t == "i64" {
                let (w, x) = (names.fresh(), names.fresh());
                writeln!(s, "    {w} = i32.wrap_i64 {p}").unwrap();
                writeln!(s, "    {x} = i32.xor {acc_v}, {w}").unwrap();
                acc_v = x;
            }
        }
        let bits = names.fresh();
        writeln!(s, "    {bits} = i32.shr_u {s2}, {c16}").unwrap();
        let base = (s2.as_str(), acc_v.as_str());
        let roll = rng.below(100);
        if roll < 8 || (i == n - 1 && roll < 60) {
            writeln!(s, "    return {acc_v}").unwrap();
        } else if roll < 10 {
            writeln!(s, "    unreachable").unwrap();
        } else if roll < 45 {
            let t = target(rng, i, n);
            let a = args_for(rng, &mut s, &mut names, &extras, &own, base, t);
            writeln!(s, "    jump {a}").unwrap();
        } else if roll < 80 {
            let (one, c) = (names.fresh(), names.fresh());
            writeln!(s, "    {one} = i32.const 1").unwrap();
            writeln!(s, "    {c} = i32.and {bits}, {one}").unwrap();
            let (t, e) = (target(rng, i, n), target(rng, i, n));
            let a = args_for(rng, &mut s, &mut names, &extras, &own, base, t);
            let b = if t == e && rng.chance(30) {
                a.clone()
            } else {
                args_for(rng, &mut s, &mut names, &extras, &own, base, e)
            };
            writeln!(s, "    br_if {c}, {a}, {b}").unwrap();
        } else {
            let k = 1 + rng.below(5) as usize;
            let (kc, idx) = (names.fresh(), names.fresh());
            writeln!(s, "    {kc} = i32.const {}", k + 1).unwrap();
            writeln!(s, "    {idx} = i32.rem_u {bits}, {kc}").unwrap();
            // A pool of 1..=3 destinations that entries reuse (shared targets).
            let pool: Vec<String> = (0..1 + rng.below(3))
                .map(|_| {
                    let t = target(rng, i, n);
                    args_for(rng, &mut s, &mut names, &extras, &own, base, t)
                })
                .collect();
            let mut entries = Vec::new();
            for _ in 0..=k {
                entries.push(if rng.chance(70) {
                    pool[rng.below(pool.len() as u64) as usize].clone()
                } else {
                    let t = target(rng, i, n);
                    args_for(rng, &mut s, &mut names, &extras, &own, base, t)
                });
            }
            let def = entries.pop().unwrap();
            writeln!(s, "    br_table {idx}, [{}], {def}", entries.join(", ")).unwrap();
        }
        writeln!(s).unwrap();
    }
    s.push_str("}\n");
    s
}

fn parse(text: &str) -> Module {
    let m = crate::ir::parse(text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    if let Err(e) = crate::verify::verify(&m) {
        panic!("{e:?}\n{text}");
    }
    m
}

fn only_func(m: &Module) -> &Function {
    let (_, f) = m.bodies.iter().find(|(_, f)| !f.layout.is_empty()).unwrap();
    f
}

/// Structures `f` and checks both walks agree for `runs` oracles.
fn check_walks(f: &Function, s: &mut Structurer, nodes: &mut Vec<Node>, seed: u64, runs: u64) {
    s.run(f, nodes).unwrap_or_else(|e| panic!("{e}"));
    let shape = check_nesting(f, nodes);
    for r in 0..runs {
        let seed = seed.wrapping_mul(31).wrapping_add(r + 1);
        let a = walk_ir(f, seed, 80);
        let b = walk_nodes(f, nodes, &shape, seed, 80);
        assert_eq!(a, b, "walks differ, seed {seed}\nnodes {nodes:?}");
    }
}

/// Code, return and trap events of original blocks only.
fn project(ev: &[Event], original: &dyn Fn(Block) -> bool) -> Vec<Event> {
    ev.iter()
        .filter(|e| match e {
            Event::Code(b) => original(*b),
            Event::Edge(..) => false,
            _ => true,
        })
        .cloned()
        .collect()
}

#[test]
fn random_cfgs_walk_the_same() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut s = Structurer::default();
    let mut nodes = Vec::new();
    let (mut reducible, mut irreducible) = (0, 0);
    // Shapes covered: entry is a loop header, self loop, unreachable block, br_table with a
    // repeated target, two or more loop headers.
    let mut shapes = [0u32; 5];
    for case in 0..3000 {
        let text = random_func(&mut rng, "f");
        let m = parse(&text);
        let f = only_func(&m);
        let cfg = Cfg::compute(f);
        // The reducibility found with the dominators agrees with its edge-by-edge
        // definition, and the early stop of the check agrees too.
        assert_eq!(cfg.is_reducible(), cfg.is_reducible_by_edges(), "{text}");
        assert_eq!(
            Cfg::default().recompute_until_irreducible(f),
            cfg.is_reducible(),
            "{text}"
        );
        let n = cfg.len();
        shapes[0] += u32::from(cfg.is_loop_header(0));
        shapes[1] += u32::from((0..n).any(|b| cfg.succs(b).contains(&(b as u32))));
        shapes[2] += u32::from((0..n).any(|b| !cfg.is_reachable(b)));
        shapes[3] += u32::from(f.dfg.jump_tables.values().any(|jt| {
            let mut t: Vec<Block> = jt.targets.iter().map(|d| d.block).collect();
            t.push(jt.default.block);
            t.sort();
            t.windows(2).any(|w| w[0] == w[1])
        }));
        shapes[4] += u32::from((0..n).filter(|&b| cfg.is_loop_header(b)).count() >= 2);
        match make_reducible(f) {
            None => {
                reducible += 1;
                check_walks(f, &mut s, &mut nodes, case, 8);
            }
            Some(g) => {
                irreducible += 1;
                assert!(
                    Cfg::compute(&g).is_reducible(),
                    "still irreducible:\n{text}"
                );
                // The structurer refuses the original.
                assert!(structure(f, &mut Vec::new()).is_err());
                check_walks(&g, &mut s, &mut nodes, case, 8);
                let shape = check_nesting(&g, &nodes);
                let nblocks = f.dfg.blocks.len();
                let original = |b: Block| b.index() < nblocks;
                for r in 0..8u64 {
                    let seed = case * 7 + r + 1;
                    let a = walk_ir(f, seed, 40);
                    let b = walk_nodes(&g, &nodes, &shape, seed, 400);
                    let (pa, pb) = (project(&a, &original), project(&b, &original));
                    if a.last() == Some(&Event::Limit) {
                        let k = pa.len() - 1;
                        assert_eq!(pa[..k], pb[..k.min(pb.len())], "seed {seed}\n{text}");
                    } else {
                        assert_eq!(pa, pb, "seed {seed}\n{text}");
                    }
                }
            }
        }
    }
    eprintln!("random CFGs: {reducible} reducible, {irreducible} irreducible, shapes {shapes:?}");
    assert!(irreducible > 100 && reducible > 100);
    assert!(shapes.iter().all(|&c| c > 50), "{shapes:?}");
}

/// Replaces every irreducible body of `m` by its reducible version.
fn reduce_module(m: &Module) -> (Module, usize) {
    reduce_module_with(m, 0)
}

/// Like `reduce_module`, with a node-splitting budget.
fn reduce_module_with(m: &Module, split_budget: u32) -> (Module, usize) {
    let opts = ReducibleOptions { split_budget };
    let mut out = m.clone();
    let mut changed = 0;
    for (fr, f) in m.bodies.iter() {
        if let Some(g) = make_reducible_with(f, &opts) {
            out.bodies[fr] = g;
            changed += 1;
        }
    }
    (out, changed)
}

fn vals(rng: &mut Rng) -> [Val; 2] {
    [
        Val::I32(rng.next() as i32),
        Val::I32(rng.below(1000) as i32),
    ]
}

/// One reducer, graph and output function reused across many functions (as a lowering
/// worker does) give what a fresh [`make_reducible_with`] gives, and leave the graph of the
/// result (or of the input, when it is reducible) behind.
#[test]
fn make_reducible_into_reuses_buffers_like_fresh_runs() {
    let mut rng = Rng(0x0bad_cafe_1234_5678);
    let (mut cfg, mut r, mut buf) = (Cfg::default(), Reducer::default(), Function::default());
    let mut changed = 0;
    for i in 0..2000 {
        let text = random_func(&mut rng, "f");
        let m = parse(&text);
        let f = only_func(&m);
        let opts = ReducibleOptions {
            split_budget: [0, 8, 64][i % 3],
        };
        let fresh = make_reducible_with(f, &opts);
        let reused = make_reducible_into(f, &opts, &mut cfg, &mut r, &mut buf);
        assert_eq!(reused, fresh.is_some(), "{text}");
        let result = if reused { &buf } else { f };
        let want = Cfg::compute(result);
        assert_eq!(cfg.rpo_order(), want.rpo_order(), "{text}");
        assert_eq!(cfg.is_reducible(), want.is_reducible(), "{text}");
        if let Some(g) = fresh {
            changed += 1;
            let print = |body: &Function| {
                let mut out = m.clone();
                if let Some((fr, _)) = m.bodies.iter().find(|(_, b)| !b.layout.is_empty()) {
                    out.bodies[fr] = body.clone();
                }
                out.to_string()
            };
            assert_eq!(print(&buf), print(&g), "{text}");
        }
    }
    assert!(changed > 100, "only {changed} irreducible functions");
}

#[test]
fn make_reducible_preserves_behavior() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut done = 0;
    let (mut split_only, mut dispatch_only) = (0, 0);
    for _ in 0..4000 {
        let text = random_func(&mut rng, "f");
        let m = parse(&text);
        let budget = [0, 8, 64][done % 3];
        let (g, changed) = reduce_module_with(&m, budget);
        if changed == 0 {
            continue;
        }
        done += 1;
        if let Err(e) = crate::verify::verify(&g) {
            panic!("{e:?}\n{text}");
        }
        let gf = only_func(&g);
        assert!(Cfg::compute(gf).is_reducible(), "budget {budget}\n{text}");
        let mut nodes = Vec::new();
        check_walks(gf, &mut Structurer::default(), &mut nodes, done as u64, 4);
        // Count the functions that node splitting alone made reducible (no dispatcher: a new
        // block whose br_table switches on its own first parameter).
        let nblocks = only_func(&m).dfg.blocks.len();
        let dispatched = gf.layout.iter().any(|&b| {
            b.index() >= nblocks
                && matches!(gf.terminator(b).map(|t| gf.dfg.insts[t]),
                    Some(InstData::BrTable { index, .. }) if gf.dfg.block_params(b).first() == Some(&index))
        });
        split_only += u32::from(budget > 0 && !dispatched);
        dispatch_only += u32::from(budget == 0 && dispatched);
        for _ in 0..4 {
            let args = vals(&mut rng);
            let mut a = Instance::new(&m).unwrap();
            a.set_fuel(20_000);
            let ra = a.call("f", &args);
            if ra.as_ref().is_err_and(|t| t.message == "out of fuel") {
                continue;
            }
            let mut b = Instance::new(&g).unwrap();
            b.set_fuel(2_000_000);
            let rb = b.call("f", &args);
            match (&ra, &rb) {
                (Ok(x), Ok(y)) => assert_eq!(x, y, "{text}"),
                (Err(x), Err(y)) => assert_eq!(x.message, y.message, "{text}"),
                _ => panic!("{ra:?} vs {rb:?}\n{text}"),
            }
        }
    }
    eprintln!("irreducible functions run: {done}, {split_only} by splitting only");
    assert!(done > 300);
    assert!(split_only > 20);
    assert_eq!(
        dispatch_only,
        (done as u32).div_ceil(3),
        "budget 0 always dispatches"
    );
}

#[test]
fn corpus_structures_and_runs() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/ir");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ir"))
        .collect();
    files.sort();
    let mut s = Structurer::default();
    let mut nodes = Vec::new();
    let mut irreducible = 0;
    for p in &files {
        let text = std::fs::read_to_string(p).unwrap();
        let m = parse(&text);
        let (g, changed) = reduce_module(&m);
        irreducible += changed;
        crate::verify::verify(&g).unwrap();
        for (_, f) in g.bodies.iter() {
            if !f.layout.is_empty() {
                check_walks(f, &mut s, &mut nodes, 5, 20);
            }
        }
        let (split, _) = reduce_module_with(&m, 64);
        crate::verify::verify(&split).unwrap();
        for rl in crate::runtest::parse_run_lines(&text).unwrap() {
            for g in [&g, &split] {
                crate::runtest::run_line(g, &rl)
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", p.display(), rl.text));
            }
        }
    }
    assert!(irreducible >= 2, "the corpus has irreducible functions");
}

#[test]
fn reducible_gives_none_and_two_entry_loop_gets_one_dispatcher() {
    let m = parse(
        "func @f(i32) -> i32 {
block0(v0: i32):
    br_if v0, block1, block2
block1:
    jump block2
block2:
    return v0
}",
    );
    assert!(make_reducible(only_func(&m)).is_none());
    let m = parse(
        "func @f(i32) -> i32 {
block0(v0: i32):
    br_if v0, block1(v0), block2(v0)
block1(v1: i32):
    jump block2(v1)
block2(v2: i32):
    br_if v2, block1(v2), block3
block3:
    return v0
}",
    );
    let f = only_func(&m);
    let g = make_reducible(f).unwrap();
    // One dispatcher (label + the entries' parameters in slots shared by type: both entries
    // take one i32) and three edge blocks: the entry's two arms and the back edge
    // block2 -> block1.
    assert_eq!(g.layout.len(), f.layout.len() + 4);
    let d = g.layout[f.layout.len()];
    let tys: Vec<Type> = g
        .dfg
        .block_params(d)
        .iter()
        .map(|&v| g.dfg.value_type(v))
        .collect();
    assert_eq!(tys, [Type::I32, Type::I32]);
    let mut nodes = Vec::new();
    structure(&g, &mut nodes).unwrap();
}

/// The entry block heads a loop whose body holds a two-entry loop.
#[test]
fn irreducible_inside_entry_loop() {
    let m = parse(
        "func @f(i32) -> i32 export {
block0(v0: i32):
    v1 = i32.const 1
    v2 = i32.sub v0, v1
    v3 = i32.const 0
    v4 = i32.le_s v0, v3
    br_if v4, block3(v0), block5
block5:
    v5 = i32.const 3
    v6 = i32.rem_u v0, v5
    br_if v6, block1(v2), block2(v2)
block1(v7: i32):
    v8 = i32.const 2
    v9 = i32.rem_u v7, v8
    br_if v9, block2(v7), block0(v7)
block2(v10: i32):
    v11 = i32.const 5
    v12 = i32.rem_u v10, v11
    v15 = i32.const 1
    v13 = i32.sub v10, v15
    br_if v12, block1(v13), block0(v13)
block3(v14: i32):
    return v14
}",
    );
    let f = only_func(&m);
    assert!(!Cfg::compute(f).is_reducible());
    let (g, changed) = reduce_module(&m);
    assert_eq!(changed, 1);
    crate::verify::verify(&g).unwrap();
    let gf = only_func(&g);
    assert_eq!(gf.layout[0], f.layout[0]);
    for x in [0, 1, 2, 3, 10, 11, 12, 100] {
        let a = Instance::new(&m).unwrap().call("f", &[Val::I32(x)]);
        let b = Instance::new(&g).unwrap().call("f", &[Val::I32(x)]);
        assert_eq!(a, b);
    }
    let mut s = Structurer::default();
    check_walks(gf, &mut s, &mut Vec::new(), 3, 50);
}

/// A hand-checked output: a loop with a merge after it and an if inside.
#[test]
fn simple_loop_shape() {
    let m = parse(
        "func @f(i32) -> i32 {
block0(v0: i32):
    jump block1(v0)
block1(v1: i32):
    br_if v1, block2, block3
block2:
    v2 = i32.const 1
    v3 = i32.sub v1, v2
    jump block1(v3)
block3:
    return v1
}",
    );
    let f = only_func(&m);
    let mut nodes = Vec::new();
    structure(f, &mut nodes).unwrap();
    let b = |i: usize| Block::new(i);
    let e = |from: usize, dest: u32| Node::Edge {
        from: b(from),
        dest,
    };
    assert_eq!(
        nodes,
        [
            Node::Code(b(0)),
            e(0, 0),
            Node::Loop(b(1)),
            Node::Code(b(1)),
            Node::If(b(1)),
            Node::Code(b(2)),
            e(2, 0),
            Node::Br(1),
            Node::Else,
            Node::Code(b(3)),
            Node::Return(b(3)),
            Node::End,
            Node::End,
        ]
    );
}

#[test]
fn many_untargeted_blocks_are_dropped() {
    // A loop around a chain of diamonds whose arms fall through to their merge, so no
    // merge `Block` is targeted; one arm of each also branches back to the loop, from
    // inside the dropped blocks (their depths change). Twelve drops take the compaction
    // path of the post-pass, one takes the single removal.
    for n in [1usize, 12] {
        let mut text = String::from("func @f(i32) -> i32 {\nblock0(v0: i32):\n    jump block1\n");
        for k in 0..n {
            let (c, a, b, m) = (1 + 3 * k, 2 + 3 * k, 3 + 3 * k, 4 + 3 * k);
            text += &format!("block{c}:\n    br_if v0, block{a}, block{b}\n");
            text += &format!("block{a}:\n    br_if v0, block1, block{m}\n");
            text += &format!("block{b}:\n    jump block{m}\n");
        }
        text += &format!("block{}:\n    return v0\n}}", 1 + 3 * n);
        let m = parse(&text);
        let f = only_func(&m);
        let (mut s, mut nodes) = (Structurer::default(), Vec::new());
        check_walks(f, &mut s, &mut nodes, n as u64, 40);
        assert!(!nodes.contains(&Node::Block), "{nodes:?}");
        assert_eq!(
            nodes.iter().filter(|n| matches!(n, Node::Br(_))).count(),
            n,
            "{nodes:?}"
        );
    }
}

// ---- large and deep functions ----

/// A function whose blocks have no parameters; `term(f, i, blocks, cond)` makes block i's
/// terminator.
fn build(n: usize, mut term: impl FnMut(usize, &[Block], Value) -> InstData) -> Function {
    let mut f = Function::default();
    let blocks: Vec<Block> = (0..n).map(|_| f.dfg.make_block()).collect();
    let cond = f.dfg.append_block_param(blocks[0], Type::I32);
    for (i, &b) in blocks.iter().enumerate() {
        let data = match term(i, &blocks, cond) {
            InstData::Return { .. } => InstData::Return {
                args: f.dfg.make_value_list(&[cond]),
            },
            d => d,
        };
        let inst = f.dfg.make_inst(data);
        f.dfg.blocks[b].insts.push(inst);
    }
    f.layout = blocks;
    f
}

fn jump(b: Block) -> InstData {
    InstData::Jump {
        dest: BlockCall {
            block: b,
            args: Default::default(),
        },
    }
}

fn br_if(cond: Value, t: Block, e: Block) -> InstData {
    InstData::BrIf {
        cond,
        then_dest: jump_call(t),
        else_dest: jump_call(e),
    }
}

fn jump_call(b: Block) -> BlockCall {
    BlockCall {
        block: b,
        args: Default::default(),
    }
}

fn ret() -> InstData {
    InstData::Return {
        args: Default::default(),
    }
}

/// 100,000-block chain (plain and with a shared exit), 100,000 blocks of diamonds, a 10,000-deep loop nest, and an
/// irreducible chain of 50,000 two-entry loops, on a 2 MiB stack; prints the times.
#[test]
fn large_and_deep_on_small_stack() {
    let t = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let n = 100_000;
            let chain = build(n, |i, b, _| if i + 1 < n { jump(b[i + 1]) } else { ret() });
            // Every block of a chain may also leave to one shared exit: a merge node with
            // 100,000 predecessors along a deep dominator chain (quadratic for a plain
            // Cooper-Harvey-Kennedy intersection).
            let shared_exit = build(n, |i, b, c| {
                if i + 1 < n {
                    br_if(c, b[n - 1], b[i + 1])
                } else {
                    ret()
                }
            });
            // Diamonds: 3k -> 3k+1, 3k+2 -> 3k+3.
            let diamonds = build(n, |i, b, c| match (i % 3, i + 3 < n) {
                (0, true) => br_if(c, b[i + 1], b[i + 2]),
                (1, true) => jump(b[i + 2]),
                (2, true) => jump(b[i + 1]),
                _ => ret(),
            });
            // Loop nest: h_i (0..d) then x_i; h_i -> h_{i+1}; h_{d-1} -> h_{d-1} | x_{d-1};
            // x_i -> h_{i-1} | x_{i-1}; x_0 returns.
            let d = 10_000;
            let nest = build(2 * d, |i, b, c| {
                if i < d - 1 {
                    jump(b[i + 1])
                } else if i == d - 1 {
                    br_if(c, b[i], b[d + i])
                } else {
                    let k = i - d;
                    if k == 0 {
                        ret()
                    } else {
                        br_if(c, b[k - 1], b[d + k - 1])
                    }
                }
            });
            // Two-entry loops in sequence: e_k -> a_k | b_k; a_k <-> b_k; b_k -> e_{k+1}.
            let m = 3 * 16_666;
            let irr = build(m + 1, |i, b, c| {
                if i == m {
                    return ret();
                }
                match i % 3 {
                    0 => br_if(c, b[i + 1], b[i + 2]),
                    1 => jump(b[i + 1]),
                    _ => br_if(c, b[i - 1], b[i + 1]),
                }
            });
            let mut s = Structurer::default();
            let mut nodes = Vec::new();
            let mut report = String::new();
            for (name, f) in [
                ("chain", &chain),
                ("chain with a shared exit", &shared_exit),
                ("diamonds", &diamonds),
                ("loop nest", &nest),
                ("irreducible", &irr),
            ] {
                let t0 = std::time::Instant::now();
                let g = make_reducible(f);
                let t1 = t0.elapsed();
                let f = g.as_ref().unwrap_or(f);
                let t0 = std::time::Instant::now();
                s.run(f, &mut nodes).unwrap();
                let t2 = t0.elapsed();
                writeln!(
                    report,
                    "{name}: {} blocks, make_reducible {:?}, structure {:?}, {} nodes",
                    f.layout.len(),
                    t1,
                    t2,
                    nodes.len()
                )
                .unwrap();
                let shape = check_nesting(f, &nodes);
                let a = walk_ir(f, 9, 5000);
                let b = walk_nodes(f, &nodes, &shape, 9, 5000);
                assert_eq!(a, b, "{name}");
            }
            report
        })
        .unwrap();
    let report = t.join().expect("no stack overflow");
    eprint!("{report}");
}

/// The simulator notices a wrong branch depth and a wrong arm order.
#[test]
fn simulator_catches_mistakes() {
    let m = parse(
        "func @f(i32) -> i32 {
block0(v0: i32):
    jump block1(v0)
block1(v1: i32):
    br_if v1, block2, block3
block2:
    v2 = i32.const 1
    v3 = i32.sub v1, v2
    jump block1(v3)
block3:
    return v1
}",
    );
    let f = only_func(&m);
    let mut nodes = Vec::new();
    structure(f, &mut nodes).unwrap();
    // A mistake shows as a failed nesting check (a panic) or as different walks.
    let differs = |nodes: &[Node]| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let shape = check_nesting(f, nodes);
            (1..20).any(|seed| walk_ir(f, seed, 50) != walk_nodes(f, nodes, &shape, seed, 50))
        }))
        .unwrap_or(true)
    };
    assert!(!differs(&nodes));
    let mut wrong = nodes.clone();
    let br = wrong.iter().position(|n| *n == Node::Br(1)).unwrap();
    wrong[br] = Node::Br(0);
    assert!(differs(&wrong));
    // Swap the arms of the if.
    let mut wrong = nodes.clone();
    let i = wrong
        .iter()
        .position(|n| *n == Node::Code(Block::new(2)))
        .unwrap();
    let j = wrong
        .iter()
        .position(|n| *n == Node::Code(Block::new(3)))
        .unwrap();
    wrong.swap(i, j);
    assert!(differs(&wrong));
}

/// Both ways of removing nodes (rotations for a few, a compaction for many) against
/// `retain`, with bad positions refused.
#[test]
fn remove_sorted_keeps_the_rest_in_order() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..400 {
        let len = rng.below(200) as u32 + 1;
        let percent = [2, 10, 50, 90, 100][case % 5];
        let positions: Vec<u32> = (0..len).filter(|_| rng.chance(percent)).collect();
        let mut out: Vec<u32> = (0..len).collect();
        assert_eq!(super::remove_sorted(&mut out, &positions), Some(()));
        let want: Vec<u32> = (0..len).filter(|i| !positions.contains(i)).collect();
        assert_eq!(out, want, "{len} elements, removing {positions:?}");
    }
    let mut out = vec![0, 1, 2];
    assert_eq!(super::remove_sorted(&mut out, &[1, 1]), None);
    assert_eq!(super::remove_sorted(&mut out, &[2, 1]), None);
    assert_eq!(super::remove_sorted(&mut out, &[3]), None);
    assert_eq!(out, [0, 1, 2]);
}
