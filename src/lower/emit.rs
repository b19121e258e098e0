//! Encoding one function: the structured nodes and the value places become a wasm function
//! body (locals declaration and code) with relocation records.
//!
//! Invariants of the output:
//! - Every symbol reference is a padded immediate (5-byte LEB) with a [`Reloc`] whose offset
//!   is relative to the body's start (the locals declaration included), as clang writes them.
//!   The placeholder is the index in this object's own space (function, global, type), the
//!   addend for data addresses, and 0 for table slots.
//! - Instructions are emitted in IR order; operand trees only move pure local reads and
//!   rematerialized constants (see `values.rs`).
//! - A `local.get` right after a `local.set` of the same local turns the set into a tee.
//! - `block`, `loop` and `if` from the nodes are `[] -> []`; the only typed construct is the
//!   `if` of a saturating truncation expanded without `nontrapping-fptoint`.

use wasm_encoder::{BlockType, Encode, Ieee32, Ieee64, Instruction, MemArg, MemArgTarget};

use super::module::{Ctx, SymRef};
use super::structured::Node;
use super::values::{
    AnalyzeError, Lin, Place, Values, class, dest_of, intrinsic_inlined, trunc_sat_expanded,
};
use crate::ir::{
    BinaryOp, ConvertOp, FuncRef, Function, Inst, InstData, Intrinsic, LoadKind,
    MemArg as IrMemArg, StoreWidth, Type, UnaryOp, Value,
};
use crate::object::{Func, Reloc, RelocRange, RelocType, write_sleb5, write_uleb5};

/// Most locals (parameters included) a function may have: the limit of wasmparser, V8 and
/// wasmtime.
const MAX_LOCALS: u64 = 50_000;

/// Why a function could not be encoded (turned into a `LowerError` by the caller).
#[derive(Clone, Debug)]
pub(crate) enum EmitError {
    /// The nodes or the values do not fit the function.
    Structure(String),
    /// The frame is too large.
    Frame(u64),
    /// A limit of wasm engines is exceeded.
    Limit(String),
}

impl From<AnalyzeError> for EmitError {
    fn from(e: AnalyzeError) -> EmitError {
        match e {
            AnalyzeError::Structure(s) => EmitError::Structure(s),
            AnalyzeError::Frame(n) => EmitError::Frame(n),
        }
    }
}

impl From<&str> for EmitError {
    fn from(s: &str) -> EmitError {
        EmitError::Structure(s.to_string())
    }
}

type Result<T> = std::result::Result<T, EmitError>;

/// Per-worker state, reused from one function to the next.
#[derive(Default)]
pub(crate) struct Emitter {
    /// Value places and locals.
    pub values: Values,
    /// The body being written.
    buf: Vec<u8>,
    /// Its relocations.
    relocs: Vec<Reloc>,
    /// Interrupted operand-tree frames: position in the code table, and the range of its
    /// operands in the table's operand list left to emit.
    frames: Vec<(u32, u32, u32)>,
    /// Edge copies: source and destination local.
    copies: Vec<(Value, u32)>,
    /// The end in `buf` of the last `local.set` (0: none; the locals declaration comes
    /// first), its local and the position of its opcode: a `local.get` of that local
    /// written at that end turns it into a tee.
    set_end: usize,
    set_local: u32,
    set_pos: usize,
}

/// What the encoder needs to know about the function being lowered.
struct FuncCx<'a> {
    ctx: &'a Ctx<'a>,
    func: &'a Function,
    /// Type index of each `call_indirect` signature.
    sig_types: &'a [u32],
    /// The opcode tables.
    ops: &'static OpBytes,
}

impl Emitter {
    /// Encodes `func` (declared as `fref`) following `nodes`: the function, with its
    /// relocations apart (the object holds them all in one array).
    pub fn lower(
        &mut self,
        ctx: &Ctx<'_>,
        fref: FuncRef,
        func: &Function,
        nodes: &[Node],
        sig_types: &[u32],
    ) -> Result<(Func<'static>, Vec<Reloc>)> {
        self.values.analyze(func, nodes, ctx.features)?;
        let locals = u64::from(self.values.num_params)
            + self
                .values
                .class_counts
                .iter()
                .map(|&n| u64::from(n))
                .sum::<u64>();
        if locals > MAX_LOCALS {
            return Err(EmitError::Limit(format!(
                "needs {locals} locals, more than the {MAX_LOCALS} that wasm engines accept"
            )));
        }
        self.buf.clear();
        self.relocs.clear();
        self.frames.clear();
        self.set_end = 0;
        let cx = FuncCx {
            ctx,
            func,
            sig_types,
            ops: op_bytes(),
        };

        // Locals declaration.
        let groups = self.values.local_groups().count() as u32;
        uleb(&mut self.buf, groups);
        for (n, ty) in self.values.local_groups() {
            uleb(&mut self.buf, n);
            val_type(ty).encode(&mut self.buf);
        }

        self.prologue(&cx)?;
        let results = ctx.module.decls.funcs[fref].sig.results.len();
        for (i, node) in nodes.iter().enumerate() {
            let last = i + 1 == nodes.len();
            self.node(&cx, node, last)?;
        }
        let terminal = matches!(
            nodes.last(),
            Some(Node::Return(_) | Node::Br(_) | Node::BrTable { .. } | Node::Unreachable)
        );
        if !terminal && results > 0 {
            self.buf.push(0x00);
        }
        self.buf.push(0x0b);

        let func = Func {
            type_index: ctx.func_type[fref],
            body: self.buf.clone().into(),
            relocs: RelocRange::default(),
            input_offset: 0,
            local_names: self.values.local_names.clone(),
        };
        Ok((func, self.relocs.clone()))
    }

    fn prologue(&mut self, cx: &FuncCx<'_>) -> Result<()> {
        let frame = &self.values.frame;
        if frame.size == 0 {
            return Ok(());
        }
        let (size, align) = (frame.size, frame.align);
        let fb = self
            .values
            .scratch
            .frame
            .ok_or("frame without a base local")?;
        let sp = cx.ctx.stack_pointer.ok_or("no __stack_pointer symbol")?;
        self.global_get(sp);
        if let Some(saved) = self.values.scratch.saved_sp {
            self.local_tee(saved);
        }
        self.i32_const(size as i32);
        self.ins(Instruction::I32Sub);
        if align > 16 {
            self.i32_const(align.wrapping_neg() as i32);
            self.ins(Instruction::I32And);
        }
        self.local_tee(fb);
        self.global_set(sp);
        Ok(())
    }

    fn epilogue(&mut self, cx: &FuncCx<'_>) -> Result<()> {
        let size = self.values.frame.size;
        if size == 0 {
            return Ok(());
        }
        let sp = cx.ctx.stack_pointer.ok_or("no __stack_pointer symbol")?;
        if let Some(saved) = self.values.scratch.saved_sp {
            self.local_get(saved);
        } else {
            let fb = self
                .values
                .scratch
                .frame
                .ok_or("frame without a base local")?;
            self.local_get(fb);
            self.i32_const(size as i32);
            self.ins(Instruction::I32Add);
        }
        self.global_set(sp);
        Ok(())
    }

