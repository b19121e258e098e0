//! Function-level checks: layout, block structure, definitions, operand types, references,
//! block arguments and dominance of uses.
//!
//! The checker runs in passes over the layout, each linear:
//! 1. place blocks (layout position) and instructions (block and position), reporting
//!    missing, duplicated and misplaced entities, empty blocks and terminators;
//! 2. record definitions: block parameters and instruction results whose `ValueDef` points
//!    back at them; count results against [`inst_result_types`];
//! 3. build the control-flow graph and the dominator tree ([`DomTree`]);
//! 4. check every instruction: opcode validity, references, operand types, and each use
//!    (defined, and dominated by its definition when the using block is reachable).
//!
//! Value lists live in a [`ListPool`] whose contents are private to `cranelift_entity`, and
//! `EntityList::as_slice` indexes the pool without a bounds check, so a list taken from
//! another function's pool could panic. [`Lists`] learns the pool's length and each list's
//! start through their `Hash` implementations (a hasher that records what it is fed) and
//! reads a list only when it lies inside the pool.

use std::hash::{Hash, Hasher};

use cranelift_entity::{EntityRef, ListPool};

use crate::error::Diagnostic;
use crate::ir::{
    Block, BlockCall, FuncDecl, FuncRef, Function, Inst, InstData, Module, Type, Value, ValueDef,
    ValueList, inst_result_types,
};

use super::dom::DomTree;
use super::{check_align, items::fits};

/// Checks the body of every defined function.
pub(super) fn check_all(module: &Module, errors: &mut Vec<Diagnostic>) {
    let mut scratch = Scratch::default();
    for (fref, decl) in module.decls.funcs.iter() {
        let func = &module.bodies[fref];
        // Extern functions and empty bodies are reported with the declarations.
        if decl.linkage.is_extern() || func.layout.is_empty() {
            continue;
        }
        let mut checker = Checker {
            module,
            fref,
            decl,
            func,
            lists: Lists::new(&func.dfg.value_lists),
            errors,
            s: &mut scratch,
        };
        checker.run();
    }
}

/// Per-function tables, reused across functions. Positions are stored plus one, so that 0
/// means "not placed".
#[derive(Default)]
struct Scratch {
    /// Layout position + 1 of each block (first occurrence).
    block_node: Vec<u32>,
    /// Layout position + 1 of the block holding each instruction.
    inst_node: Vec<u32>,
    /// Position of each instruction in its block.
    inst_pos: Vec<u32>,
    /// Whether each value has a definition in the body that agrees with its `ValueDef`.
    defined: Vec<bool>,
    /// Whether each layout position holds a valid block (not missing, not a duplicate).
    node_ok: Vec<bool>,
    /// Control-flow graph: successor list starts per node, and targets.
    succ_starts: Vec<u32>,
    /// Successor targets.
    succs: Vec<u32>,
    /// Dominators.
    dom: DomTree,
    /// Result types of the instruction at hand.
    types: Vec<Type>,
}

/// Bounds-checked access to a function's value lists.
pub(super) struct Lists<'a> {
    /// The pool.
    pool: &'a ListPool<Value>,
    /// Number of elements in the pool.
    len: usize,
}

/// A hasher that records the first `u32` and the first `usize` it is given.
#[derive(Default)]
struct Probe {
    /// First `write_u32`.
    first_u32: Option<u32>,
    /// First `write_usize` (a slice's length prefix).
    first_usize: Option<usize>,
}

impl Hasher for Probe {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, _bytes: &[u8]) {}

    fn write_u32(&mut self, n: u32) {
        self.first_u32.get_or_insert(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.first_usize.get_or_insert(n);
    }
}

impl<'a> Lists<'a> {
    /// Measures `pool`.
    pub(super) fn new(pool: &'a ListPool<Value>) -> Lists<'a> {
        let mut probe = Probe::default();
        pool.hash(&mut probe);
        Lists {
            pool,
            len: probe.first_usize.unwrap_or(0),
        }
    }

    /// The values of `list`, or `None` if it does not lie inside the pool.
    pub(super) fn get(&self, list: ValueList) -> Option<&'a [Value]> {
        let len = list.len(self.pool);
        if len == 0 {
            return Some(&[]);
        }
        let mut probe = Probe::default();
        list.hash(&mut probe);
        let start = probe.first_u32? as usize;
        let end = start.checked_add(len)?;
        (end <= self.len).then(|| list.as_slice(self.pool))
    }
}

