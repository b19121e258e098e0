//! The function builder: how frontends make IR without writing block parameters by hand.
//!
//! A [`FunctionBuilder`] fills the body of one function of a [`Module`]. The frontend creates
//! blocks, switches between them and appends instructions, one method per instruction family.
//! Instead of block parameters it may use *variables*: [`FunctionBuilder::declare_var`],
//! [`FunctionBuilder::def_var`] and [`FunctionBuilder::use_var`]. The builder turns them into
//! SSA values (Braun et al., "Simple and Efficient Construction of Static Single Assignment
//! Form"), creating block parameters and branch arguments itself, and removes the parameters
//! that turn out trivial, so straight-line and simply nested code gets none. The design follows
//! `cranelift-frontend`.
//!
//! # Sealing
//!
//! A block is *sealed* once all its predecessors are known (every branch to it is inserted).
//! [`FunctionBuilder::seal_block`] says so early, which lets the builder resolve variables
//! without placeholder parameters; [`FunctionBuilder::finalize`] seals whatever is left. A loop
//! header is sealed after its back edges; most other blocks can be sealed when switched to.
//!
//! # Invariants
//!
//! - Every instruction's results are created from [`inst_result_types`], so they match what
//!   the parser would make.
//! - Block parameters the builder creates come after the frontend's own
//!   ([`FunctionBuilder::append_block_param`]): append a block's explicit parameters before
//!   using a variable in it or sealing it, and pass their arguments in every branch to it.
//! - Values returned by [`FunctionBuilder::use_var`] may be parameters that `finalize` later
//!   finds trivial; `finalize` replaces every operand that names one, so frontends may use
//!   them freely. Until `finalize`, the body lives in the builder: the module's body for the
//!   function is replaced when `finalize` runs (and left empty if the builder is dropped).
//! - The construction is iterative: no recursion grows with the number of blocks or the
//!   nesting depth.
//!
//! # Misuse
//!
//! Misuse never panics and never corrupts the function; the builder records a [`Diagnostic`]
//! (without location) and does something harmless, and [`FunctionBuilder::finalize`] returns
//! every recorded diagnostic as an error:
//!
//! - an instruction with no current block, or after the current block's terminator: the
//!   instruction and its results are created but not placed in any block;
//! - a branch to a block that does not exist, to the entry block (its parameters are the
//!   function's, so a variable could not merge there: start loops in a block of their own),
//!   or a `br_table` naming a missing jump table: `unreachable` is inserted instead;
//! - a branch to a block already sealed: the edge gets arguments, but the diagnostic stands
//!   because parameters found trivial before did not see it;
//! - a [`Variable`] that this builder did not declare: `use_var` returns a fresh undefined
//!   value of type `i32`, `def_var` is ignored; `def_var` with a value of another type or
//!   after the block's terminator is ignored too;
//! - a block that is in the layout but has no terminator at `finalize`.
//!
//! # Example
//!
//! An iterative factorial: `n` and `acc` are variables, and the loop header gets exactly one
//! parameter for each of them.
//!
//! ```
//! use kiln::ir::builder::FunctionBuilder;
//! use kiln::ir::{BinaryOp, FuncDecl, Linkage, Loc, Module, Signature, Type};
//!
//! let mut module = Module::default();
//! let fact = module.declare_func(FuncDecl {
//!     name: "fact".into(),
//!     sig: Signature { params: vec![Type::I64], results: vec![Type::I64] },
//!     linkage: Linkage::Export,
//!     ctor: None,
//!     loc: Loc::default(),
//! });
//!
//! let mut b = FunctionBuilder::new(&mut module, fact);
//! let n = b.declare_var(Type::I64);
//! let acc = b.declare_var(Type::I64);
//! let entry = b.entry_block_with_params();
//! let (header, body, exit) = (b.create_block(), b.create_block(), b.create_block());
//!
//! // entry: acc = 1; n = param
//! let param = b.block_params(entry)[0];
//! b.def_var(n, param);
//! let one = b.iconst(Type::I64, 1);
//! b.def_var(acc, one);
//! b.jump(header, &[]);
//! b.seal_block(entry);
//!
//! // header: while n > 1
//! b.switch_to_block(header);
//! let nv = b.use_var(n);
//! let more = b.binary(BinaryOp::GtS, Type::I64, nv, one);
//! b.br_if(more, body, &[], exit, &[]);
//!
//! // body: acc = acc * n; n = n - 1
//! b.switch_to_block(body);
//! b.seal_block(body);
//! let (a, nv) = (b.use_var(acc), b.use_var(n));
//! let product = b.binary(BinaryOp::Mul, Type::I64, a, nv);
//! b.def_var(acc, product);
//! let next = b.binary(BinaryOp::Sub, Type::I64, nv, one);
//! b.def_var(n, next);
//! b.jump(header, &[]);
//! b.seal_block(header); // the back edge is in
//!
//! // exit: return acc
//! b.switch_to_block(exit);
//! b.seal_block(exit);
//! let result = b.use_var(acc);
//! b.ret(&[result]);
//! b.finalize().expect("well-formed");
//!
//! let f = &module.bodies[fact];
//! assert_eq!(f.layout, [entry, header, body, exit]);
//! assert_eq!(f.dfg.block_params(entry).len(), 1);
//! assert_eq!(f.dfg.block_params(header).len(), 2); // n and acc
//! assert!(f.dfg.block_params(body).is_empty());
//! assert!(f.dfg.block_params(exit).is_empty());
//!
//! kiln::verify::verify(&module).expect("valid IR");
//! let text = kiln::ir::print(&module);
//! assert!(text.contains("block1(v2: i64, v4: i64):"), "{text}");
//! let mut instance = kiln::interp::Instance::new(&module).expect("instance");
//! let result = instance.call("fact", &[kiln::interp::Val::I64(5)]).expect("no trap");
//! assert_eq!(result, [kiln::interp::Val::I64(120)]);
//! ```