    fn node(&mut self, cx: &FuncCx<'_>, node: &Node, last: bool) -> Result<()> {
        let dfg = &cx.func.dfg;
        match *node {
            Node::Block => self.buf.extend_from_slice(&[0x02, 0x40]),
            Node::Loop(_) => self.buf.extend_from_slice(&[0x03, 0x40]),
            Node::If(b) => {
                let Some(InstData::BrIf { cond, .. }) = cx.func.terminator(b).map(|t| dfg.insts[t])
                else {
                    return Err("`If` of a block that does not end in br_if".into());
                };
                self.value(cx, cond)?;
                self.buf.extend_from_slice(&[0x04, 0x40]);
            }
            Node::Else => self.buf.push(0x05),
            Node::End => self.buf.push(0x0b),
            Node::Code(b) => {
                let (s, e) = self.values.code_range[b];
                if s < e {
                    self.trees(cx, s, e, true)?;
                }
            }
            Node::Edge { from, dest } => {
                let term = cx
                    .func
                    .terminator(from)
                    .ok_or("edge from a block without terminator")?;
                let d = dest_of(dfg, term, dest).ok_or("edge to a missing destination")?;
                let mut copies = std::mem::take(&mut self.copies);
                copies.clear();
                let params = dfg.block_params(d.block);
                for (&a, &p) in dfg.list(d.args).iter().zip(params) {
                    if let Place::Local(pl) = self.values.place[p]
                        && self.values.is_live(p)
                        && self.values.place[a] != Place::Local(pl)
                    {
                        copies.push((a, pl));
                    }
                }
                let mut res = Ok(());
                for &(a, _) in &copies {
                    res = self.value(cx, a);
                    if res.is_err() {
                        break;
                    }
                }
                for &(_, pl) in copies.iter().rev() {
                    self.local_set(pl);
                }
                self.copies = copies;
                res?;
            }
            Node::Br(depth) => self.op_uleb(0x0c, depth),
            Node::BrTable {
                from,
                ref depths,
                default,
            } => {
                let Some(InstData::BrTable { index, .. }) =
                    cx.func.terminator(from).map(|t| dfg.insts[t])
                else {
                    return Err("`BrTable` of a block that does not end in br_table".into());
                };
                self.value(cx, index)?;
                self.br_table(depths, default);
            }
            Node::Return(b) => {
                let Some(InstData::Return { args }) = cx.func.terminator(b).map(|t| dfg.insts[t])
                else {
                    return Err("`Return` of a block that does not end in return".into());
                };
                for &a in dfg.list(args) {
                    self.value(cx, a)?;
                }
                self.epilogue(cx)?;
                if !last {
                    self.ins(Instruction::Return);
                }
            }
            Node::Unreachable => self.ins(Instruction::Unreachable),
        }
        Ok(())
    }

    /// Pushes `v`: its operand tree, its local or its constant.
    #[inline(always)] // most are locals (edge copies, returned values)
    fn value(&mut self, cx: &FuncCx<'_>, v: Value) -> Result<()> {
        if let Place::Local(l) = self.values.place[v] {
            self.local_get(l);
            return Ok(());
        }
        self.value_other(cx, v)
    }

    /// [`Self::value`] of a value without a local.
    #[inline(never)]
    fn value_other(&mut self, cx: &FuncCx<'_>, v: Value) -> Result<()> {
        match self.values.place[v] {
            Place::Local(l) => {
                self.local_get(l);
                Ok(())
            }
            Place::Const(inst) => match cx.func.dfg.insts[inst] {
                InstData::Const { ty, bits } if self.int_const(ty, bits) => Ok(()),
                _ => self.constant(cx, inst),
            },
            Place::Stack(k) => self.trees(cx, k, k + 1, false),
            Place::Unused | Place::Pending(_) => Err(EmitError::Structure(format!(
                "{v} is read where it is not available"
            ))),
        }
    }

    /// Emits the instructions at `start..end` in the code table, each with its operand
    /// tree, then stores or drops their results; with `roots_only`, skips the instructions
    /// whose result is left on the stack (they are emitted in their consumer's tree). One
    /// loop for a whole block: the roots and the operand trees share the frame stack.
    fn trees(&mut self, cx: &FuncCx<'_>, start: u32, end: u32, roots_only: bool) -> Result<()> {
        for root in start..end {
            let l = self
                .values
                .lin
                .get(root as usize)
                .ok_or("an instruction outside the code")?;
            if roots_only && l.flags & Lin::STACKED != 0 {
                continue;
            }
            self.tree(cx, root)?;
        }
        Ok(())
    }

    /// Emits the operand tree of the instruction at `root` in the code table and the
    /// instruction, then stores or drops the results. The frame at hand is kept in locals;
    /// the stack holds the frames it interrupted.
    #[inline(always)] // the loop of `trees`
    fn tree(&mut self, cx: &FuncCx<'_>, root: u32) -> Result<()> {
        let dfg = &cx.func.dfg;
        let base = self.frames.len();
        let (mut k, mut next, mut end) = self.frame(root)?;
        loop {
            // The operands left; one with a tree of its own interrupts this frame.
            while next < end {
                let v = self.values.lin_ops[next as usize];
                next += 1;
                let place = self.values.place[v];
                // Locals first: the most common operands.
                if let Place::Local(l) = place {
                    self.local_get(l);
                    continue;
                }
                match place {
                    Place::Stack(p) => {
                        self.frames.push((k, next, end));
                        (k, next, end) = self.frame(p)?;
                    }
                    Place::Const(inst) => match dfg.insts[inst] {
                        InstData::Const { ty, bits } if self.int_const(ty, bits) => {}
                        _ => self.constant(cx, inst)?,
                    },
                    _ => self.value(cx, v)?,
                }
            }
            let l = self.values.lin[k as usize];
            if l.op != 0 {
                // Noted by the first walk: the instruction is its opcode.
                self.buf.push(l.op);
            } else if !self.inst_simple(cx.ops, &dfg.insts[l.inst]) {
                self.inst(cx, l.inst)?;
            }
            // A frame above the root's is an operand's ([`Place::Stack`]): its one result
            // stays on the stack for its consumer.
            if self.frames.len() <= base {
                match l.result.expand() {
                    Some(r) => self.result(r),
                    None if l.flags & Lin::MULTI != 0 => {
                        for &r in dfg.inst_results(l.inst).iter().rev() {
                            self.result(r);
                        }
                    }
                    None => {}
                }
                return Ok(());
            }
            let Some(f) = self.frames.pop() else {
                return Ok(());
            };
            (k, next, end) = f;
        }
    }