/// Where a use happens: the instruction, its block and layout position, its position.
#[derive(Copy, Clone)]
struct At {
    /// The block.
    block: Block,
    /// Layout position of the block.
    node: usize,
    /// The instruction.
    inst: Inst,
    /// Position of the instruction in the block.
    pos: u32,
}

/// The checker of one function.
struct Checker<'a, 'e> {
    /// The module.
    module: &'a Module,
    /// The function's reference.
    fref: FuncRef,
    /// Its declaration.
    decl: &'a FuncDecl,
    /// Its body.
    func: &'a Function,
    /// Its value lists.
    lists: Lists<'a>,
    /// Where problems go.
    errors: &'e mut Vec<Diagnostic>,
    /// Reused tables.
    s: &'e mut Scratch,
}

impl<'a> Checker<'a, '_> {
    /// Runs every pass.
    fn run(&mut self) {
        self.check_slots();
        self.place();
        self.define();
        self.check_entry();
        self.build_cfg();
        self.check_insts();
    }

    // ---- reporting ----

    /// A problem with the function as a whole.
    fn report_func(&mut self, msg: String) {
        let d = Diagnostic::new(self.decl.loc, msg)
            .with_note(format!("in function @{}", self.decl.name));
        self.errors.push(d);
    }

    /// The location of a block header, or of the function if unknown.
    fn block_loc(&self, block: Block) -> crate::ir::Loc {
        let loc = self.func.block_locs[block];
        if loc.is_known() { loc } else { self.decl.loc }
    }

    /// A problem with a block.
    fn report_block(&mut self, block: Block, msg: String) {
        let d = Diagnostic::new(self.block_loc(block), msg)
            .with_note(format!("in function @{}, {block}", self.decl.name));
        self.errors.push(d);
    }

    /// A problem with an instruction.
    fn report_inst(&mut self, block: Block, inst: Inst, msg: String) {
        let loc = self.func.inst_locs[inst];
        let loc = if loc.is_known() {
            loc
        } else {
            self.block_loc(block)
        };
        let mut d = Diagnostic::new(loc, msg)
            .with_note(format!("in function @{}, {block}", self.decl.name));
        if let Some(data) = self.func.dfg.insts.get(inst) {
            d = d.with_note(inst_text(self.module, self.fref, inst, data));
        }
        self.errors.push(d);
    }

    // ---- pass 0: stack slots ----

    /// Stack slot alignment.
    fn check_slots(&mut self) {
        for (ss, slot) in self.func.stack_slots.iter() {
            if let Some(msg) = check_align(slot.align) {
                let loc = self.func.slot_locs[ss];
                let loc = if loc.is_known() { loc } else { self.decl.loc };
                let d = Diagnostic::new(loc, format!("stack slot {ss}: {msg}"))
                    .with_note(format!("in function @{}", self.decl.name));
                self.errors.push(d);
            }
        }
    }

    // ---- pass 1: placement ----

    /// Places blocks and instructions; reports layout and block-structure problems.
    fn place(&mut self) {
        let func = self.func;
        let dfg = &func.dfg;
        let s = &mut *self.s;
        s.block_node.clear();
        s.block_node.resize(dfg.blocks.len(), 0);
        s.inst_node.clear();
        s.inst_node.resize(dfg.insts.len(), 0);
        s.inst_pos.clear();
        s.inst_pos.resize(dfg.insts.len(), 0);
        s.node_ok.clear();
        s.node_ok.resize(func.layout.len(), false);

        for (node, &block) in func.layout.iter().enumerate() {
            match self.s.block_node.get(block.index()).copied() {
                None => self.report_func(format!(
                    "the layout lists {block}, which does not exist (the function has {} blocks)",
                    dfg.blocks.len()
                )),
                Some(0) => {
                    self.s.block_node[block.index()] = node as u32 + 1;
                    self.s.node_ok[node] = true;
                }
                Some(_) => self.report_block(block, format!("{block} appears twice in the layout")),
            }
        }

        for (node, &block) in func.layout.iter().enumerate() {
            if !self.s.node_ok[node] {
                continue;
            }
            let insts = &dfg.blocks[block].insts;
            if insts.is_empty() {
                self.report_block(block, format!("{block} is empty"));
                continue;
            }
            let last = insts.len() - 1;
            for (pos, &inst) in insts.iter().enumerate() {
                let Some(data) = dfg.insts.get(inst) else {
                    self.report_block(block, format!("{block} lists {inst}, which does not exist"));
                    continue;
                };
                if self.s.inst_node[inst.index()] != 0 {
                    self.report_inst(
                        block,
                        inst,
                        format!("{inst} is placed in the layout more than once"),
                    );
                    continue;
                }
                self.s.inst_node[inst.index()] = node as u32 + 1;
                self.s.inst_pos[inst.index()] = pos as u32;
                if data.is_terminator() && pos != last {
                    let name = opname(self.module, data);
                    self.report_inst(
                        block,
                        inst,
                        format!("terminator {name} is not the last instruction of {block}"),
                    );
                }
            }
            let ends = dfg
                .insts
                .get(insts[last])
                .is_some_and(InstData::is_terminator);
            if !ends {
                self.report_block(block, format!("{block} does not end with a terminator"));
            }
        }
    }

    /// Whether `inst` is placed at `pos` of layout position `node` (its first placement).
    fn placed_here(&self, inst: Inst, node: usize, pos: usize) -> bool {
        self.s.inst_node.get(inst.index()).copied() == Some(node as u32 + 1)
            && self.s.inst_pos.get(inst.index()).copied() == Some(pos as u32)
    }

    // ---- pass 2: definitions ----

    /// Records block parameters and instruction results; checks result counts and types.
    fn define(&mut self) {
        let func = self.func;
        let dfg = &func.dfg;
        self.s.defined.clear();
        self.s.defined.resize(dfg.values.len(), false);
        for (node, &block) in func.layout.iter().enumerate() {
            if !self.s.node_ok[node] {
                continue;
            }
            let bd = &dfg.blocks[block];
            match self.lists.get(bd.params) {
                None => self.report_block(
                    block,
                    format!("the parameter list of {block} is not a valid value list"),
                ),
                Some(params) => {
                    for (k, &v) in params.iter().enumerate() {
                        self.define_value(v, ValueDef::Param(block, k as u32), None, |me, msg| {
                            me.report_block(block, msg)
                        });
                    }
                }
            }
            for (pos, &inst) in bd.insts.iter().enumerate() {
                if !self.placed_here(inst, node, pos) {
                    continue;
                }
                let Some(data) = dfg.insts.get(inst) else {
                    continue;
                };
                let mut types = std::mem::take(&mut self.s.types);
                inst_result_types(&self.module.decls, dfg, data, &mut types);
                let Some(results) = self.lists.get(dfg.results[inst]) else {
                    self.report_inst(
                        block,
                        inst,
                        format!("the result list of {inst} is not a valid value list"),
                    );
                    self.s.types = types;
                    continue;
                };
                if refs_resolve(self.module, func, data) && results.len() != types.len() {
                    let name = opname(self.module, data);
                    self.report_inst(
                        block,
                        inst,
                        format!(
                            "wrong number of results: {name} produces {}, {} written",
                            types.len(),
                            results.len()
                        ),
                    );
                }
                for (k, &v) in results.iter().enumerate() {
                    let expected = types.get(k).copied();
                    self.define_value(v, ValueDef::Result(inst, k as u32), expected, |me, msg| {
                        me.report_inst(block, inst, msg)
                    });
                }
                self.s.types = types;
            }
        }
    }

    /// Records that `v` is defined as `def`, if its `ValueDef` agrees; checks its type.
    fn define_value(
        &mut self,
        v: Value,
        def: ValueDef,
        expected: Option<Type>,
        report: impl FnOnce(&mut Self, String),
    ) {
        let what = match def {
            ValueDef::Param(b, _) => format!("a parameter of {b}"),
            _ => "a result".to_string(),
        };
        let Some(vd) = self.func.dfg.values.get(v) else {
            report(self, format!("{v}, {what}, does not exist"));
            return;
        };
        if vd.def != def {
            let msg = match vd.def {
                ValueDef::None => format!("{v} is {what} but is recorded as undefined"),
                _ if self.s.defined.get(v.index()).copied() == Some(true) => {
                    format!("{v} is defined more than once")
                }
                other => format!("{v} is {what} but is recorded as defined by {other:?}"),
            };
            report(self, msg);
            return;
        }
        if let Some(t) = expected
            && !vd.ty.same_as(t)
        {
            report(
                self,
                format!("type mismatch: result {v} is {}, expected {t}", vd.ty),
            );
        }
        if let Some(slot) = self.s.defined.get_mut(v.index()) {
            *slot = true;
        }
    }

    /// The entry block's parameters against the signature.
    fn check_entry(&mut self) {
        let Some(&entry) = self.func.layout.first() else {
            return;
        };
        if self.s.node_ok.first() != Some(&true) {
            return;
        }
        let Some(params) = self.lists.get(self.func.dfg.blocks[entry].params) else {
            return;
        };
        let sig = &self.decl.sig.params;
        if params.len() != sig.len() {
            self.report_block(
                entry,
                format!(
                    "entry block has {} parameter{}, but @{} takes {}",
                    params.len(),
                    plural(params.len()),
                    self.decl.name,
                    sig.len()
                ),
            );
            return;
        }
        for (k, (&v, &t)) in params.iter().zip(sig).enumerate() {
            if let Some(vd) = self.func.dfg.values.get(v)
                && !vd.ty.same_as(t)
            {
                self.report_block(
                    entry,
                    format!(
                        "type mismatch: entry block parameter {} ({v}) is {}, but @{} takes {t}",
                        k + 1,
                        vd.ty,
                        self.decl.name
                    ),
                );
            }
        }
    }

    // ---- pass 3: control flow ----

    /// Calls `f` with each destination of a branch instruction that resolves.
    fn for_each_dest(&self, data: &InstData, mut f: impl FnMut(&BlockCall)) {
        match data {
            InstData::Jump { dest } => f(dest),
            InstData::BrIf {
                then_dest,
                else_dest,
                ..
            } => {
                f(then_dest);
                f(else_dest);
            }
            InstData::BrTable { table, .. } => {
                if let Some(jt) = self.func.dfg.jump_tables.get(*table) {
                    jt.targets.iter().for_each(&mut f);
                    f(&jt.default);
                }
            }
            _ => {}
        }
    }

    /// The layout position of `block`, if it is in the layout.
    fn node_of(&self, block: Block) -> Option<usize> {
        match self.s.block_node.get(block.index()) {
            Some(&n) if n != 0 => Some(n as usize - 1),
            _ => None,
        }
    }

    /// Builds successor lists from the terminators and computes dominators.
    fn build_cfg(&mut self) {
        let func = self.func;
        let mut starts = std::mem::take(&mut self.s.succ_starts);
        let mut succs = std::mem::take(&mut self.s.succs);
        starts.clear();
        succs.clear();
        starts.push(0);
        for (node, &block) in func.layout.iter().enumerate() {
            if self.s.node_ok[node]
                && let Some(&last) = func.dfg.blocks[block].insts.last()
                && self.placed_here(last, node, func.dfg.blocks[block].insts.len() - 1)
                && let Some(data) = func.dfg.insts.get(last)
            {
                self.for_each_dest(data, |dest| {
                    if let Some(n) = self.node_of(dest.block) {
                        succs.push(n as u32);
                    }
                });
            }
            starts.push(succs.len() as u32);
        }
        self.s.dom.compute(func.layout.len(), &starts, &succs);
        self.s.succ_starts = starts;
        self.s.succs = succs;
    }

    // ---- pass 4: instructions ----

    /// Checks every placed instruction.
    fn check_insts(&mut self) {
        let func = self.func;
        for (node, &block) in func.layout.iter().enumerate() {
            if !self.s.node_ok[node] {
                continue;
            }
            for (pos, &inst) in func.dfg.blocks[block].insts.iter().enumerate() {
                if !self.placed_here(inst, node, pos) {
                    continue;
                }
                if let Some(data) = func.dfg.insts.get(inst) {
                    let at = At {
                        block,
                        node,
                        inst,
                        pos: pos as u32,
                    };
                    self.check_inst(at, data);
                }
            }
        }
    }

    /// A use of `v` at `at`: reports it if undefined or not dominated; returns its type when
    /// it is defined.
    fn use_value(&mut self, at: At, v: Value) -> Option<Type> {
        let Some(vd) = self.func.dfg.values.get(v) else {
            self.report_inst(
                at.block,
                at.inst,
                format!(
                    "use of invalid value {v} (the function has {} values)",
                    self.func.dfg.values.len()
                ),
            );
            return None;
        };
        let def_node = match vd.def {
            ValueDef::None => {
                self.report_inst(at.block, at.inst, format!("use of undefined value {v}"));
                return None;
            }
            _ if self.s.defined.get(v.index()) != Some(&true) => {
                let msg = match vd.def {
                    ValueDef::Param(b, _) => {
                        format!("use of {v}, a parameter of {b}, which is not in the layout")
                    }
                    ValueDef::Result(i, _) => {
                        format!("use of {v}, a result of {i}, which is not in the layout")
                    }
                    ValueDef::None => format!("use of undefined value {v}"),
                };
                self.report_inst(at.block, at.inst, msg);
                return None;
            }
            ValueDef::Param(b, _) => self.node_of(b),
            ValueDef::Result(i, _) => {
                let node = self.s.inst_node.get(i.index()).copied().unwrap_or(0);
                let pos = self.s.inst_pos.get(i.index()).copied().unwrap_or(0);
                if node as usize == at.node + 1 && pos >= at.pos {
                    self.report_inst(
                        at.block,
                        at.inst,
                        format!("{v} is used before its definition"),
                    );
                    return Some(vd.ty);
                }
                node.checked_sub(1).map(|n| n as usize)
            }
        };
        if let Some(def_node) = def_node
            && self.s.dom.is_reachable(at.node)
            && !self.s.dom.dominates(def_node, at.node)
        {
            let def_block = self.func.layout.get(def_node).copied();
            let where_ = def_block.map_or(String::new(), |b| format!(" in {b}"));
            self.report_inst(
                at.block,
                at.inst,
                format!("use of {v} is not dominated by its definition{where_}"),
            );
        }
        Some(vd.ty)
    }

    /// A use of `v` that must have type `expected`; `role` names the operand for messages.
    fn typed(&mut self, at: At, v: Value, expected: Type, role: impl FnOnce() -> String) {
        if let Some(t) = self.use_value(at, v)
            && !t.same_as(expected)
        {
            self.report_inst(
                at.block,
                at.inst,
                format!("type mismatch: {} {v} is {t}, expected {expected}", role()),
            );
        }
    }

    /// Reads a value list, reporting it if it is not valid.
    fn list(&mut self, at: At, list: ValueList) -> Option<&'a [Value]> {
        let values = self.lists.get(list);
        if values.is_none() {
            self.report_inst(
                at.block,
                at.inst,
                "an operand list is not a valid value list".to_string(),
            );
        }
        values
    }

    /// Arguments against parameter types: count, then each type.
    fn args(&mut self, at: At, args: &[Value], params: &[Type], callee: &str) {
        if args.len() != params.len() {
            self.report_inst(
                at.block,
                at.inst,
                format!(
                    "wrong number of arguments to {callee}: {} given, {} expected",
                    args.len(),
                    params.len()
                ),
            );
        }
        for (k, &v) in args.iter().enumerate() {
            match params.get(k) {
                Some(&t) => self.typed(at, v, t, || format!("argument {} of {callee}", k + 1)),
                None => {
                    self.use_value(at, v);
                }
            }
        }
    }

    /// A branch destination: the target exists and is in the layout, arguments match.
    fn block_call(&mut self, at: At, dest: &BlockCall) {
        let Some(args) = self.list(at, dest.args) else {
            return;
        };
        let target = dest.block;
        let params = match self.func.dfg.blocks.get(target) {
            None => {
                self.report_inst(
                    at.block,
                    at.inst,
                    format!("branch to {target}, which does not exist"),
                );
                None
            }
            Some(_) if self.node_of(target).is_none() => {
                self.report_inst(
                    at.block,
                    at.inst,
                    format!("branch to {target}, which is not in the layout"),
                );
                None
            }
            Some(bd) => self.lists.get(bd.params),
        };
        let Some(params) = params else {
            for &v in args {
                self.use_value(at, v);
            }
            return;
        };
        if args.len() != params.len() {
            self.report_inst(
                at.block,
                at.inst,
                format!(
                    "wrong number of arguments to {target}: {} given, {} expected",
                    args.len(),
                    params.len()
                ),
            );
        }
        for (k, &v) in args.iter().enumerate() {
            let ty = params
                .get(k)
                .and_then(|&p| self.func.dfg.values.get(p))
                .map(|d| d.ty);
            match ty {
                Some(t) => self.typed(at, v, t, || format!("argument {} of {target}", k + 1)),
                None => {
                    self.use_value(at, v);
                }
            }
        }
    }

    /// Alignment of a memory access of `width` bytes.
    fn memarg(&mut self, at: At, align: u32, width: u32) {
        if align == 0 {
            return;
        }
        let msg = if !align.is_power_of_two() {
            format!("alignment {align} is not a power of two")
        } else if align > width {
            format!("alignment {align} is larger than the access width ({width} bytes)")
        } else {
            return;
        };
        self.report_inst(at.block, at.inst, msg);
    }

    /// Reports an invalid opcode (an operation that does not exist for its type).
    fn invalid_opcode(&mut self, at: At, data: &InstData) {
        let name = opname(self.module, data);
        self.report_inst(at.block, at.inst, format!("invalid opcode {name}"));
    }

    /// Checks one instruction.
    fn check_inst(&mut self, at: At, data: &InstData) {
        let decls = &self.module.decls;
        let func = self.func;
        let (b, i) = (at.block, at.inst);
        match *data {
            InstData::Const { ty, bits } => {
                if !fits(ty, bits) {
                    self.report_inst(b, i, format!("constant {bits:#x} does not fit in {ty}"));
                }
            }
            InstData::Unary { op, ty, arg } => {
                if !op.valid_for(ty) {
                    self.invalid_opcode(at, data);
                }
                self.typed(at, arg, ty, || "operand".into());
            }
            InstData::Binary { op, ty, args } => {
                if !op.valid_for(ty) {
                    self.invalid_opcode(at, data);
                }
                self.typed(at, args[0], ty, || "operand".into());
                self.typed(at, args[1], ty, || "operand".into());
            }
            InstData::Convert { op, arg } => self.typed(at, arg, op.from(), || "operand".into()),
            InstData::Select { args: [c, x, y] } => {
                self.typed(at, c, Type::I32, || "condition".into());
                let tx = self.use_value(at, x);
                let ty = self.use_value(at, y);
                if let (Some(tx), Some(ty)) = (tx, ty)
                    && !tx.same_as(ty)
                {
                    self.report_inst(
                        b,
                        i,
                        format!("type mismatch: select arms differ: {x} is {tx}, {y} is {ty}"),
                    );
                }
            }
            InstData::Load {
                ty,
                kind,
                addr,
                mem,
            } => {
                if !kind.valid_for(ty) {
                    self.invalid_opcode(at, data);
                }
                self.typed(at, addr, Type::Ptr, || "address".into());
                self.memarg(at, mem.align, kind.bytes(ty));
            }
            InstData::Store {
                ty,
                width,
                args: [addr, value],
                mem,
            } => {
                if !width.valid_for(ty) {
                    self.invalid_opcode(at, data);
                }
                self.typed(at, addr, Type::Ptr, || "address".into());
                self.typed(at, value, ty, || "stored value".into());
                self.memarg(at, mem.align, width.bytes(ty));
            }
            InstData::MemorySize => {}
            InstData::MemoryGrow { arg } => {
                self.typed(at, arg, Type::Ptr, || "page count".into());
            }
            InstData::MemoryCopy { args: [d, s, n] } => {
                self.typed(at, d, Type::Ptr, || "destination".into());
                self.typed(at, s, Type::Ptr, || "source".into());
                self.typed(at, n, Type::Ptr, || "length".into());
            }
            InstData::MemoryFill { args: [d, v, n] } => {
                self.typed(at, d, Type::Ptr, || "destination".into());
                self.typed(at, v, Type::I32, || "byte value".into());
                self.typed(at, n, Type::Ptr, || "length".into());
            }
            InstData::GlobalGet { global } => {
                if decls.globals.get(global).is_none() {
                    self.report_inst(b, i, format!("unknown global {global}"));
                }
            }
            InstData::GlobalSet { global, arg } => match decls.globals.get(global) {
                None => {
                    self.report_inst(b, i, format!("unknown global {global}"));
                    self.use_value(at, arg);
                }
                Some(g) => {
                    if !g.mutable {
                        self.report_inst(
                            b,
                            i,
                            format!("global.set of immutable global @{}", g.name),
                        );
                    }
                    self.typed(at, arg, g.ty, || format!("value for @{}", g.name));
                }
            },
            InstData::DataAddr { data: d, .. } => match decls.data.get(d) {
                None => self.report_inst(b, i, format!("unknown data object {d}")),
                Some(x) if x.section.is_tls() && !x.linkage.is_extern() => self.report_inst(
                    b,
                    i,
                    format!("data_addr of thread-local data @{}; use tls_addr", x.name),
                ),
                Some(_) => {}
            },
            InstData::TlsAddr { data: d, .. } => match decls.data.get(d) {
                None => self.report_inst(b, i, format!("unknown data object {d}")),
                Some(x) if !x.section.is_tls() && !x.linkage.is_extern() => self.report_inst(
                    b,
                    i,
                    format!(
                        "tls_addr of non-thread-local data @{}; use data_addr",
                        x.name
                    ),
                ),
                Some(_) => {}
            },
            InstData::FuncAddr { func: f } => {
                if decls.funcs.get(f).is_none() {
                    self.report_inst(b, i, format!("unknown function {f}"));
                }
            }
            InstData::StackAddr { slot, offset } => match func.stack_slots.get(slot) {
                None => self.report_inst(b, i, format!("unknown stack slot {slot}")),
                Some(s) if offset > s.size => self.report_inst(
                    b,
                    i,
                    format!(
                        "offset {offset} is past the end of {slot} ({} bytes)",
                        s.size
                    ),
                ),
                Some(_) => {}
            },
            InstData::Call { func: f, args } => {
                let Some(args) = self.list(at, args) else {
                    return;
                };
                match decls.funcs.get(f) {
                    None => {
                        self.report_inst(b, i, format!("unknown function {f}"));
                        for &v in args {
                            self.use_value(at, v);
                        }
                    }
                    Some(callee) => {
                        let name = format!("@{}", callee.name);
                        self.args(at, args, &callee.sig.params, &name);
                    }
                }
            }
            InstData::CallIndirect { sig, callee, args } => {
                self.typed(at, callee, Type::Ptr, || "callee".into());
                let Some(args) = self.list(at, args) else {
                    return;
                };
                match func.dfg.sigs.get(sig) {
                    None => {
                        self.report_inst(b, i, format!("unknown signature {sig}"));
                        for &v in args {
                            self.use_value(at, v);
                        }
                    }
                    Some(s) => self.args(at, args, &s.params, "call_indirect"),
                }
            }
            InstData::Intrinsic { intrinsic, args } => {
                if let Some(args) = self.list(at, args) {
                    let name = format!("intrinsic {}", intrinsic.name());
                    self.args(at, args, intrinsic.params(), &name);
                }
            }
            InstData::TagName { enum_ref, arg } => match decls.enums.get(enum_ref) {
                None => {
                    self.report_inst(b, i, format!("unknown enum {enum_ref}"));
                    self.use_value(at, arg);
                }
                Some(e) => {
                    let t = e.tag.value_type();
                    self.typed(at, arg, t, || format!("tag value of %{}", e.name));
                }
            },
            InstData::EnumConst { enum_ref, variant } => match decls.enums.get(enum_ref) {
                None => self.report_inst(b, i, format!("unknown enum {enum_ref}")),
                Some(e) if variant as usize >= e.variants.len() => self.report_inst(
                    b,
                    i,
                    format!(
                        "enum %{} has no variant number {variant} (it has {})",
                        e.name,
                        e.variants.len()
                    ),
                ),
                Some(_) => {}
            },
            InstData::Jump { dest } => self.block_call(at, &dest),
            InstData::BrIf {
                cond,
                then_dest,
                else_dest,
            } => {
                self.typed(at, cond, Type::I32, || "condition".into());
                self.block_call(at, &then_dest);
                self.block_call(at, &else_dest);
            }
            InstData::BrTable { index, table } => {
                self.typed(at, index, Type::I32, || "index".into());
                match func.dfg.jump_tables.get(table) {
                    None => self.report_inst(b, i, format!("unknown jump table {table}")),
                    Some(jt) => {
                        for dest in jt.targets.iter().chain(std::iter::once(&jt.default)) {
                            self.block_call(at, dest);
                        }
                    }
                }
            }
            InstData::Return { args } => {
                let Some(args) = self.list(at, args) else {
                    return;
                };
                let results = &self.decl.sig.results;
                if args.len() != results.len() {
                    self.report_inst(
                        b,
                        i,
                        format!(
                            "wrong number of return values: {} given, @{} returns {}",
                            args.len(),
                            self.decl.name,
                            results.len()
                        ),
                    );
                }
                for (k, &v) in args.iter().enumerate() {
                    match results.get(k) {
                        Some(&t) => self.typed(at, v, t, || format!("return value {}", k + 1)),
                        None => {
                            self.use_value(at, v);
                        }
                    }
                }
            }
            InstData::Unreachable => {}
        }
    }
}