mod ssa;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use cranelift_entity::{EntityRef, SecondaryMap, entity_impl};

use super::{
    BinaryOp, Block, BlockCall, ConvertOp, DataRef, EnumRef, FuncRef, Function, GlobalRef, Inst,
    InstData, Intrinsic, JumpTableData, LoadKind, MemArg, Module, SigRef, Signature, StackSlot,
    StackSlotData, StoreWidth, Type, UnaryOp, Value, ValueData, ValueDef, ValueList,
    inst_result_types,
};
use crate::error::{Diagnostic, Diagnostics};
use crate::ir::Loc;
use ssa::Ssa;

/// A frontend variable: a mutable local that the builder turns into SSA values.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Variable(u32);
entity_impl!(Variable, "var");

/// Builder state of one block.
#[derive(Copy, Clone, Default)]
struct BlockStatus {
    /// In the layout (switched to at least once).
    in_layout: bool,
    /// Ends with a terminator.
    filled: bool,
}

/// Builds the body of one function; see the [module documentation](self).
pub struct FunctionBuilder<'a> {
    module: &'a mut Module,
    func_ref: FuncRef,
    /// The body being built; written to `module.bodies[func_ref]` by `finalize`.
    func: Function,
    current: Option<Block>,
    status: SecondaryMap<Block, BlockStatus>,
    ssa: Ssa,
    sigs: HashMap<Signature, SigRef>,
    types: Vec<Type>,
    errors: Vec<Diagnostic>,
}

impl<'a> FunctionBuilder<'a> {
    /// Starts building the body of `func`, a function declared in `module`. The body starts
    /// empty; `finalize` replaces the module's body of `func` with the result. An undeclared
    /// `func` is recorded as an error and the body built is discarded.
    pub fn new(module: &'a mut Module, func: FuncRef) -> Self {
        let mut b = FunctionBuilder {
            module,
            func_ref: func,
            func: Function::default(),
            current: None,
            status: SecondaryMap::new(),
            ssa: Ssa::default(),
            sigs: HashMap::new(),
            types: Vec::new(),
            errors: Vec::new(),
        };
        if b.module.decls.funcs.get(func).is_none() {
            b.error(format!("{func} is not declared in the module"));
        }
        b
    }

    /// The function under construction (parameters the builder may still remove included).
    pub fn func(&self) -> &Function {
        &self.func
    }

    /// The module the function belongs to.
    pub fn module(&self) -> &Module {
        self.module
    }

    /// The diagnostics recorded so far.
    pub fn errors(&self) -> &[Diagnostic] {
        &self.errors
    }

    fn error(&mut self, message: String) {
        let name = self
            .module
            .decls
            .funcs
            .get(self.func_ref)
            .map_or("?", |d| d.name.as_str());
        self.errors.push(Diagnostic::new(
            Loc::default(),
            format!("function builder for @{name}: {message}"),
        ));
    }

    fn block_exists(&self, block: Block) -> bool {
        block.index() < self.func.dfg.blocks.len()
    }