    /// Stores the result `r` on top of the stack in its local, drops it, or leaves it for
    /// its consumer.
    #[inline(always)] // once per instruction in `tree`
    fn result(&mut self, r: Value) {
        match self.values.place[r] {
            Place::Stack(_) => {}
            Place::Local(l) => self.local_set(l),
            _ => self.buf.push(0x1a),
        }
    }

    /// The operand-tree frame of the instruction at `k` in the code table: `k` and the
    /// range of its operands that go on the operand stack (none for the return-slot
    /// intrinsics), in push order.
    #[inline]
    fn frame(&self, k: u32) -> Result<(u32, u32, u32)> {
        let l = self
            .values
            .lin
            .get(k as usize)
            .ok_or("an instruction outside the code")?;
        let (s, e) = if l.flags & Lin::SRET != 0 {
            (l.ops.1, l.ops.1)
        } else {
            l.ops
        };
        Ok((k, s, e))
    }

    /// Emits an integer constant of type `ty` (its low bits for `i32`); whether `ty` is an
    /// integer type.
    #[inline(always)] // in the operand loop of `tree`: most operands are constants or locals
    fn int_const(&mut self, ty: Type, bits: u64) -> bool {
        match ty.canonical() {
            Type::I64 => {
                self.buf.push(0x42);
                sleb(&mut self.buf, bits as i64);
            }
            Type::I32 => self.i32_const(bits as u32 as i32),
            _ => return false,
        }
        true
    }

    /// Emits a constant instruction's value.
    fn constant(&mut self, cx: &FuncCx<'_>, inst: Inst) -> Result<()> {
        match cx.func.dfg.insts[inst] {
            InstData::Const { ty, bits } if self.int_const(ty, bits) => {}
            // `f32.const` and `f64.const` with their bits little-endian, as wasm-encoder
            // writes them.
            InstData::Const { ty, bits } => match ty.canonical() {
                Type::F32 => {
                    let [a, b, c, d] = (bits as u32).to_le_bytes();
                    self.buf.extend_from_slice(&[0x43, a, b, c, d]);
                }
                _ => {
                    let [a, b, c, d, e, f, g, h] = bits.to_le_bytes();
                    self.buf.extend_from_slice(&[0x44, a, b, c, d, e, f, g, h]);
                }
            },
            InstData::EnumConst { enum_ref, variant } => {
                let e = cx
                    .ctx
                    .module
                    .decls
                    .enums
                    .get(enum_ref)
                    .ok_or("unknown enum")?;
                let v = e
                    .variants
                    .get(variant as usize)
                    .ok_or("unknown variant")?
                    .value;
                if e.tag.value_type() == Type::I64 {
                    self.ins(Instruction::I64Const(v as i64));
                } else {
                    self.i32_const(v as i32);
                }
            }
            _ => return Err("not a constant".into()),
        }
        Ok(())
    }

    /// Emits the loads and stores encoded by one opcode and a memory argument, from the
    /// tables; whether it did (otherwise [`Self::inst`] does). (The instructions that are
    /// only an opcode are in the code table with it, [`Lin::op`].)
    #[inline]
    fn inst_simple(&mut self, table: &OpBytes, data: &InstData) -> bool {
        let (byte, m) = match *data {
            InstData::Load { ty, kind, mem, .. } => (
                table.load.get(kind as usize).map_or(0, |t| t[class(ty)]),
                memarg(mem, kind.bytes(ty)),
            ),
            InstData::Store { ty, width, mem, .. } => (
                table.store.get(width as usize).map_or(0, |t| t[class(ty)]),
                memarg(mem, width.bytes(ty)),
            ),
            _ => return false,
        };
        if byte == 0 {
            return false;
        }
        self.mem_op(byte, m);
        true
    }

    /// A load or store: its opcode and memory argument (memory 0), as wasm-encoder writes
    /// them.
    #[inline]
    fn mem_op(&mut self, opcode: u8, m: MemArg) {
        if m.align < 0x80 && m.offset < 0x80 {
            // One write for the three bytes (most loads and stores).
            self.buf
                .extend_from_slice(&[opcode, m.align as u8, m.offset as u8]);
            return;
        }
        self.buf.push(opcode);
        uleb(&mut self.buf, m.align);
        uleb64(&mut self.buf, m.offset);
    }

