//! Function bodies: the data-flow graph (instructions, values, blocks) and the block order.
//!
//! Invariants kept by the parser and the builder (and checked by the verifier where a
//! frontend could break them): every value has one definition, either a block parameter or
//! an instruction result; instruction results are created from [`inst_result_types`]; a
//! block in `layout` appears once. Entities may have gaps: the parser keeps the numbers of
//! the text (`v7` is `Value` 7), so unused entities exist with [`ValueDef::None`] and are
//! never in the layout.

use cranelift_entity::{ListPool, PrimaryMap, SecondaryMap};

use super::entities::*;
use super::instructions::*;
use super::module::Decls;
use super::types::Type;

/// A position in a source file, 1-based; `line == 0` means unknown (built, not parsed).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default, PartialOrd, Ord)]
pub struct Loc {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, in characters.
    pub col: u32,
}

impl Loc {
    /// Whether the location is known.
    pub fn is_known(self) -> bool {
        self.line != 0
    }
}

/// Parameter and result types of a function.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Signature {
    /// Parameter types.
    pub params: Vec<Type>,
    /// Result types (several allowed).
    pub results: Vec<Type>,
}

/// Where a value comes from.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum ValueDef {
    /// The `n`th parameter of a block.
    Param(Block, u32),
    /// The `n`th result of an instruction.
    Result(Inst, u32),
    /// Not defined: a gap in the numbering, or a value the text used but never defined.
    None,
}

/// A value's type and definition.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct ValueData {
    /// The type.
    pub ty: Type,
    /// The definition.
    pub def: ValueDef,
}

/// A basic block: parameters and instructions in order.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct BlockData {
    /// Parameters, in the value-list pool.
    pub params: ValueList,
    /// Instructions in order; the last one is the terminator.
    pub insts: Vec<Inst>,
}

/// A stack slot: `size` bytes of the frame, aligned to `align`.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct StackSlotData {
    /// Size in bytes.
    pub size: u32,
    /// Alignment in bytes (a power of two).
    pub align: u32,
}

/// The data-flow graph of one function.
#[derive(Clone, Default)]
pub struct DataFlowGraph {
    /// Instructions.
    pub insts: PrimaryMap<Inst, InstData>,
    /// Results of each instruction, in the value-list pool.
    pub results: SecondaryMap<Inst, ValueList>,
    /// Values.
    pub values: PrimaryMap<Value, ValueData>,
    /// Blocks (in the layout or not).
    pub blocks: PrimaryMap<Block, BlockData>,
    /// Pool of every variable-length value list of this function.
    pub value_lists: ListPool<Value>,
    /// `br_table` target lists.
    pub jump_tables: PrimaryMap<JumpTable, JumpTableData>,
    /// Signatures of `call_indirect`.
    pub sigs: PrimaryMap<SigRef, Signature>,
}

/// A function body: data-flow graph, block order, stack slots and source locations.
#[derive(Clone, Default)]
pub struct Function {
    /// Instructions and values.
    pub dfg: DataFlowGraph,
    /// Blocks in order; the first is the entry, whose parameters are the function's.
    pub layout: Vec<Block>,
    /// Stack slots.
    pub stack_slots: PrimaryMap<StackSlot, StackSlotData>,
    /// Source location of each instruction (parsed functions only).
    pub inst_locs: SecondaryMap<Inst, Loc>,
    /// Source location of each block header (parsed functions only).
    pub block_locs: SecondaryMap<Block, Loc>,
    /// Source location of each stack slot declaration (parsed functions only).
    pub slot_locs: SecondaryMap<StackSlot, Loc>,
}

impl DataFlowGraph {
    /// Creates an empty block (not yet in any layout).
    pub fn make_block(&mut self) -> Block {
        self.blocks.push(BlockData::default())
    }

    /// Appends a parameter of type `ty` to `block`.
    pub fn append_block_param(&mut self, block: Block, ty: Type) -> Value {
        let n = self.blocks[block].params.len(&self.value_lists) as u32;
        let v = self.values.push(ValueData {
            ty,
            def: ValueDef::Param(block, n),
        });
        self.blocks[block].params.push(v, &mut self.value_lists);
        v
    }

    /// Creates an instruction with no results yet.
    pub fn make_inst(&mut self, data: InstData) -> Inst {
        self.insts.push(data)
    }

    /// Appends a result of type `ty` to `inst`.
    pub fn append_result(&mut self, inst: Inst, ty: Type) -> Value {
        let n = self.results[inst].len(&self.value_lists) as u32;
        let v = self.values.push(ValueData {
            ty,
            def: ValueDef::Result(inst, n),
        });
        self.results[inst].push(v, &mut self.value_lists);
        v
    }