    fn check_block(&mut self, block: Block, what: &str) -> bool {
        let ok = self.block_exists(block);
        if !ok {
            self.error(format!("{what}: {block} does not exist"));
        }
        ok
    }

    // ----- blocks -----

    /// Creates a new block, not yet in the layout.
    pub fn create_block(&mut self) -> Block {
        self.func.dfg.make_block()
    }

    /// Creates the entry block with one parameter per parameter of the function's signature,
    /// and switches to it. Call it before switching to any other block.
    pub fn entry_block_with_params(&mut self) -> Block {
        let block = self.create_block();
        self.append_block_params_for_function_params(block);
        self.switch_to_block(block);
        block
    }

    /// Appends one parameter per parameter of the function's signature to `block`.
    pub fn append_block_params_for_function_params(&mut self, block: Block) {
        let Some(decl) = self.module.decls.funcs.get(self.func_ref) else {
            return;
        };
        let params = decl.sig.params.clone();
        for ty in params {
            self.append_block_param(block, ty);
        }
    }

    /// Appends an explicit parameter to `block`; branches to the block must pass its argument.
    /// Explicit parameters must be appended before any variable is used in the block.
    pub fn append_block_param(&mut self, block: Block, ty: Type) -> Value {
        if !self.check_block(block, "append_block_param") {
            return self.undefined_value(ty);
        }
        self.func.dfg.append_block_param(block, ty)
    }

    /// Parameters of `block` (empty for a block that does not exist).
    pub fn block_params(&self, block: Block) -> &[Value] {
        match self.func.dfg.blocks.get(block) {
            Some(data) => data.params.as_slice(&self.func.dfg.value_lists),
            None => &[],
        }
    }

    /// Makes `block` the current block, where instructions go. The first switch appends it
    /// to the layout: blocks appear in the order they are first switched to, and the first
    /// is the entry.
    pub fn switch_to_block(&mut self, block: Block) {
        if !self.check_block(block, "switch_to_block") {
            return;
        }
        let st = &mut self.status[block];
        if !st.in_layout {
            st.in_layout = true;
            self.func.layout.push(block);
        }
        self.current = Some(block);
    }

    /// The current block, if any.
    pub fn current_block(&self) -> Option<Block> {
        self.current
    }

    /// Whether the current block already ends with a terminator (or there is none): further
    /// instructions there would be an error.
    pub fn is_filled(&self) -> bool {
        self.current.is_none_or(|b| self.status[b].filled)
    }

    /// Declares that every branch to `block` has been inserted. Sealing twice does nothing.
    pub fn seal_block(&mut self, block: Block) {
        if self.check_block(block, "seal_block") {
            self.ssa.seal(&mut self.func, block);
        }
    }

    /// Whether `block` is sealed.
    pub fn is_sealed(&self, block: Block) -> bool {
        self.ssa.is_sealed(block)
    }

    /// Seals every block created so far.
    pub fn seal_all_blocks(&mut self) {
        for block in self.func.dfg.blocks.keys() {
            self.ssa.seal(&mut self.func, block);
        }
    }

    /// Creates a stack slot of `size` bytes aligned to `align` (a power of two).
    pub fn create_stack_slot(&mut self, size: u32, align: u32) -> StackSlot {
        self.func.stack_slots.push(StackSlotData { size, align })
    }

    // ----- variables -----

    /// Declares a variable of type `ty`.
    pub fn declare_var(&mut self, ty: Type) -> Variable {
        self.ssa.vars.push(ty)
    }

    /// The type of `var`, if this builder declared it.
    pub fn var_type(&self, var: Variable) -> Option<Type> {
        self.ssa.vars.get(var).copied()
    }

    /// Assigns `value` to `var` in the current block.
    pub fn def_var(&mut self, var: Variable, value: Value) {
        let Some(&ty) = self.ssa.vars.get(var) else {
            return self.error(format!("def_var: {var} was not declared by this builder"));
        };
        let Some(vt) = self.func.dfg.values.get(value).map(|d| d.ty) else {
            return self.error(format!("def_var: {value} does not exist"));
        };
        if !vt.same_as(ty) {
            return self.error(format!(
                "def_var: {var} has type {ty}, but {value} has type {vt}"
            ));
        }
        match self.current {
            Some(b) if !self.status[b].filled => self.ssa.def_var(var, b, value),
            Some(b) => self.error(format!(
                "def_var: {var} defined after the terminator of {b}"
            )),
            None => self.error(format!("def_var: {var} defined with no current block")),
        }
    }