    /// Emits the instruction itself; its stack operands are in place (except for the
    /// return-slot intrinsics, which push their own).
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    fn inst(&mut self, cx: &FuncCx<'_>, inst: Inst) -> Result<()> {
        let ctx = cx.ctx;
        let features = ctx.features;
        let dfg = &cx.func.dfg;
        match dfg.insts[inst] {
            InstData::Const { .. } | InstData::EnumConst { .. } => self.constant(cx, inst)?,
            InstData::Unary { op, ty, .. } => {
                let wide = ty.canonical() == Type::I64;
                let shift = match op {
                    UnaryOp::Extend8S if !features.sign_ext => Some(8),
                    UnaryOp::Extend16S if !features.sign_ext => Some(16),
                    UnaryOp::Extend32S if !features.sign_ext => Some(32),
                    _ => None,
                };
                match shift {
                    Some(bits) if wide => {
                        self.ins(Instruction::I64Const(64 - bits));
                        self.ins(Instruction::I64Shl);
                        self.ins(Instruction::I64Const(64 - bits));
                        self.ins(Instruction::I64ShrS);
                    }
                    Some(bits) => {
                        self.i32_const(32 - bits as i32);
                        self.ins(Instruction::I32Shl);
                        self.i32_const(32 - bits as i32);
                        self.ins(Instruction::I32ShrS);
                    }
                    None => match op_bytes().unary.get(op as usize).map(|t| t[class(ty)]) {
                        Some(b) if b != 0 => self.buf.push(b),
                        _ => self.ins(unary(op, ty).ok_or("invalid unary operation")?),
                    },
                }
            }
            InstData::Binary { op, ty, .. } => {
                match op_bytes().binary.get(op as usize).map(|t| t[class(ty)]) {
                    Some(b) if b != 0 => self.buf.push(b),
                    _ => self.ins(binary(op, ty).ok_or("invalid binary operation")?),
                }
            }
            InstData::Convert { op, .. } => {
                if trunc_sat_expanded(op, features) {
                    self.trunc_sat(op)?;
                } else {
                    match cx.ops.convert.get(op as usize) {
                        Some(&b) if b != 0 => self.buf.push(b),
                        _ => self.ins(convert(op)),
                    }
                }
            }
            InstData::Select { .. } => self.buf.push(0x1b),
            InstData::Load { ty, kind, mem, .. } => {
                let m = memarg(mem, kind.bytes(ty));
                self.ins(load(ty, kind, m).ok_or("invalid load")?);
            }
            InstData::Store { ty, width, mem, .. } => {
                let m = memarg(mem, width.bytes(ty));
                self.ins(store(ty, width, m).ok_or("invalid store")?);
            }
            InstData::MemorySize => self.ins(Instruction::MemorySize(0)),
            InstData::MemoryGrow { .. } => self.ins(Instruction::MemoryGrow(0)),
            InstData::MemoryCopy { .. } => {
                if features.bulk_memory {
                    self.ins(Instruction::MemoryCopy {
                        src_mem: 0,
                        dst_mem: 0,
                    });
                } else {
                    self.call(ctx.runtime(Intrinsic::Memmove)?);
                    self.ins(Instruction::Drop);
                }
            }
            InstData::MemoryFill { .. } => {
                if features.bulk_memory {
                    self.ins(Instruction::MemoryFill(0));
                } else {
                    self.call(ctx.runtime(Intrinsic::Memset)?);
                    self.ins(Instruction::Drop);
                }
            }
            InstData::GlobalGet { global } => self.global_get(ctx.global(global)?),
            InstData::GlobalSet { global, .. } => self.global_set(ctx.global(global)?),
            InstData::DataAddr { data, offset } => {
                self.buf.push(0x41);
                let sym = ctx.data(data)?;
                self.reloc_sleb(RelocType::MemoryAddrSleb, sym, offset as i32, offset);
            }
            InstData::TlsAddr { data, offset } => {
                self.global_get(ctx.tls_base.ok_or("no __tls_base symbol")?);
                self.buf.push(0x41);
                let sym = ctx.data(data)?;
                self.reloc_sleb(RelocType::MemoryAddrTlsSleb, sym, offset as i32, offset);
                self.ins(Instruction::I32Add);
            }
            InstData::FuncAddr { func } => {
                self.buf.push(0x41);
                let f = ctx.func(func)?;
                self.reloc_sleb(RelocType::TableIndexSleb, f.sym, 0, 0);
            }
            InstData::StackAddr { slot, offset } => {
                let fb = self
                    .values
                    .scratch
                    .frame
                    .ok_or("stack slot without a frame")?;
                let base = self.values.frame.slot_offset[slot];
                let total = u64::from(base) + u64::from(offset);
                self.local_get(fb);
                if total != 0 {
                    self.i32_const(total as u32 as i32);
                    self.ins(Instruction::I32Add);
                }
            }
            InstData::Call { func, .. } => self.call(ctx.func(func)?),
            InstData::CallIndirect { sig, .. } => {
                let ty = *self
                    .sig_type(cx, sig.as_u32())
                    .ok_or("call_indirect signature without a type")?;
                self.buf.push(0x11);
                self.reloc_uleb(RelocType::TypeIndexLeb, ty, ty);
                if features.reference_types {
                    let table = ctx.table.ok_or("no table symbol")?;
                    self.reloc_uleb(RelocType::TableNumberLeb, table, 0);
                } else {
                    self.buf.push(0x00);
                }
            }
            InstData::Intrinsic { intrinsic, args } => {
                use Intrinsic::*;
                if intrinsic_inlined(intrinsic, features) {
                    if intrinsic == Memset {
                        self.ins(Instruction::MemoryFill(0));
                    } else {
                        self.ins(Instruction::MemoryCopy {
                            src_mem: 0,
                            dst_mem: 0,
                        });
                    }
                } else if intrinsic.results().len() == 2 {
                    let fb = self
                        .values
                        .scratch
                        .frame
                        .ok_or("i128 call without a frame")?;
                    self.i128_checks(cx, intrinsic, dfg.list(args))?;
                    self.local_get(fb);
                    for &a in dfg.list(args) {
                        self.value(cx, a)?;
                    }
                    if matches!(intrinsic, I128Shl | I128ShrS | I128ShrU) {
                        self.i32_const(127);
                        self.ins(Instruction::I32And);
                    }
                    self.call(ctx.runtime(intrinsic)?);
                    for offset in [0, 8] {
                        self.local_get(fb);
                        self.ins(Instruction::I64Load(MemArg {
                            offset,
                            align: 3,
                            target: MemArgTarget::Memory(0),
                            ordering: None,
                        }));
                    }
                } else {
                    self.call(ctx.runtime(intrinsic)?);
                    if matches!(intrinsic, Memcpy | Memmove | Memset) {
                        self.ins(Instruction::Drop);
                    }
                }
            }
            InstData::TagName { enum_ref, .. } => {
                let tmp = self
                    .values
                    .scratch
                    .tmp_i32
                    .ok_or("tag_name without a temporary")?;
                self.call(ctx.tag_name(enum_ref)?);
                self.local_tee(tmp);
                self.ins(Instruction::I32Load(mem32(0)));
                self.local_get(tmp);
                self.ins(Instruction::I32Load(mem32(4)));
            }
            InstData::Jump { .. }
            | InstData::BrIf { .. }
            | InstData::BrTable { .. }
            | InstData::Return { .. }
            | InstData::Unreachable => return Err("a terminator inside a block's code".into()),
        }
        Ok(())
    }

    /// The traps the IR defines for 128-bit division that compiler-rt does not raise
    /// itself: a zero divisor, and `MIN / -1` for `div_s`. The operands are locals or
    /// constants (return-slot calls take no stack operands), so reading them again is free.
    fn i128_checks(&mut self, cx: &FuncCx<'_>, i: Intrinsic, args: &[Value]) -> Result<()> {
        use Intrinsic::*;
        if !matches!(i, I128DivS | I128DivU | I128RemS | I128RemU) {
            return Ok(());
        }
        let [a_lo, a_hi, b_lo, b_hi] = *args else {
            return Err("an i128 division without four operands".into());
        };
        let trap_if = |s: &mut Self| {
            s.ins(Instruction::If(BlockType::Empty));
            s.ins(Instruction::Unreachable);
            s.ins(Instruction::End);
        };
        self.value(cx, b_lo)?;
        self.value(cx, b_hi)?;
        self.ins(Instruction::I64Or);
        self.ins(Instruction::I64Eqz);
        trap_if(self);
        if i == I128DivS {
            self.value(cx, a_lo)?;
            self.ins(Instruction::I64Eqz);
            self.value(cx, a_hi)?;
            self.ins(Instruction::I64Const(i64::MIN));
            self.ins(Instruction::I64Eq);
            self.ins(Instruction::I32And);
            self.value(cx, b_lo)?;
            self.value(cx, b_hi)?;
            self.ins(Instruction::I64And);
            self.ins(Instruction::I64Const(-1));
            self.ins(Instruction::I64Eq);
            self.ins(Instruction::I32And);
            trap_if(self);
        }
        Ok(())
    }

    fn sig_type<'s>(&self, cx: &'s FuncCx<'_>, sig: u32) -> Option<&'s u32> {
        cx.sig_types.get(sig as usize)
    }