    /// A list in the pool holding `values`.
    pub fn make_value_list(&mut self, values: &[Value]) -> ValueList {
        ValueList::from_slice(values, &mut self.value_lists)
    }

    /// The values of a list.
    pub fn list(&self, list: ValueList) -> &[Value] {
        list.as_slice(&self.value_lists)
    }

    /// Parameters of `block`.
    pub fn block_params(&self, block: Block) -> &[Value] {
        self.blocks[block].params.as_slice(&self.value_lists)
    }

    /// Results of `inst`.
    pub fn inst_results(&self, inst: Inst) -> &[Value] {
        self.results[inst].as_slice(&self.value_lists)
    }

    /// Type of `value`.
    pub fn value_type(&self, value: Value) -> Type {
        self.values[value].ty
    }

    /// Calls `f` with each value the instruction reads, in operand order, the arguments of
    /// its branch destinations included.
    pub fn for_each_arg(&self, inst: Inst, mut f: impl FnMut(Value)) {
        match self.insts[inst] {
            InstData::Const { .. }
            | InstData::MemorySize
            | InstData::GlobalGet { .. }
            | InstData::DataAddr { .. }
            | InstData::TlsAddr { .. }
            | InstData::FuncAddr { .. }
            | InstData::StackAddr { .. }
            | InstData::EnumConst { .. }
            | InstData::Unreachable => {}
            InstData::Unary { arg, .. }
            | InstData::Convert { arg, .. }
            | InstData::MemoryGrow { arg }
            | InstData::GlobalSet { arg, .. }
            | InstData::TagName { arg, .. } => f(arg),
            InstData::Load { addr, .. } => f(addr),
            InstData::Binary { args, .. } | InstData::Store { args, .. } => {
                args.into_iter().for_each(f)
            }
            InstData::Select { args }
            | InstData::MemoryCopy { args }
            | InstData::MemoryFill { args } => args.into_iter().for_each(f),
            InstData::Call { args, .. }
            | InstData::Intrinsic { args, .. }
            | InstData::Return { args } => self.list(args).iter().copied().for_each(f),
            InstData::CallIndirect { callee, args, .. } => {
                f(callee);
                self.list(args).iter().copied().for_each(f);
            }
            InstData::Jump { dest } => self.list(dest.args).iter().copied().for_each(f),
            InstData::BrIf {
                cond,
                then_dest,
                else_dest,
            } => {
                f(cond);
                self.list(then_dest.args).iter().copied().for_each(&mut f);
                self.list(else_dest.args).iter().copied().for_each(f);
            }
            InstData::BrTable { index, table } => {
                f(index);
                let jt = &self.jump_tables[table];
                for dest in jt.targets.iter().chain(std::iter::once(&jt.default)) {
                    self.list(dest.args).iter().copied().for_each(&mut f);
                }
            }
        }
    }

    /// The mutable counterpart of [`Self::for_each_arg`] for instruction data held outside
    /// the graph: calls `f` with each value `data` reads, branch arguments included, in
    /// the same order, so that it may replace it. Value lists and the jump table are
    /// rewritten in this graph's pools; with `unshare`, each of them is first copied (a
    /// new list, a new jump table), so that data copied from another instruction can be
    /// rewritten without changing the original's operands.
    pub fn for_each_arg_mut(
        &mut self,
        data: &mut InstData,
        unshare: bool,
        mut f: impl FnMut(&mut Value),
    ) {
        fn list(
            l: &mut ValueList,
            pool: &mut ListPool<Value>,
            unshare: bool,
            f: &mut impl FnMut(&mut Value),
        ) {
            if unshare {
                let values = l.as_slice(pool).to_vec();
                *l = ValueList::from_slice(&values, pool);
            }
            l.as_mut_slice(pool).iter_mut().for_each(f);
        }
        let pool = &mut self.value_lists;
        match data {
            InstData::Const { .. }
            | InstData::MemorySize
            | InstData::GlobalGet { .. }
            | InstData::DataAddr { .. }
            | InstData::TlsAddr { .. }
            | InstData::FuncAddr { .. }
            | InstData::StackAddr { .. }
            | InstData::EnumConst { .. }
            | InstData::Unreachable => {}
            InstData::Unary { arg, .. }
            | InstData::Convert { arg, .. }
            | InstData::MemoryGrow { arg }
            | InstData::GlobalSet { arg, .. }
            | InstData::TagName { arg, .. } => f(arg),
            InstData::Load { addr, .. } => f(addr),
            InstData::Binary { args, .. } | InstData::Store { args, .. } => {
                args.iter_mut().for_each(f)
            }
            InstData::Select { args }
            | InstData::MemoryCopy { args }
            | InstData::MemoryFill { args } => args.iter_mut().for_each(f),
            InstData::Call { args, .. }
            | InstData::Intrinsic { args, .. }
            | InstData::Return { args } => list(args, pool, unshare, &mut f),
            InstData::CallIndirect { callee, args, .. } => {
                f(callee);
                list(args, pool, unshare, &mut f);
            }
            InstData::Jump { dest } => list(&mut dest.args, pool, unshare, &mut f),
            InstData::BrIf {
                cond,
                then_dest,
                else_dest,
            } => {
                f(cond);
                list(&mut then_dest.args, pool, unshare, &mut f);
                list(&mut else_dest.args, pool, unshare, &mut f);
            }
            InstData::BrTable { index, table } => {
                f(index);
                if unshare && let Some(jt) = self.jump_tables.get(*table).cloned() {
                    *table = self.jump_tables.push(jt);
                }
                if let Some(jt) = self.jump_tables.get_mut(*table) {
                    for dest in jt
                        .targets
                        .iter_mut()
                        .chain(std::iter::once(&mut jt.default))
                    {
                        list(&mut dest.args, pool, unshare, &mut f);
                    }
                }
            }
        }
    }

