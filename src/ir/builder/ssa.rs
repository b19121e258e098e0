//! SSA construction for [`FunctionBuilder`](super::FunctionBuilder): variables become values
//! and block parameters, after Braun et al., "Simple and Efficient Construction of Static
//! Single Assignment Form" (CC 2013).
//!
//! # Approach
//!
//! - `defs[(var, block)]` is the value of `var` at the end of `block` so far. A use in a block
//!   without a local definition looks at the predecessors: a sealed block (all predecessors
//!   known) with one predecessor takes its value, a sealed block without predecessors gets a
//!   zero constant at its start, and any other block gets a new block parameter.
//! - A parameter of an unsealed block stays *pending* until the block is sealed; a parameter
//!   of a sealed block is *completed* at once: the variable is looked up at the end of each
//!   predecessor and the value is written into the matching argument slot of every
//!   [`BlockCall`] of the predecessor's terminator that targets the block (a `br_if` with both
//!   arms to one block, or a `br_table` naming it several times, has several).
//! - A completed parameter whose incoming values are all one value `w` (or itself) is
//!   *trivial*: it becomes an alias of `w`. Every builder parameter records the parameters it
//!   was passed to (`users`), so removing one re-checks those, and cascades run to a fixpoint.
//!   A completed parameter with no incoming value but itself (an unreachable cycle) becomes a
//!   zero constant at the start of its block.
//!
//! # Invariants
//!
//! - Nothing here recurses: lookups walk single-predecessor chains in a loop, and completion
//!   and triviality checks run from two work lists, so the stack depth does not depend on the
//!   size of the CFG.
//! - An alias always points to a value that was not an alias when it was set, so the alias
//!   graph has no cycles; [`Ssa::resolve`] follows it with path compression.
//! - Argument slots are written by index (the parameter's position in its block), so
//!   parameters may complete in any order. Until [`Ssa::finish`], aliased parameters stay in
//!   their blocks and arguments are not rewritten; `finish` removes them, drops their argument
//!   slots and replaces every operand that names an alias.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use cranelift_entity::packed_option::PackedOption;
use cranelift_entity::{EntityList, ListPool, PrimaryMap, SecondaryMap};

use super::Variable;
use crate::ir::{
    Block, BlockCall, Function, Inst, InstData, JumpTable, JumpTableData, Type, Value, ValueDef,
};

/// A fast hasher for `(Variable, Block)` keys: two `u32`s mixed by a multiply.
#[derive(Default)]
pub(super) struct PairHasher(u64);

impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// Per-block SSA state.
#[derive(Clone, Default)]
struct SsaBlock {
    /// Whether every predecessor is known.
    sealed: bool,
    /// Predecessor blocks with their terminator, one entry per terminator (a terminator
    /// naming the block twice appears once).
    preds: Vec<(Block, Inst)>,
    /// Builder parameters created while unsealed, to complete when sealed.
    pending: Vec<(Variable, Value)>,
}

/// The SSA construction state of one function.
#[derive(Default)]
pub(super) struct Ssa {
    /// Declared variables and their types.
    pub(super) vars: PrimaryMap<Variable, Type>,
    /// Value of a variable at the end of a block (so far).
    defs: HashMap<(Variable, Block), Value, BuildHasherDefault<PairHasher>>,
    blocks: SecondaryMap<Block, SsaBlock>,
    /// The variable of each parameter the builder created.
    param_var: SecondaryMap<Value, PackedOption<Variable>>,
    /// Replacement of each removed (trivial) parameter.
    alias: SecondaryMap<Value, PackedOption<Value>>,
    /// Builder parameters each builder parameter was passed to.
    users: SecondaryMap<Value, EntityList<Value>>,
    user_pool: ListPool<Value>,
    /// Generation marks for cycle detection in single-predecessor walks.
    visited: SecondaryMap<Block, u32>,
    generation: u32,
    /// Parameters of sealed blocks waiting for their arguments.
    to_complete: Vec<(Variable, Value)>,
    /// Completed parameters to check for triviality.
    to_check: Vec<Value>,
    /// Scratch: blocks of the current single-predecessor walk.
    chain: Vec<Block>,
    /// Scratch: values.
    scratch: Vec<Value>,
    /// Scratch: branch targets.
    targets: Vec<Block>,
    /// Whether any alias exists (so `finish` has operands to rewrite).
    any_alias: bool,
}