    /// `iN.trunc_sat_fM_*` without the feature: NaN gives 0, out-of-range values saturate,
    /// others truncate. The operand is on the stack.
    fn trunc_sat(&mut self, op: ConvertOp) -> Result<()> {
        use ConvertOp::*;
        let (signed, trapping) = match op {
            I32TruncSatF32S => (true, I32TruncF32S),
            I32TruncSatF32U => (false, I32TruncF32U),
            I32TruncSatF64S => (true, I32TruncF64S),
            I32TruncSatF64U => (false, I32TruncF64U),
            I64TruncSatF32S => (true, I64TruncF32S),
            I64TruncSatF32U => (false, I64TruncF32U),
            I64TruncSatF64S => (true, I64TruncF64S),
            I64TruncSatF64U => (false, I64TruncF64U),
            _ => return Err("not a saturating truncation".into()),
        };
        let wide_int = op.to() == Type::I64;
        let f64_ = op.from() == Type::F64;
        let tmp = if f64_ {
            self.values.scratch.tmp_f64
        } else {
            self.values.scratch.tmp_f32
        }
        .ok_or("saturating truncation without a temporary")?;
        let bits: i32 = if wide_int { 64 } else { 32 };
        let (hi, lo) = if signed {
            (2f64.powi(bits - 1), -(2f64.powi(bits - 1)))
        } else {
            (2f64.powi(bits), -1.0)
        };
        let fconst = |s: &mut Self, x: f64| {
            if f64_ {
                s.ins(Instruction::F64Const(Ieee64::new(x.to_bits())));
            } else {
                s.ins(Instruction::F32Const(Ieee32::new((x as f32).to_bits())));
            }
        };
        let (lt, ge, gt, eq) = if f64_ {
            (
                Instruction::F64Lt,
                Instruction::F64Ge,
                Instruction::F64Gt,
                Instruction::F64Eq,
            )
        } else {
            (
                Instruction::F32Lt,
                Instruction::F32Ge,
                Instruction::F32Gt,
                Instruction::F32Eq,
            )
        };
        let iconst = |s: &mut Self, x: i64| {
            if wide_int {
                s.ins(Instruction::I64Const(x));
            } else {
                s.i32_const(x as i32);
            }
        };
        self.local_set(tmp);
        self.local_get(tmp);
        fconst(self, hi);
        self.ins(lt.clone());
        self.local_get(tmp);
        fconst(self, lo);
        self.ins(if signed { ge } else { gt.clone() });
        self.ins(Instruction::I32And);
        let result = if wide_int {
            wasm_encoder::ValType::I64
        } else {
            wasm_encoder::ValType::I32
        };
        self.ins(Instruction::If(BlockType::Result(result)));
        self.local_get(tmp);
        self.ins(convert(trapping));
        self.ins(Instruction::Else);
        if signed {
            let (min, max) = if wide_int {
                (i64::MIN, i64::MAX)
            } else {
                (i64::from(i32::MIN), i64::from(i32::MAX))
            };
            iconst(self, min);
            iconst(self, max);
            self.local_get(tmp);
            fconst(self, 0.0);
            self.ins(lt);
            self.ins(Instruction::Select);
            iconst(self, 0);
            self.local_get(tmp);
            self.local_get(tmp);
            self.ins(eq);
            self.ins(Instruction::Select);
        } else {
            iconst(self, -1);
            iconst(self, 0);
            self.local_get(tmp);
            fconst(self, 0.0);
            self.ins(gt);
            self.ins(Instruction::Select);
        }
        self.ins(Instruction::End);
        Ok(())
    }

    // Encoding helpers.

    /// Encodes `i`: the common one-byte instructions directly (the match folds away where
    /// the instruction is a constant), the others through wasm-encoder.
    #[inline]
    fn ins(&mut self, i: Instruction<'_>) {
        match simple_opcode(&i) {
            Some(b) => self.buf.push(b),
            None => i.encode(&mut self.buf),
        }
    }

    /// `br_table` with `depths` and `default`, as wasm-encoder writes it.
    fn br_table(&mut self, depths: &[u32], default: u32) {
        self.op_uleb(0x0e, depths.len() as u32);
        for &d in depths {
            uleb(&mut self.buf, d);
        }
        uleb(&mut self.buf, default);
    }

    #[inline(always)] // in the operand loop of `tree`
    fn i32_const(&mut self, x: i32) {
        if (-64..64).contains(&x) {
            // One write for the opcode and the one-byte immediate.
            self.buf.extend_from_slice(&[0x41, x as u8 & 0x7f]);
            return;
        }
        if (-8192..8192).contains(&x) {
            // Or the two-byte one (as `sleb` writes it).
            self.buf
                .extend_from_slice(&[0x41, x as u8 | 0x80, (x >> 7) as u8 & 0x7f]);
            return;
        }
        self.buf.push(0x41);
        sleb(&mut self.buf, i64::from(x));
    }

    /// Appends opcode `op` and the unsigned LEB128 of `x`.
    #[inline(always)]
    fn op_uleb(&mut self, op: u8, x: u32) {
        if x < 0x80 {
            // One write for both bytes (most local indices).
            self.buf.extend_from_slice(&[op, x as u8]);
        } else {
            self.buf.push(op);
            uleb(&mut self.buf, x);
        }
    }

    #[inline(always)] // in the operand loop of `tree`
    fn local_get(&mut self, l: u32) {
        if self.set_end == self.buf.len()
            && self.set_local == l
            && let Some(op) = self.buf.get_mut(self.set_pos)
        {
            *op = 0x22;
            self.set_end = 0;
            return;
        }
        self.op_uleb(0x20, l);
    }

    #[inline(always)] // in the operand loop of `tree`
    fn local_set(&mut self, l: u32) {
        self.set_pos = self.buf.len();
        self.op_uleb(0x21, l);
        self.set_end = self.buf.len();
        self.set_local = l;
    }

    fn local_tee(&mut self, l: u32) {
        self.op_uleb(0x22, l);
    }

    fn global_get(&mut self, g: SymRef) {
        self.buf.push(0x23);
        self.reloc_uleb(RelocType::GlobalIndexLeb, g.sym, g.index);
    }

    fn global_set(&mut self, g: SymRef) {
        self.buf.push(0x24);
        self.reloc_uleb(RelocType::GlobalIndexLeb, g.sym, g.index);
    }

    fn call(&mut self, f: SymRef) {
        self.buf.push(0x10);
        self.reloc_uleb(RelocType::FunctionIndexLeb, f.sym, f.index);
    }

    /// A padded ULEB with a relocation against `index` (a symbol, or a type).
    fn reloc_uleb(&mut self, ty: RelocType, index: u32, value: u32) {
        let offset = self.buf.len();
        self.relocs.push(Reloc {
            ty,
            offset: offset as u32,
            index,
            addend: 0,
        });
        let mut bytes = [0; 5];
        write_uleb5(&mut bytes, value);
        self.buf.extend_from_slice(&bytes);
    }