    /// The value of `var` at this point of the current block. A variable not defined on some
    /// path reads as zero there (a constant at the start of the entry block).
    pub fn use_var(&mut self, var: Variable) -> Value {
        let Some(&ty) = self.ssa.vars.get(var) else {
            self.error(format!("use_var: {var} was not declared by this builder"));
            return self.undefined_value(Type::I32);
        };
        let Some(block) = self.current else {
            self.error(format!("use_var: {var} used with no current block"));
            return self.undefined_value(ty);
        };
        self.ssa.use_var(&mut self.func, var, block)
    }

    /// A value without definition, returned after misuse so callers always get a value.
    fn undefined_value(&mut self, ty: Type) -> Value {
        self.func.dfg.values.push(ValueData {
            ty,
            def: ValueDef::None,
        })
    }

    // ----- instructions -----

    /// Appends `data` to the current block and creates its results from
    /// [`inst_result_types`]. Value lists in `data` must come from this function's pool
    /// ([`Self::make_value_list`]). A terminator records its edges and ends the block.
    pub fn ins(&mut self, mut data: InstData) -> Inst {
        if data.is_terminator() && !self.dests_valid(&data) {
            data = InstData::Unreachable;
        }
        inst_result_types(&self.module.decls, &self.func.dfg, &data, &mut self.types);
        let inst = self.func.dfg.make_inst(data);
        for i in 0..self.types.len() {
            let ty = self.types[i];
            self.func.dfg.append_result(inst, ty);
        }
        match self.current {
            None => self.error(format!("{inst}: no current block (switch_to_block first)")),
            Some(b) if self.status[b].filled => {
                self.error(format!("{inst}: inserted after the terminator of {b}"));
            }
            Some(b) => {
                self.func.dfg.blocks[b].insts.push(inst);
                if data.is_terminator() {
                    self.status[b].filled = true;
                    if self.ssa.add_edges(&mut self.func, b, inst) {
                        self.error(format!("{inst}: branches to a block already sealed"));
                    }
                }
            }
        }
        inst
    }

    /// Whether every destination of a terminator exists; records an error otherwise.
    fn dests_valid(&mut self, data: &InstData) -> bool {
        let mut bad = None;
        let entry = self.func.layout.first().copied();
        let blocks = self.func.dfg.blocks.len();
        let mut check = |b: Block| {
            if b.index() >= blocks {
                bad = Some(format!("branch to {b}, which does not exist"));
            } else if Some(b) == entry {
                bad = Some(format!("branch to the entry block {b}"));
            }
        };
        match data {
            InstData::Jump { dest } => check(dest.block),
            InstData::BrIf {
                then_dest,
                else_dest,
                ..
            } => {
                check(then_dest.block);
                check(else_dest.block);
            }
            InstData::BrTable { table, .. } => match self.func.dfg.jump_tables.get(*table) {
                Some(jt) => jt
                    .targets
                    .iter()
                    .chain(std::iter::once(&jt.default))
                    .for_each(|d| check(d.block)),
                None => bad = Some(format!("br_table names {table}, which does not exist")),
            },
            _ => {}
        }
        match bad {
            Some(msg) => {
                self.error(msg);
                false
            }
            None => true,
        }
    }

    /// Results of `inst`.
    pub fn inst_results(&self, inst: Inst) -> &[Value] {
        match self.func.dfg.results.get(inst) {
            Some(list) => list.as_slice(&self.func.dfg.value_lists),
            None => &[],
        }
    }

    /// A value list in this function's pool, for [`Self::ins`].
    pub fn make_value_list(&mut self, values: &[Value]) -> ValueList {
        self.func.dfg.make_value_list(values)
    }

    /// Inserts `data` and returns its single result; records an error and returns an
    /// undefined value if it has none (e.g. a `global.get` of a missing global).
    fn ins1(&mut self, data: InstData) -> Value {
        let inst = self.ins(data);
        match self.inst_results(inst).first() {
            Some(&v) => v,
            None => {
                self.error(format!("{inst}: instruction has no result"));
                self.undefined_value(Type::I32)
            }
        }
    }