impl Ssa {
    /// Whether `block` is sealed.
    pub(super) fn is_sealed(&self, block: Block) -> bool {
        self.blocks.get(block).is_some_and(|b| b.sealed)
    }

    /// Records `value` as the value of `var` at the end of `block`.
    pub(super) fn def_var(&mut self, var: Variable, block: Block, value: Value) {
        self.defs.insert((var, block), value);
    }

    /// The value of `var` at the current end of `block`, creating parameters as needed.
    pub(super) fn use_var(&mut self, func: &mut Function, var: Variable, block: Block) -> Value {
        let v = self.lookup(func, var, block);
        self.run(func);
        self.resolve(v)
    }

    /// Records the edges of the terminator `inst`, just appended to `block`. Targets must be
    /// valid blocks. Returns whether some target was already sealed (a misuse: the edge is
    /// given arguments for the target's parameters, but parameters already found trivial
    /// do not see the new edge).
    pub(super) fn add_edges(&mut self, func: &mut Function, block: Block, inst: Inst) -> bool {
        let mut late = false;
        let mut targets = std::mem::take(&mut self.targets);
        targets.clear();
        func.dfg.for_each_dest(inst, |d| targets.push(d.block));
        for &t in &targets {
            let st = &mut self.blocks[t];
            if st.preds.last().is_some_and(|&(_, i)| i == inst) {
                continue;
            }
            st.preds.push((block, inst));
            if st.sealed {
                late = true;
                // Give the new edge arguments for the parameters the builder made.
                self.scratch.clear();
                self.scratch.extend_from_slice(func.dfg.block_params(t));
                let params = std::mem::take(&mut self.scratch);
                for &p in &params {
                    if let Some(var) = self.param_var[p].expand() {
                        let v = self.lookup(func, var, block);
                        self.set_arg(func, inst, t, p, v);
                    }
                }
                self.scratch = params;
            }
        }
        self.targets = targets;
        self.run(func);
        late
    }

    /// Seals `block`: its predecessors are all known, so its pending parameters complete.
    pub(super) fn seal(&mut self, func: &mut Function, block: Block) {
        let st = &mut self.blocks[block];
        if st.sealed {
            return;
        }
        st.sealed = true;
        let pending = std::mem::take(&mut st.pending);
        self.to_complete.extend(pending.iter().rev().copied());
        self.run(func);
    }

    /// Follows aliases to the value that stands for `v`.
    pub(super) fn resolve(&mut self, v: Value) -> Value {
        let mut r = v;
        while let Some(next) = self.alias.get(r).and_then(|a| a.expand()) {
            r = next;
        }
        // Path compression.
        let mut c = v;
        while let Some(next) = self.alias.get(c).and_then(|a| a.expand()) {
            if next != r {
                self.alias[c] = r.into();
            }
            c = next;
        }
        r
    }