    /// Calls `f` with each branch destination of `inst` (none for non-branches), in order:
    /// `then` before `else`, table targets before the default.
    pub fn for_each_dest(&self, inst: Inst, mut f: impl FnMut(&BlockCall)) {
        match &self.insts[inst] {
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
                let jt = &self.jump_tables[*table];
                jt.targets.iter().for_each(&mut f);
                f(&jt.default);
            }
            _ => {}
        }
    }

    /// The destination blocks of `inst`, in the order of [`Self::for_each_dest`].
    pub fn successors(&self, inst: Inst) -> Vec<Block> {
        let mut out = Vec::new();
        self.for_each_dest(inst, |d| out.push(d.block));
        out
    }
}

impl Function {
    /// The entry block, if the function has any block.
    pub fn entry(&self) -> Option<Block> {
        self.layout.first().copied()
    }

    /// The terminator of `block`, if its last instruction is one.
    pub fn terminator(&self, block: Block) -> Option<Inst> {
        let last = *self.dfg.blocks[block].insts.last()?;
        self.dfg.insts[last].is_terminator().then_some(last)
    }
}

/// Computes the result types of an instruction into `out` (cleared first).
///
/// `decls` are the module's declarations and `dfg` the data-flow graph the instruction
/// belongs to (for `call_indirect` signatures and the operand type of `select`). An
/// instruction that refers to nothing valid yields no results; the verifier reports it.
pub fn inst_result_types(decls: &Decls, dfg: &DataFlowGraph, data: &InstData, out: &mut Vec<Type>) {
    out.clear();
    match *data {
        InstData::Const { ty, .. } => out.push(ty),
        InstData::Unary { op, ty, .. } => out.push(op.result_type(ty)),
        InstData::Binary { op, ty, .. } => out.push(op.result_type(ty)),
        InstData::Convert { op, .. } => out.push(op.to()),
        InstData::Select { args } => {
            out.push(dfg.values.get(args[1]).map_or(Type::I32, |v| v.ty));
        }
        InstData::Load { ty, .. } => out.push(ty),
        InstData::MemorySize | InstData::MemoryGrow { .. } => out.push(Type::Ptr),
        InstData::GlobalGet { global } => {
            if let Some(g) = decls.globals.get(global) {
                out.push(g.ty);
            }
        }
        InstData::DataAddr { .. }
        | InstData::TlsAddr { .. }
        | InstData::FuncAddr { .. }
        | InstData::StackAddr { .. } => out.push(Type::Ptr),
        InstData::Call { func, .. } => {
            if let Some(decl) = decls.funcs.get(func) {
                out.extend_from_slice(&decl.sig.results);
            }
        }
        InstData::CallIndirect { sig, .. } => {
            if let Some(sig) = dfg.sigs.get(sig) {
                out.extend_from_slice(&sig.results);
            }
        }
        InstData::Intrinsic { intrinsic, .. } => out.extend_from_slice(intrinsic.results()),
        InstData::TagName { .. } => out.extend_from_slice(&[Type::Ptr, Type::Ptr]),
        InstData::EnumConst { enum_ref, .. } => {
            if let Some(e) = decls.enums.get(enum_ref) {
                out.push(e.tag.value_type());
            }
        }
        InstData::Store { .. }
        | InstData::MemoryCopy { .. }
        | InstData::MemoryFill { .. }
        | InstData::GlobalSet { .. }
        | InstData::Jump { .. }
        | InstData::BrIf { .. }
        | InstData::BrTable { .. }
        | InstData::Return { .. }
        | InstData::Unreachable => {}
    }
}