/// Whether the module or function entities an instruction's result types depend on exist.
fn refs_resolve(module: &Module, func: &Function, data: &InstData) -> bool {
    let d = &module.decls;
    match *data {
        InstData::GlobalGet { global } => d.globals.get(global).is_some(),
        InstData::Call { func: f, .. } => d.funcs.get(f).is_some(),
        InstData::CallIndirect { sig, .. } => func.dfg.sigs.get(sig).is_some(),
        InstData::EnumConst { enum_ref, .. } => d.enums.get(enum_ref).is_some(),
        _ => true,
    }
}

/// `s` for counts other than one.
fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The opcode of an instruction as the text format spells it, for messages.
fn opname(module: &Module, data: &InstData) -> String {
    match *data {
        InstData::Const { ty, .. } => format!("{ty}.const"),
        InstData::Unary { op, ty, .. } => format!("{ty}.{}", op.name()),
        InstData::Binary { op, ty, .. } => format!("{ty}.{}", op.name()),
        InstData::Convert { op, .. } => op.name().to_string(),
        InstData::Select { .. } => "select".into(),
        InstData::Load { ty, kind, .. } => format!("{ty}.{}", kind.name()),
        InstData::Store { ty, width, .. } => format!("{ty}.{}", width.name()),
        InstData::MemorySize => "memory.size".into(),
        InstData::MemoryGrow { .. } => "memory.grow".into(),
        InstData::MemoryCopy { .. } => "memory.copy".into(),
        InstData::MemoryFill { .. } => "memory.fill".into(),
        InstData::GlobalGet { .. } => "global.get".into(),
        InstData::GlobalSet { .. } => "global.set".into(),
        InstData::DataAddr { .. } => "data_addr".into(),
        InstData::TlsAddr { .. } => "tls_addr".into(),
        InstData::FuncAddr { .. } => "func_addr".into(),
        InstData::StackAddr { .. } => "stack_addr".into(),
        InstData::Call { func, .. } => match module.decls.funcs.get(func) {
            Some(d) => format!("call @{}", d.name),
            None => format!("call {func}"),
        },
        InstData::CallIndirect { .. } => "call_indirect".into(),
        InstData::Intrinsic { intrinsic, .. } => format!("intrinsic {}", intrinsic.name()),
        InstData::TagName { .. } => "tag_name".into(),
        InstData::EnumConst { .. } => "enum_const".into(),
        InstData::Jump { .. } => "jump".into(),
        InstData::BrIf { .. } => "br_if".into(),
        InstData::BrTable { .. } => "br_table".into(),
        InstData::Return { .. } => "return".into(),
        InstData::Unreachable => "unreachable".into(),
    }
}

/// The instruction as a note.
fn inst_text(_module: &Module, _func: FuncRef, inst: Inst, data: &InstData) -> String {
    format!("{inst}: {data:?}")
}