    /// Looks `var` up at the end of `block`. May create parameters (queued for completion)
    /// and zero constants; returns a value that may later become an alias.
    fn lookup(&mut self, func: &mut Function, var: Variable, block: Block) -> Value {
        let ty = self.vars[var];
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.visited.clear();
            self.generation = 1;
        }
        let generation = self.generation;
        self.chain.clear();
        let mut b = block;
        let v = loop {
            if let Some(&v) = self.defs.get(&(var, b)) {
                break v;
            }
            let st = &self.blocks[b];
            if st.sealed {
                if st.preds.is_empty() {
                    let z = zero_at_start(func, b, ty);
                    self.defs.insert((var, b), z);
                    break z;
                }
                if st.preds.len() == 1 && self.visited[b] != generation {
                    let pred = st.preds[0].0;
                    self.visited[b] = generation;
                    self.chain.push(b);
                    b = pred;
                    continue;
                }
            }
            let p = func.dfg.append_block_param(b, ty);
            self.param_var[p] = var.into();
            self.defs.insert((var, b), p);
            let st = &mut self.blocks[b];
            if st.sealed {
                self.to_complete.push((var, p));
            } else {
                st.pending.push((var, p));
            }
            break p;
        };
        for &c in &self.chain {
            self.defs.insert((var, c), v);
        }
        v
    }

    /// Runs the work lists to a fixpoint.
    fn run(&mut self, func: &mut Function) {
        loop {
            if let Some((var, p)) = self.to_complete.pop() {
                self.complete(func, var, p);
            } else if let Some(p) = self.to_check.pop() {
                self.check_trivial(func, p);
            } else {
                break;
            }
        }
    }

    /// Gives parameter `p` (of a sealed block) its argument on every incoming edge.
    fn complete(&mut self, func: &mut Function, var: Variable, p: Value) {
        let ValueDef::Param(block, _) = func.dfg.values[p].def else {
            return;
        };
        for i in 0..self.blocks[block].preds.len() {
            let (pred, inst) = self.blocks[block].preds[i];
            let v = self.lookup(func, var, pred);
            self.set_arg(func, inst, block, p, v);
        }
        self.to_check.push(p);
    }

    /// Writes `v` as the argument for parameter `p` of `target` in every destination of
    /// `inst` that names `target`, padding short argument lists, and records the use.
    fn set_arg(&mut self, func: &mut Function, inst: Inst, target: Block, p: Value, v: Value) {
        let ValueDef::Param(_, n) = func.dfg.values[p].def else {
            return;
        };
        let n = n as usize;
        for_each_dest_mut(func, inst, |dest, pool| {
            if dest.block != target {
                return;
            }
            while dest.args.len(pool) <= n {
                dest.args.push(p, pool);
            }
            if let Some(slot) = dest.args.get_mut(n, pool) {
                *slot = v;
            }
        });
        let rv = self.resolve(v);
        if rv != p && self.param_var[rv].is_some() {
            self.users[rv].push(p, &mut self.user_pool);
        }
    }

    /// Replaces parameter `p` by an alias if all its incoming values are one value.
    fn check_trivial(&mut self, func: &mut Function, p: Value) {
        if self.alias[p].is_some() {
            return;
        }
        let ValueDef::Param(block, n) = func.dfg.values[p].def else {
            return;
        };
        let mut same: Option<Value> = None;
        let mut trivial = true;
        let mut incoming = std::mem::take(&mut self.scratch);
        incoming.clear();
        for &(_, inst) in &self.blocks[block].preds {
            func.dfg.for_each_dest(inst, |d| {
                if d.block == block
                    && let Some(a) = d.args.get(n as usize, &func.dfg.value_lists)
                {
                    incoming.push(a);
                }
            });
        }
        for &a in &incoming {
            let a = self.resolve(a);
            if a == p || Some(a) == same {
                continue;
            }
            if same.is_some() {
                trivial = false;
                break;
            }
            same = Some(a);
        }
        self.scratch = incoming;
        if !trivial {
            return;
        }
        let ty = func.dfg.values[p].ty;
        let w = match same {
            Some(w) => w,
            None => zero_at_start(func, block, ty),
        };
        self.alias[p] = w.into();
        self.any_alias = true;
        // Re-check the parameters `p` was passed to; they now see `w` instead.
        let users = std::mem::take(&mut self.users[p]);
        let mut list = std::mem::take(&mut self.scratch);
        list.clear();
        list.extend_from_slice(users.as_slice(&self.user_pool));
        for &u in &list {
            // A user already removed needs nothing; carrying it along would make long
            // cascades quadratic.
            if self.alias[u].is_some() {
                continue;
            }
            self.to_check.push(u);
            if self.param_var[w].is_some() && u != w {
                self.users[w].push(u, &mut self.user_pool);
            }
        }
        self.scratch = list;
    }

    /// Seals every block, removes trivial parameters with their argument slots, and replaces
    /// aliased operands. The function is complete afterwards.
    pub(super) fn finish(&mut self, func: &mut Function) {
        let blocks: Vec<Block> = func.dfg.blocks.keys().collect();
        for b in blocks {
            self.seal(func, b);
        }
        if !self.any_alias {
            return;
        }
        // Which blocks lose parameters.
        let mut shrinks: SecondaryMap<Block, bool> = SecondaryMap::new();
        for b in func.dfg.blocks.keys() {
            let params = func.dfg.blocks[b].params;
            shrinks[b] = params
                .as_slice(&func.dfg.value_lists)
                .iter()
                .any(|&p| self.alias[p].is_some());
        }
        // Drop the argument slots of removed parameters, then resolve every operand.
        let insts: Vec<Inst> = func.dfg.insts.keys().collect();
        for inst in insts {
            let mut shrink = false;
            func.dfg.for_each_dest(inst, |d| shrink |= shrinks[d.block]);
            if shrink {
                let (blocks, alias) = (&func.dfg.blocks, &self.alias);
                for_each_dest_parts(
                    &mut func.dfg.insts[inst],
                    &mut func.dfg.jump_tables,
                    &mut func.dfg.value_lists,
                    |dest, pool| {
                        if !shrinks[dest.block] {
                            return;
                        }
                        let params = blocks[dest.block].params;
                        let mut kept = 0;
                        let len = dest.args.len(pool);
                        for i in 0..len {
                            let keep = params
                                .get(i, pool)
                                .is_none_or(|param| alias[param].is_none());
                            if keep {
                                if let Some(a) = dest.args.get(i, pool)
                                    && let Some(slot) = dest.args.get_mut(kept, pool)
                                {
                                    *slot = a;
                                }
                                kept += 1;
                            }
                        }
                        dest.args.truncate(kept, pool);
                    },
                );
            }
            let mut data = func.dfg.insts[inst];
            func.dfg
                .for_each_arg_mut(&mut data, false, |v| *v = self.resolve(*v));
            func.dfg.insts[inst] = data;
        }
        // Remove the parameters and renumber the rest.
        for b in func.dfg.blocks.keys() {
            if !shrinks[b] {
                continue;
            }
            let mut params = std::mem::take(&mut self.scratch);
            params.clear();
            params.extend_from_slice(func.dfg.block_params(b));
            let mut kept = 0u32;
            let mut new = EntityList::new();
            for &p in &params {
                if self.alias[p].is_some() {
                    func.dfg.values[p].def = ValueDef::None;
                } else {
                    func.dfg.values[p].def = ValueDef::Param(b, kept);
                    new.push(p, &mut func.dfg.value_lists);
                    kept += 1;
                }
            }
            let mut old = std::mem::replace(&mut func.dfg.blocks[b].params, new);
            old.clear(&mut func.dfg.value_lists);
            self.scratch = params;
        }
    }
}