    /// `T.const value`: an integer constant of type `ty`, truncated to its width (an `i32`
    /// constant may be given signed or unsigned). With a float `ty`, `value` is converted to
    /// that type.
    pub fn iconst(&mut self, ty: Type, value: i64) -> Value {
        let bits = match ty.canonical() {
            Type::I32 => u64::from(value as u32),
            Type::F32 => u64::from((value as f32).to_bits()),
            Type::F64 => (value as f64).to_bits(),
            _ => value as u64,
        };
        self.ins1(InstData::Const { ty, bits })
    }

    /// `f32.const value`.
    pub fn f32const(&mut self, value: f32) -> Value {
        self.ins1(InstData::Const {
            ty: Type::F32,
            bits: u64::from(value.to_bits()),
        })
    }

    /// `f64.const value`.
    pub fn f64const(&mut self, value: f64) -> Value {
        self.ins1(InstData::Const {
            ty: Type::F64,
            bits: value.to_bits(),
        })
    }

    /// `T.op a, b` with operand type `ty`.
    pub fn binary(&mut self, op: BinaryOp, ty: Type, a: Value, b: Value) -> Value {
        self.ins1(InstData::Binary {
            op,
            ty,
            args: [a, b],
        })
    }

    /// `T.op arg` with operand type `ty`.
    pub fn unary(&mut self, op: UnaryOp, ty: Type, arg: Value) -> Value {
        self.ins1(InstData::Unary { op, ty, arg })
    }

    /// A conversion (`i64.extend_i32_s`, ...).
    pub fn convert(&mut self, op: ConvertOp, arg: Value) -> Value {
        self.ins1(InstData::Convert { op, arg })
    }

    /// `select cond, if_true, if_false`.
    pub fn select(&mut self, cond: Value, if_true: Value, if_false: Value) -> Value {
        self.ins1(InstData::Select {
            args: [cond, if_true, if_false],
        })
    }

    /// `T.loadK addr`: loads a `ty` of width `kind` from `addr + mem.offset`.
    pub fn load(&mut self, ty: Type, kind: LoadKind, addr: Value, mem: MemArg) -> Value {
        self.ins1(InstData::Load {
            ty,
            kind,
            addr,
            mem,
        })
    }

    /// `T.storeK addr, value`: stores the low `width` bytes of `value` (of its own type) at
    /// `addr + mem.offset`.
    pub fn store(&mut self, width: StoreWidth, addr: Value, value: Value, mem: MemArg) -> Inst {
        let ty = self.func.dfg.values.get(value).map_or(Type::I32, |d| d.ty);
        self.ins(InstData::Store {
            ty,
            width,
            args: [addr, value],
            mem,
        })
    }

    /// `memory.size`: the memory size in 64 KiB pages.
    pub fn memory_size(&mut self) -> Value {
        self.ins1(InstData::MemorySize)
    }

    /// `memory.grow pages`: the old size in pages, or -1.
    pub fn memory_grow(&mut self, pages: Value) -> Value {
        self.ins1(InstData::MemoryGrow { arg: pages })
    }

    /// `memory.copy dst, src, len`.
    pub fn memory_copy(&mut self, dst: Value, src: Value, len: Value) -> Inst {
        self.ins(InstData::MemoryCopy {
            args: [dst, src, len],
        })
    }

    /// `memory.fill dst, byte, len`.
    pub fn memory_fill(&mut self, dst: Value, byte: Value, len: Value) -> Inst {
        self.ins(InstData::MemoryFill {
            args: [dst, byte, len],
        })
    }

    /// `global.get @g`.
    pub fn global_get(&mut self, global: GlobalRef) -> Value {
        self.ins1(InstData::GlobalGet { global })
    }

    /// `global.set @g, value`.
    pub fn global_set(&mut self, global: GlobalRef, value: Value) -> Inst {
        self.ins(InstData::GlobalSet { global, arg: value })
    }

    /// `data_addr @d + offset`.
    pub fn data_addr(&mut self, data: DataRef, offset: i64) -> Value {
        self.ins1(InstData::DataAddr { data, offset })
    }

    /// `tls_addr @d + offset`.
    pub fn tls_addr(&mut self, data: DataRef, offset: i64) -> Value {
        self.ins1(InstData::TlsAddr { data, offset })
    }

    /// `func_addr @f`.
    pub fn func_addr(&mut self, func: FuncRef) -> Value {
        self.ins1(InstData::FuncAddr { func })
    }

    /// `stack_addr ss + offset`.
    pub fn stack_addr(&mut self, slot: StackSlot, offset: u32) -> Value {
        self.ins1(InstData::StackAddr { slot, offset })
    }