    /// A padded SLEB with a relocation against symbol `sym` plus `addend`.
    fn reloc_sleb(&mut self, ty: RelocType, sym: u32, value: i32, addend: i64) {
        let offset = self.buf.len();
        self.relocs.push(Reloc {
            ty,
            offset: offset as u32,
            index: sym,
            // Truncated to 32 bits: the field is a wasm32 address, which wraps.
            addend: if ty.has_addend() { addend as i32 } else { 0 },
        });
        let mut bytes = [0; 5];
        write_sleb5(&mut bytes, value);
        self.buf.extend_from_slice(&bytes);
    }
}

/// The opcode of the one-byte instructions lowering writes often (the others: `None`).
#[inline(always)]
pub(crate) fn simple_opcode(i: &Instruction<'_>) -> Option<u8> {
    Some(match i {
        Instruction::Unreachable => 0x00,
        Instruction::End => 0x0b,
        Instruction::Return => 0x0f,
        Instruction::Drop => 0x1a,
        Instruction::I32Add => 0x6a,
        Instruction::I32Sub => 0x6b,
        Instruction::I32And => 0x71,
        _ => return None,
    })
}

/// Appends `x` as an unsigned LEB128 (as wasm-encoder writes it).
#[inline]
pub(crate) fn uleb(buf: &mut Vec<u8>, mut x: u32) {
    while x >= 0x80 {
        buf.push((x as u8 & 0x7f) | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

/// Appends `x` as an unsigned LEB128 (as wasm-encoder writes it).
#[inline]
fn uleb64(buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        buf.push((x as u8 & 0x7f) | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

/// Appends `x` as a signed LEB128 (as wasm-encoder writes it).
#[inline]
pub(crate) fn sleb(buf: &mut Vec<u8>, mut x: i64) {
    if (-64..64).contains(&x) {
        buf.push(x as u8 & 0x7f);
        return;
    }
    loop {
        let byte = x as u8 & 0x7f;
        x >>= 7;
        if (x == 0 && byte & 0x40 == 0) || (x == -1 && byte & 0x40 != 0) {
            buf.push(byte);
            return;
        }
        buf.push(byte | 0x80);
    }
}

/// Single-byte opcodes of the unary and binary operations, by operation and type class
/// ([`class`]); 0 where the operation has none (then [`unary`] or [`binary`] is encoded).
pub(crate) struct OpBytes {
    pub unary: Vec<[u8; 4]>,
    pub binary: Vec<[u8; 4]>,
    /// Load opcodes by [`LoadKind`] and type class (0: none).
    pub load: Vec<[u8; 4]>,
    /// Store opcodes by [`StoreWidth`] and type class (0: none).
    pub store: Vec<[u8; 4]>,
    /// Conversion opcodes by [`ConvertOp`] (0: not one byte).
    pub convert: Vec<u8>,
}

/// The one-byte opcodes that are all their instruction encodes to, noted in the code table
/// ([`Lin::op`]) by the first walk, which reads the instruction anyway; 0 where there is
/// none (then [`Emitter::inst_simple`] or [`Emitter::inst`] encodes the instruction).
impl OpBytes {
    #[inline(always)]
    pub fn binary_op(&self, op: BinaryOp, ty: Type) -> u8 {
        self.binary.get(op as usize).map_or(0, |t| t[class(ty)])
    }

    /// Not the sign extensions, which are shifts without `sign-ext`.
    #[inline(always)]
    pub fn unary_op(&self, op: UnaryOp, ty: Type) -> u8 {
        match op {
            UnaryOp::Extend8S | UnaryOp::Extend16S | UnaryOp::Extend32S => 0,
            _ => self.unary.get(op as usize).map_or(0, |t| t[class(ty)]),
        }
    }

    /// For a conversion that is not expanded ([`trunc_sat_expanded`]).
    #[inline(always)]
    pub fn convert_op(&self, op: ConvertOp) -> u8 {
        self.convert.get(op as usize).copied().unwrap_or(0)
    }
}

/// The opcode tables, made once from [`unary`], [`binary`], `load`, `store` and [`convert`]
/// through wasm-encoder.
pub(crate) fn op_bytes() -> &'static OpBytes {
    static TABLE: std::sync::OnceLock<OpBytes> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let byte = |i: Option<Instruction<'static>>| {
            let mut v = Vec::new();
            if let Some(i) = i {
                i.encode(&mut v);
            }
            match v[..] {
                [b] => b,
                _ => 0,
            }
        };
        // A load or store with memory argument (align 0, offset 0) is its opcode then
        // two zero bytes when the opcode is one byte.
        let mem = MemArg {
            offset: 0,
            align: 0,
            target: MemArgTarget::Memory(0),
            ordering: None,
        };
        let mem_byte = |in_place: bool, i: Option<Instruction<'static>>| {
            let mut v = Vec::new();
            if let Some(i) = i {
                i.encode(&mut v);
            }
            match v[..] {
                [b, 0, 0] if in_place => b,
                _ => 0,
            }
        };
        let types = [Type::I32, Type::I64, Type::F32, Type::F64];
        OpBytes {
            unary: UnaryOp::ALL
                .iter()
                .map(|&op| types.map(|t| byte(unary(op, t))))
                .collect(),
            binary: BinaryOp::ALL
                .iter()
                .map(|&op| types.map(|t| byte(binary(op, t))))
                .collect(),
            load: LoadKind::ALL
                .iter()
                .enumerate()
                .map(|(k, &kind)| types.map(|t| mem_byte(k == kind as usize, load(t, kind, mem))))
                .collect(),
            store: StoreWidth::ALL
                .iter()
                .enumerate()
                .map(|(k, &w)| types.map(|t| mem_byte(k == w as usize, store(t, w, mem))))
                .collect(),
            convert: ConvertOp::ALL
                .iter()
                .enumerate()
                .map(|(k, &op)| {
                    if k == op as usize {
                        byte(Some(convert(op)))
                    } else {
                        0
                    }
                })
                .collect(),
        }
    })
}

/// The wasm value type of an IR type.
pub(crate) fn val_type(ty: Type) -> wasm_encoder::ValType {
    match ty.canonical() {
        Type::I64 => wasm_encoder::ValType::I64,
        Type::F32 => wasm_encoder::ValType::F32,
        Type::F64 => wasm_encoder::ValType::F64,
        _ => wasm_encoder::ValType::I32,
    }
}