/// Inserts `ty.const 0` at the start of `block` and returns its value.
fn zero_at_start(func: &mut Function, block: Block, ty: Type) -> Value {
    let inst = func.dfg.make_inst(InstData::Const { ty, bits: 0 });
    let v = func.dfg.append_result(inst, ty);
    func.dfg.blocks[block].insts.insert(0, inst);
    v
}

/// Calls `f` with each branch destination of `inst`, mutably.
fn for_each_dest_mut(
    func: &mut Function,
    inst: Inst,
    f: impl FnMut(&mut BlockCall, &mut ListPool<Value>),
) {
    let dfg = &mut func.dfg;
    for_each_dest_parts(
        &mut dfg.insts[inst],
        &mut dfg.jump_tables,
        &mut dfg.value_lists,
        f,
    );
}

/// [`for_each_dest_mut`] on the parts of a data-flow graph. A `br_table` whose jump table
/// does not exist has no destinations.
fn for_each_dest_parts(
    data: &mut InstData,
    jump_tables: &mut PrimaryMap<JumpTable, JumpTableData>,
    pool: &mut ListPool<Value>,
    mut f: impl FnMut(&mut BlockCall, &mut ListPool<Value>),
) {
    match data {
        InstData::Jump { dest } => f(dest, pool),
        InstData::BrIf {
            then_dest,
            else_dest,
            ..
        } => {
            f(then_dest, pool);
            f(else_dest, pool);
        }
        InstData::BrTable { table, .. } => {
            if let Some(jt) = jump_tables.get_mut(*table) {
                for dest in &mut jt.targets {
                    f(dest, pool);
                }
                f(&mut jt.default, pool);
            }
        }
        _ => {}
    }
}