    /// `call @f(args)`; returns the results.
    pub fn call(&mut self, func: FuncRef, args: &[Value]) -> &[Value] {
        let args = self.func.dfg.make_value_list(args);
        let inst = self.ins(InstData::Call { func, args });
        self.inst_results(inst)
    }

    /// `call_indirect sig callee(args)`; the signature is interned per function.
    pub fn call_indirect(&mut self, sig: Signature, callee: Value, args: &[Value]) -> &[Value] {
        let sig = self.import_signature(sig);
        let args = self.func.dfg.make_value_list(args);
        let inst = self.ins(InstData::CallIndirect { sig, callee, args });
        self.inst_results(inst)
    }

    /// Interns a signature for `call_indirect`.
    pub fn import_signature(&mut self, sig: Signature) -> SigRef {
        if let Some(&s) = self.sigs.get(&sig) {
            return s;
        }
        let s = self.func.dfg.sigs.push(sig.clone());
        self.sigs.insert(sig, s);
        s
    }

    /// `intrinsic name(args)`; returns the results.
    pub fn intrinsic(&mut self, intrinsic: Intrinsic, args: &[Value]) -> &[Value] {
        let args = self.func.dfg.make_value_list(args);
        let inst = self.ins(InstData::Intrinsic { intrinsic, args });
        self.inst_results(inst)
    }

    /// `tag_name %E(tag)`: the variant name's (pointer, length).
    pub fn tag_name(&mut self, enum_ref: EnumRef, tag: Value) -> (Value, Value) {
        let inst = self.ins(InstData::TagName { enum_ref, arg: tag });
        match *self.inst_results(inst) {
            [p, l] => (p, l),
            _ => (
                self.undefined_value(Type::Ptr),
                self.undefined_value(Type::Ptr),
            ),
        }
    }

    /// `enum_const %E.variant`, `variant` indexing the enum's variant list.
    pub fn enum_const(&mut self, enum_ref: EnumRef, variant: u32) -> Value {
        self.ins1(InstData::EnumConst { enum_ref, variant })
    }

    fn block_call(&mut self, block: Block, args: &[Value]) -> BlockCall {
        BlockCall {
            block,
            args: self.func.dfg.make_value_list(args),
        }
    }

    /// `jump block(args)`; `args` are for the block's explicit parameters only.
    pub fn jump(&mut self, block: Block, args: &[Value]) -> Inst {
        let dest = self.block_call(block, args);
        self.ins(InstData::Jump { dest })
    }

    /// `br_if cond, then_block(then_args), else_block(else_args)`.
    pub fn br_if(
        &mut self,
        cond: Value,
        then_block: Block,
        then_args: &[Value],
        else_block: Block,
        else_args: &[Value],
    ) -> Inst {
        let then_dest = self.block_call(then_block, then_args);
        let else_dest = self.block_call(else_block, else_args);
        self.ins(InstData::BrIf {
            cond,
            then_dest,
            else_dest,
        })
    }

    /// `br_table index, [targets], default`.
    pub fn br_table(
        &mut self,
        index: Value,
        targets: &[(Block, &[Value])],
        default: (Block, &[Value]),
    ) -> Inst {
        let targets = targets
            .iter()
            .map(|&(b, args)| self.block_call(b, args))
            .collect();
        let default = self.block_call(default.0, default.1);
        let table = self
            .func
            .dfg
            .jump_tables
            .push(JumpTableData { targets, default });
        self.ins(InstData::BrTable { index, table })
    }

    /// `return values`.
    pub fn ret(&mut self, values: &[Value]) -> Inst {
        let args = self.func.dfg.make_value_list(values);
        self.ins(InstData::Return { args })
    }

    /// `unreachable`.
    pub fn unreachable(&mut self) -> Inst {
        self.ins(InstData::Unreachable)
    }

    /// Seals every block, removes trivial block parameters (replacing their uses), and
    /// stores the body in the module. Returns the diagnostics recorded during building, if
    /// any; the body is stored either way (unless the function was not declared).
    pub fn finalize(mut self) -> Result<(), Diagnostics> {
        self.ssa.finish(&mut self.func);
        for i in 0..self.func.layout.len() {
            let b = self.func.layout[i];
            if !self.status[b].filled {
                self.error(format!("{b} has no terminator"));
            }
        }
        if self.module.decls.funcs.get(self.func_ref).is_some() {
            self.module.bodies[self.func_ref] = std::mem::take(&mut self.func);
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Diagnostics(self.errors))
        }
    }
}