fn mem32(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 2,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// The memarg of an access of `bytes` bytes: alignment as log2, natural when 0.
fn memarg(mem: IrMemArg, bytes: u32) -> MemArg {
    let natural = bytes.max(1).trailing_zeros();
    let align = if mem.align == 0 {
        natural
    } else {
        mem.align.trailing_zeros().min(natural)
    };
    MemArg {
        offset: u64::from(mem.offset),
        align,
        target: MemArgTarget::Memory(0),
        ordering: None,
    }
}

fn load(ty: Type, kind: LoadKind, m: MemArg) -> Option<Instruction<'static>> {
    use Instruction as I;
    use LoadKind::*;
    Some(match (ty.canonical(), kind) {
        (Type::I32, Full) => I::I32Load(m),
        (Type::I32, S8) => I::I32Load8S(m),
        (Type::I32, U8) => I::I32Load8U(m),
        (Type::I32, S16) => I::I32Load16S(m),
        (Type::I32, U16) => I::I32Load16U(m),
        (Type::I64, Full) => I::I64Load(m),
        (Type::I64, S8) => I::I64Load8S(m),
        (Type::I64, U8) => I::I64Load8U(m),
        (Type::I64, S16) => I::I64Load16S(m),
        (Type::I64, U16) => I::I64Load16U(m),
        (Type::I64, S32) => I::I64Load32S(m),
        (Type::I64, U32) => I::I64Load32U(m),
        (Type::F32, Full) => I::F32Load(m),
        (Type::F64, Full) => I::F64Load(m),
        _ => return None,
    })
}

fn store(ty: Type, width: StoreWidth, m: MemArg) -> Option<Instruction<'static>> {
    use Instruction as I;
    use StoreWidth::*;
    Some(match (ty.canonical(), width) {
        (Type::I32, Full) => I::I32Store(m),
        (Type::I32, W8) => I::I32Store8(m),
        (Type::I32, W16) => I::I32Store16(m),
        (Type::I64, Full) => I::I64Store(m),
        (Type::I64, W8) => I::I64Store8(m),
        (Type::I64, W16) => I::I64Store16(m),
        (Type::I64, W32) => I::I64Store32(m),
        (Type::F32, Full) => I::F32Store(m),
        (Type::F64, Full) => I::F64Store(m),
        _ => return None,
    })
}

pub(crate) fn unary(op: UnaryOp, ty: Type) -> Option<Instruction<'static>> {
    use Instruction as I;
    use UnaryOp::*;
    Some(match (ty.canonical(), op) {
        (Type::I32, Clz) => I::I32Clz,
        (Type::I32, Ctz) => I::I32Ctz,
        (Type::I32, Popcnt) => I::I32Popcnt,
        (Type::I32, Eqz) => I::I32Eqz,
        (Type::I32, Extend8S) => I::I32Extend8S,
        (Type::I32, Extend16S) => I::I32Extend16S,
        (Type::I64, Clz) => I::I64Clz,
        (Type::I64, Ctz) => I::I64Ctz,
        (Type::I64, Popcnt) => I::I64Popcnt,
        (Type::I64, Eqz) => I::I64Eqz,
        (Type::I64, Extend8S) => I::I64Extend8S,
        (Type::I64, Extend16S) => I::I64Extend16S,
        (Type::I64, Extend32S) => I::I64Extend32S,
        (Type::F32, Abs) => I::F32Abs,
        (Type::F32, Neg) => I::F32Neg,
        (Type::F32, Ceil) => I::F32Ceil,
        (Type::F32, Floor) => I::F32Floor,
        (Type::F32, Trunc) => I::F32Trunc,
        (Type::F32, Nearest) => I::F32Nearest,
        (Type::F32, Sqrt) => I::F32Sqrt,
        (Type::F64, Abs) => I::F64Abs,
        (Type::F64, Neg) => I::F64Neg,
        (Type::F64, Ceil) => I::F64Ceil,
        (Type::F64, Floor) => I::F64Floor,
        (Type::F64, Trunc) => I::F64Trunc,
        (Type::F64, Nearest) => I::F64Nearest,
        (Type::F64, Sqrt) => I::F64Sqrt,
        _ => return None,
    })
}

pub(crate) fn binary(op: BinaryOp, ty: Type) -> Option<Instruction<'static>> {
    use BinaryOp::*;
    use Instruction as I;
    Some(match (ty.canonical(), op) {
        (Type::I32, Add) => I::I32Add,
        (Type::I32, Sub) => I::I32Sub,
        (Type::I32, Mul) => I::I32Mul,
        (Type::I32, DivS) => I::I32DivS,
        (Type::I32, DivU) => I::I32DivU,
        (Type::I32, RemS) => I::I32RemS,
        (Type::I32, RemU) => I::I32RemU,
        (Type::I32, And) => I::I32And,
        (Type::I32, Or) => I::I32Or,
        (Type::I32, Xor) => I::I32Xor,
        (Type::I32, Shl) => I::I32Shl,
        (Type::I32, ShrS) => I::I32ShrS,
        (Type::I32, ShrU) => I::I32ShrU,
        (Type::I32, Rotl) => I::I32Rotl,
        (Type::I32, Rotr) => I::I32Rotr,
        (Type::I32, Eq) => I::I32Eq,
        (Type::I32, Ne) => I::I32Ne,
        (Type::I32, LtS) => I::I32LtS,
        (Type::I32, LtU) => I::I32LtU,
        (Type::I32, GtS) => I::I32GtS,
        (Type::I32, GtU) => I::I32GtU,
        (Type::I32, LeS) => I::I32LeS,
        (Type::I32, LeU) => I::I32LeU,
        (Type::I32, GeS) => I::I32GeS,
        (Type::I32, GeU) => I::I32GeU,
        (Type::I64, Add) => I::I64Add,
        (Type::I64, Sub) => I::I64Sub,
        (Type::I64, Mul) => I::I64Mul,
        (Type::I64, DivS) => I::I64DivS,
        (Type::I64, DivU) => I::I64DivU,
        (Type::I64, RemS) => I::I64RemS,
        (Type::I64, RemU) => I::I64RemU,
        (Type::I64, And) => I::I64And,
        (Type::I64, Or) => I::I64Or,
        (Type::I64, Xor) => I::I64Xor,
        (Type::I64, Shl) => I::I64Shl,
        (Type::I64, ShrS) => I::I64ShrS,
        (Type::I64, ShrU) => I::I64ShrU,
        (Type::I64, Rotl) => I::I64Rotl,
        (Type::I64, Rotr) => I::I64Rotr,
        (Type::I64, Eq) => I::I64Eq,
        (Type::I64, Ne) => I::I64Ne,
        (Type::I64, LtS) => I::I64LtS,
        (Type::I64, LtU) => I::I64LtU,
        (Type::I64, GtS) => I::I64GtS,
        (Type::I64, GtU) => I::I64GtU,
        (Type::I64, LeS) => I::I64LeS,
        (Type::I64, LeU) => I::I64LeU,
        (Type::I64, GeS) => I::I64GeS,
        (Type::I64, GeU) => I::I64GeU,
        (Type::F32, Add) => I::F32Add,
        (Type::F32, Sub) => I::F32Sub,
        (Type::F32, Mul) => I::F32Mul,
        (Type::F32, Div) => I::F32Div,
        (Type::F32, Min) => I::F32Min,
        (Type::F32, Max) => I::F32Max,
        (Type::F32, Copysign) => I::F32Copysign,
        (Type::F32, Eq) => I::F32Eq,
        (Type::F32, Ne) => I::F32Ne,
        (Type::F32, Lt) => I::F32Lt,
        (Type::F32, Gt) => I::F32Gt,
        (Type::F32, Le) => I::F32Le,
        (Type::F32, Ge) => I::F32Ge,
        (Type::F64, Add) => I::F64Add,
        (Type::F64, Sub) => I::F64Sub,
        (Type::F64, Mul) => I::F64Mul,
        (Type::F64, Div) => I::F64Div,
        (Type::F64, Min) => I::F64Min,
        (Type::F64, Max) => I::F64Max,
        (Type::F64, Copysign) => I::F64Copysign,
        (Type::F64, Eq) => I::F64Eq,
        (Type::F64, Ne) => I::F64Ne,
        (Type::F64, Lt) => I::F64Lt,
        (Type::F64, Gt) => I::F64Gt,
        (Type::F64, Le) => I::F64Le,
        (Type::F64, Ge) => I::F64Ge,
        _ => return None,
    })
}

