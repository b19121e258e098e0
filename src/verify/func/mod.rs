//! Function-level checks: layout, block structure, definitions, operand types, references,
//! block arguments and dominance of uses.
//!
//! The checker runs in passes over the layout, each linear:
//! 1. place blocks (layout position) and instructions (block and position), reporting
//!    missing, duplicated and misplaced entities, empty blocks and terminators;
//! 2. record definitions: block parameters and instruction results whose `ValueDef` points
//!    back at them; count results against [`inst_result_types`];
//! 3. build the control-flow graph and the dominator tree ([`DomTree`]);
//! 4. check every instruction ([`insts`]): opcode validity, references, operand types, and each use
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

use super::check_align;
use super::dom::DomTree;

mod insts;

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
            let printable = self.inst_lists_valid(inst, data);
            d = d.with_note(inst_text(self.module, self.fref, inst, data, printable));
        }
        self.errors.push(d);
    }

    /// Whether every value list of `inst` (results, operands, branch arguments) lies inside
    /// the pool and its jump table, if any, exists.
    fn inst_lists_valid(&self, inst: Inst, data: &InstData) -> bool {
        let ok = |l: ValueList| self.lists.get(l).is_some();
        let dest_ok = |d: &BlockCall| ok(d.args);
        ok(self.func.dfg.results[inst])
            && match data {
                InstData::Call { args, .. }
                | InstData::CallIndirect { args, .. }
                | InstData::Intrinsic { args, .. }
                | InstData::Return { args } => ok(*args),
                InstData::Jump { dest } => dest_ok(dest),
                InstData::BrIf {
                    then_dest,
                    else_dest,
                    ..
                } => dest_ok(then_dest) && dest_ok(else_dest),
                InstData::BrTable { table, .. } => self
                    .func
                    .dfg
                    .jump_tables
                    .get(*table)
                    .is_some_and(|jt| jt.targets.iter().all(dest_ok) && dest_ok(&jt.default)),
                _ => true,
            }
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

/// The instruction as a note. `printable` says whether every value list and jump table it
/// names is valid, so that the printer (which reads lists without bounds checks) can show it.
fn inst_text(
    module: &Module,
    func: FuncRef,
    inst: Inst,
    data: &InstData,
    printable: bool,
) -> String {
    if printable {
        crate::ir::print_inst(module, func, inst)
    } else {
        format!("{inst}: {data:?}")
    }
}