pub(crate) fn convert(op: ConvertOp) -> Instruction<'static> {
    use ConvertOp::*;
    use Instruction as I;
    match op {
        I32WrapI64 => I::I32WrapI64,
        I64ExtendI32S => I::I64ExtendI32S,
        I64ExtendI32U => I::I64ExtendI32U,
        I32TruncF32S => I::I32TruncF32S,
        I32TruncF32U => I::I32TruncF32U,
        I32TruncF64S => I::I32TruncF64S,
        I32TruncF64U => I::I32TruncF64U,
        I64TruncF32S => I::I64TruncF32S,
        I64TruncF32U => I::I64TruncF32U,
        I64TruncF64S => I::I64TruncF64S,
        I64TruncF64U => I::I64TruncF64U,
        I32TruncSatF32S => I::I32TruncSatF32S,
        I32TruncSatF32U => I::I32TruncSatF32U,
        I32TruncSatF64S => I::I32TruncSatF64S,
        I32TruncSatF64U => I::I32TruncSatF64U,
        I64TruncSatF32S => I::I64TruncSatF32S,
        I64TruncSatF32U => I::I64TruncSatF32U,
        I64TruncSatF64S => I::I64TruncSatF64S,
        I64TruncSatF64U => I::I64TruncSatF64U,
        F32ConvertI32S => I::F32ConvertI32S,
        F32ConvertI32U => I::F32ConvertI32U,
        F32ConvertI64S => I::F32ConvertI64S,
        F32ConvertI64U => I::F32ConvertI64U,
        F64ConvertI32S => I::F64ConvertI32S,
        F64ConvertI32U => I::F64ConvertI32U,
        F64ConvertI64S => I::F64ConvertI64S,
        F64ConvertI64U => I::F64ConvertI64U,
        F32DemoteF64 => I::F32DemoteF64,
        F64PromoteF32 => I::F64PromoteF32,
        I32ReinterpretF32 => I::I32ReinterpretF32,
        I64ReinterpretF64 => I::I64ReinterpretF64,
        F32ReinterpretI32 => I::F32ReinterpretI32,
        F64ReinterpretI64 => I::F64ReinterpretI64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The opcodes the code table carries ([`Lin::op`]) are exactly what wasm-encoder
    /// writes for the instruction, and the sign extensions (shifts without `sign-ext`) and
    /// the instructions of more than one byte carry none.
    #[test]
    fn code_table_opcodes_match_wasm_encoder() {
        let table = op_bytes();
        let check = |byte: u8, ins: Option<Instruction<'static>>, what: &str| {
            let want = ins.map(|i| {
                let mut v = Vec::new();
                i.encode(&mut v);
                v
            });
            match want.as_deref() {
                Some([b]) => assert_eq!(byte, *b, "{what}"),
                _ => assert_eq!(byte, 0, "{what}: more than one byte, or none"),
            }
        };
        let mut ones = 0;
        for ty in [Type::I32, Type::I64, Type::F32, Type::F64] {
            for &op in BinaryOp::ALL {
                let b = table.binary_op(op, ty);
                check(b, binary(op, ty), &format!("{op:?} {ty:?}"));
                ones += usize::from(b != 0);
            }
            for &op in UnaryOp::ALL {
                let b = table.unary_op(op, ty);
                if matches!(
                    op,
                    UnaryOp::Extend8S | UnaryOp::Extend16S | UnaryOp::Extend32S
                ) {
                    assert_eq!(b, 0, "{op:?} {ty:?}");
                } else {
                    check(b, unary(op, ty), &format!("{op:?} {ty:?}"));
                }
                ones += usize::from(b != 0);
            }
        }
        for &op in ConvertOp::ALL {
            let b = table.convert_op(op);
            check(b, Some(convert(op)), &format!("{op:?}"));
            ones += usize::from(b != 0);
        }
        // 76 binary and 22 unary operations (by type), the 25 conversions other than the
        // saturating truncations (prefixed).
        assert_eq!(ones, 76 + 22 + 25);
    }

    /// The load and store tables with `mem_op` write exactly what wasm-encoder writes, for
    /// every kind and type it encodes, memory arguments with multi-byte LEBs included.
    #[test]
    fn memory_opcode_tables_match_wasm_encoder() {
        let table = op_bytes();
        let types = [Type::I32, Type::I64, Type::F32, Type::F64];
        let args = [
            (0, 0),
            (3, 127),
            (2, 128),
            (1, 1 << 20),
            (0, u64::from(u32::MAX)),
        ];
        let mut checked = 0;
        for (align, offset) in args {
            let m = || MemArg {
                offset,
                align,
                target: MemArgTarget::Memory(0),
                ordering: None,
            };
            for (c, &ty) in types.iter().enumerate() {
                let mut cases: Vec<(u8, Option<Instruction<'static>>)> = Vec::new();
                for &kind in &LoadKind::ALL {
                    cases.push((table.load[kind as usize][c], load(ty, kind, m())));
                }
                for &w in &StoreWidth::ALL {
                    cases.push((table.store[w as usize][c], store(ty, w, m())));
                }
                for (byte, ins) in cases {
                    let Some(ins) = ins else {
                        assert_eq!(byte, 0, "{ty:?}: a table entry without an instruction");
                        continue;
                    };
                    let mut want = Vec::new();
                    ins.encode(&mut want);
                    let mut e = Emitter::default();
                    e.mem_op(byte, m());
                    assert_eq!(e.buf, want, "{ty:?}, align {align}, offset {offset}");
                    checked += 1;
                }
            }
        }
        // 14 loads and 9 stores, for each memory argument.
        assert_eq!(checked, 23 * args.len());
    }
}
