//! Where each SSA value lives in the wasm function: on the operand stack, rematerialized as
//! a constant, or in a local.
//!
//! Approach, per function, over the structured order of [`Node`]s:
//!
//! 1. One walk over the reachable blocks (those in a [`Node::Code`]) builds the code table
//!    ([`Lin`]: each non-constant instruction's operands in push order and its result),
//!    which every later step and the emitter read instead of the instruction data, counts
//!    uses, and notes what the code needs of the module ([`CodeNeeds`]). A block parameter nobody reads is dead: it gets no local, and the edge
//!    arguments for it are not uses.
//! 2. Stackification, block by block from the end, without ever reordering an instruction:
//!    an operand stays on the stack when it is the single result of the instruction emitted
//!    right before the consumer's operand tree (constants emit nothing and are skipped), and
//!    that is its only use. A block's terminator is a consumer when its node follows the
//!    block's code directly (`If` condition, `BrTable` index, `Return` values, the `Edge`
//!    copies of a `jump`). Since only stackified instructions lie inside an operand tree,
//!    and they write no allocated local, the local reads of a consumer may be emitted
//!    before its stackified operands' trees.
//! 3. SSA liveness of the values left, which get dense numbers: live-in sets as rows of
//!    bits by backward dataflow, or, when the rows would be large for the function, by
//!    exploring paths backward from each use to the definition. Block parameters are
//!    defined at the start of their block;
//!    edge arguments are used at the end of the branching block. Edge copies are parallel
//!    copies that run on the edge only, so a parameter interferes exactly with the values
//!    live into its block.
//! 4. Coloring per value type, block by block in structured order (a block's dominators
//!    come first): a value takes a local that no live value holds, preferring the local of
//!    the value an edge copy connects it to (which removes the copy). Function parameters
//!    are locals `0..n` and are reused once dead. Locals are numbered by type (i32, i64,
//!    f32, f64) so the declaration has at most four entries; scratch locals that some
//!    expansions need (frame base, saved stack pointer, temporaries) join their type's
//!    group. Every local is written and read: values without uses get none. Only the
//!    blocks that define values with locals are visited, from definition to definition
//!    (what is live elsewhere decides nothing).
//!
//! Everything is iterative: deep nesting and long expression chains use heap stacks.

use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

use cranelift_entity::packed_option::PackedOption;
use cranelift_entity::{EntityRef, SecondaryMap};

use super::emit::op_bytes;
use super::structured::Node;
use crate::ir::{
    Block, BlockCall, ConvertOp, DataFlowGraph, EnumRef, Function, Inst, InstData, Intrinsic,
    StackSlot, Type, Value, ValueDef,
};
use crate::object::LocalNames;
use crate::target::Features;

/// Where a value lives.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub(crate) enum Place {
    /// Never read (or in unreachable code): a result is dropped.
    #[default]
    Unused,
    /// Left on the operand stack for its single consumer by the instruction at this
    /// position in the code table ([`Values::lin`]).
    Stack(u32),
    /// A constant, emitted at each use: this instruction's value.
    Const(Inst),
    /// Needs a local, not yet assigned; the value's dense number.
    Pending(u32),
    /// In this local.
    Local(u32),
}

/// [`Values::marks`]: visited by the first pass.
const VISITED: u8 = 1;
/// [`Values::marks`]: the destination of a backward edge.
const HEADER: u8 = 2;

/// No dense number, or no local yet.
const NO_LOCAL: u32 = u32::MAX;

/// Local type classes, in declaration order.
pub(crate) const CLASSES: [Type; 4] = [Type::I32, Type::I64, Type::F32, Type::F64];

/// The class index of a type.
pub(crate) fn class(ty: Type) -> usize {
    match ty.canonical() {
        Type::I64 => 1,
        Type::F32 => 2,
        Type::F64 => 3,
        _ => 0,
    }
}

/// Frame layout on the shadow stack.
#[derive(Clone, Debug, Default)]
pub(crate) struct Frame {
    /// Frame size in bytes (a multiple of 16), 0 without a frame.
    pub size: u32,
    /// Largest alignment of a slot (at least 16 with a frame).
    pub align: u32,
    /// Offset of each stack slot from the frame base.
    pub slot_offset: SecondaryMap<StackSlot, u32>,
    /// Whether a 16-byte area at offset 0 receives i128 results.
    pub sret: bool,
}

/// Scratch locals some expansions need (final indices).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Scratch {
    /// The frame base (stack pointer after the prologue).
    pub frame: Option<u32>,
    /// The caller's stack pointer, for frames aligned beyond 16.
    pub saved_sp: Option<u32>,
    /// An i32 temporary (tag names).
    pub tmp_i32: Option<u32>,
    /// An f32 temporary (saturating truncation without the feature).
    pub tmp_f32: Option<u32>,
    /// An f64 temporary (saturating truncation without the feature).
    pub tmp_f64: Option<u32>,
}

/// What a function's code needs of the module besides the items it names: runtime
/// functions, tag-name functions, the stack pointer, the TLS base, the table, the memory.
#[derive(Clone, Debug, Default)]
pub(crate) struct CodeNeeds {
    /// The runtime functions it calls, one bit per [`Intrinsic`] (by discriminant).
    pub runtime: u64,
    /// The enums whose tag-name function it calls, each once.
    pub tag_names: Vec<EnumRef>,
    /// `__stack_pointer`.
    pub stack_pointer: bool,
    /// `__tls_base`.
    pub tls_base: bool,
    /// The indirect function table.
    pub table: bool,
    /// The linear memory.
    pub memory: bool,
}

// Every intrinsic has its bit in `CodeNeeds::runtime`.
const _: () = assert!(Intrinsic::ALL.len() <= 64);

impl CodeNeeds {
    /// Notes a call of intrinsic `i`'s runtime function.
    #[inline]
    pub fn runtime(&mut self, i: Intrinsic) {
        self.runtime |= 1 << (i as u32);
    }

    /// Whether the code calls intrinsic `i`'s runtime function.
    pub fn calls(&self, i: Intrinsic) -> bool {
        self.runtime & (1 << (i as u32)) != 0
    }

    /// Notes a call of enum `e`'s tag-name function.
    #[inline]
    pub fn tag_name(&mut self, e: EnumRef) {
        if !self.tag_names.contains(&e) {
            self.tag_names.push(e);
        }
    }

    /// Notes what an intrinsic needs.
    #[inline]
    fn intrinsic(&mut self, i: Intrinsic, features: Features) {
        let sret = i.results().len() == 2;
        self.memory |= sret
            || matches!(
                i,
                Intrinsic::Memcpy | Intrinsic::Memmove | Intrinsic::Memset
            );
        self.stack_pointer |= sret;
        if !intrinsic_inlined(i, features) {
            self.runtime(i);
        }
    }

    /// Notes what the instruction `data` needs (the same as [`Values::analyze`] notes for
    /// the instructions of the reachable blocks; terminators and constants need nothing).
    pub fn note(&mut self, data: &InstData, features: Features) {
        match *data {
            InstData::Intrinsic { intrinsic, .. } => self.intrinsic(intrinsic, features),
            InstData::MemoryCopy { .. } => {
                self.memory = true;
                if !features.bulk_memory {
                    self.runtime(Intrinsic::Memmove);
                }
            }
            InstData::MemoryFill { .. } => {
                self.memory = true;
                if !features.bulk_memory {
                    self.runtime(Intrinsic::Memset);
                }
            }
            InstData::TagName { enum_ref, .. } => {
                self.memory = true;
                self.tag_name(enum_ref);
            }
            InstData::StackAddr { .. } => {
                self.stack_pointer = true;
                self.memory = true;
            }
            InstData::TlsAddr { .. } => {
                self.tls_base = true;
                self.memory = true;
            }
            InstData::CallIndirect { .. } => self.table = true,
            InstData::Load { .. }
            | InstData::Store { .. }
            | InstData::MemorySize
            | InstData::MemoryGrow { .. }
            | InstData::DataAddr { .. } => self.memory = true,
            _ => {}
        }
    }
}

/// Why the analysis failed.
#[derive(Clone, Debug)]
pub(crate) enum AnalyzeError {
    /// The nodes do not fit the function.
    Structure(String),
    /// The frame is too large; its size in bytes.
    Frame(u64),
}

impl From<&str> for AnalyzeError {
    fn from(s: &str) -> AnalyzeError {
        AnalyzeError::Structure(s.to_string())
    }
}

impl From<String> for AnalyzeError {
    fn from(s: String) -> AnalyzeError {
        AnalyzeError::Structure(s)
    }
}

/// One instruction of a block's code (the terminator and the constants excluded), in
/// structured order: what the analysis and the emitter read of it, found once.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Lin {
    /// The instruction.
    pub inst: Inst,
    /// Its operands, in the order lowering pushes them, are `ops[ops.0..ops.1]`.
    pub ops: (u32, u32),
    /// Its result when it has exactly one.
    pub result: PackedOption<Value>,
    /// [`Lin::SRET`], [`Lin::MULTI`], [`Lin::STACKED`].
    pub flags: u8,
    /// The instruction's opcode when that one byte is all it encodes to, else 0 (see
    /// `OpBytes::binary_op` in `emit.rs`).
    pub op: u8,
}

impl Lin {
    /// An i128 intrinsic that calls through a return slot (two results): its pointer goes
    /// first, so its operands cannot be on the stack already.
    pub const SRET: u8 = 1;
    /// More than one result.
    pub const MULTI: u8 = 2;
    /// Its result is left on the operand stack for its consumer ([`Place::Stack`]): it is
    /// emitted in the consumer's operand tree (set by the stackification).
    pub const STACKED: u8 = 4;
}

/// A value with a local ([`Values::dense_vals`]): one record, written once by the
/// numbering.
#[derive(Copy, Clone, Debug)]
struct DenseVal {
    /// The value.
    val: Value,
    /// The block that defines it.
    block: Block,
    /// The end in `lin_ops` of the operands of the instruction that defines it
    /// ([`NO_LOCAL`] for a block parameter): an operand at index `i` is read at or before
    /// that instruction exactly when `i` is below it (the operands of `lin` are
    /// consecutive, in code order).
    end: u32,
}

/// The use count of a value ([`Values::counts`]).
#[derive(Copy, Clone, Debug, Default)]
struct Uses {
    /// Counted uses.
    uses: u32,
    /// 1 when read by something other than an edge copy to a dead parameter, else 0
    /// (a whole word: the table is reset by a plain fill of zeros).
    param_live: u32,
}

/// Reusable per-function analysis state; [`Values::analyze`] fills it.
#[derive(Default)]
pub(crate) struct Values {
    /// Where each value lives.
    pub place: Table<Value, Place>,
    /// The code of the reachable blocks, block by block in structured order.
    pub lin: Vec<Lin>,
    /// Operands of the instructions of `lin`.
    pub lin_ops: Vec<Value>,
    /// The range of each reachable block's code in `lin`.
    pub code_range: Table<Block, (u32, u32)>,
    /// Counted uses of each value, and whether it is read by something other than an
    /// edge copy (one record: the first walk writes both at each operand).
    counts: Table<Value, Uses>,
    /// Blocks that appear in a `Code` node.
    reachable: Table<Block, bool>,
    /// (parameter, argument) of every edge copy in reachable code.
    edge_pairs: Vec<(Value, Value)>,
    /// What the terminators of the reachable blocks read: a condition, an index or the
    /// returned values (with `None`), then each edge argument with its parameter.
    term_uses: Vec<(Value, Option<Value>)>,
    /// The range of each reachable block's terminator in `term_uses`.
    term_range: Table<Block, (u32, u32)>,
    /// The destinations of the terminators of the reachable blocks, in `for_each_dest`
    /// order (found once by the first walk).
    succ_list: Vec<Block>,
    /// The range of each reachable block's destinations in `succ_list`.
    succ_range: Table<Block, (u32, u32)>,
    /// Work list of values.
    work_vals: Vec<Value>,
    /// Reachable blocks in structured order.
    order: Vec<Block>,
    /// The position in the nodes of each block of `order`'s [`Node::Code`].
    node_pos: Vec<u32>,
    /// Predecessors (CSR by block index): offsets (the first walk counts them) and blocks.
    pred_off: Vec<u32>,
    /// Predecessor blocks.
    preds: Vec<Block>,
    /// Next free slot of each block in `preds` while filling it.
    fill: Vec<u32>,
    /// (value, block) for each use of a value with a local; edge and terminator uses count
    /// in the branching block.
    use_pairs: Vec<(Value, Block)>,
    /// (block, value): the value is live on entry to the block.
    live_pairs: Vec<(Block, Value)>,
    /// Live-in sets of the path exploration (CSR by block index): offsets and values.
    live_off: Vec<u32>,
    /// Live-in values.
    live_vals: Vec<Value>,
    /// Per block: the value (index + 1) last marked live-in there.
    block_stamp: Vec<u32>,
    /// Work list of blocks.
    work: Vec<Block>,
    /// Per block, in the bit-set liveness: [`VISITED`] by the first pass, the
    /// destination of a backward edge ([`HEADER`]).
    marks: Vec<u8>,
    /// Values with a local, by dense number, with their defining block and instruction.
    dense_vals: Vec<DenseVal>,
    /// The first dense number of each block of `order` (by position), then the end of the
    /// last: block `order[i]` defines the values `order_dense[i]..order_dense[i + 1]`
    /// (besides the entry block's parameters, numbered first).
    order_dense: Vec<u32>,
    /// The local of each value with a local, by dense number ([`NO_LOCAL`] until
    /// coloring reaches its definition).
    dense_local: Vec<u32>,
    /// Coalescing hint of each value with a local, by dense number: the dense number of a
    /// value an edge copy connects it to ([`NO_LOCAL`] for none).
    hint: Vec<u32>,
    /// The dense number of each operand in `lin_ops` whose value has a local, otherwise
    /// [`NO_LOCAL`] (written by the liveness walk over the uses, read by coloring).
    op_dense: Vec<u32>,
    /// Bit rows by block: values used before any definition in the block.
    gen_bits: Vec<u64>,
    /// Bit rows by block: values defined in the block.
    kill_bits: Vec<u64>,
    /// Bit rows by block: values live on entry.
    live_bits: Vec<u64>,
    /// Whether the live-in sets are the rows of `live_bits` (otherwise `live_off` and
    /// `live_vals`).
    live_rows: bool,
    /// One row of bits: live out of the block at hand.
    row: Vec<u64>,
    /// Per value: stamp of the backward scan that found it live (with the live-in sets of
    /// the path exploration).
    live_stamp: Table<Value, u32>,
    /// Last uses in the current block as (index in `lin_ops`, dense number), latest first
    /// (found scanning backward, consumed from the end scanning forward).
    kills: Vec<(u32, u32)>,
    /// Per local: the block stamp while its value is live.
    occupied: Vec<u32>,
    /// Locals of each class (pre-renumbering indices).
    class_locals: [Vec<u32>; 4],
    /// Per local: its position in its class list.
    pos_in_class: Vec<u32>,
    /// Per class: no free local lies before this position in the class list.
    cursor: [usize; 4],
    /// The operand stack of the stackification walk (the terminator's operands first).
    term_ops: Vec<Value>,
    /// Stackification frames: the operands (range in `lin_ops`) left to consume.
    op_frames: Vec<(u32, u32)>,
    /// Per local (pre-renumbering): class.
    local_class: Vec<u8>,
    /// Per local: number of values and the first value, and the number of block params
    /// and the first one, for names.
    local_vals: Vec<(u32, Value, u32, Option<Value>)>,
    /// Renumbering of locals.
    renumber: Vec<u32>,
    /// The locals (pre-renumbering indices) by final index.
    by_final: Vec<u32>,
    /// Number of locals of each class, after the parameters.
    pub class_counts: [u32; 4],
    /// Number of parameters.
    pub num_params: u32,
    /// Local names by final index.
    pub local_names: LocalNames,
    /// Scratch locals.
    pub scratch: Scratch,
    /// Frame layout.
    pub frame: Frame,
    /// What the reachable code needs of the module (found by the first walk).
    pub needs: CodeNeeds,
}

/// Whether a saturating truncation needs its guarded expansion.
pub(crate) fn trunc_sat_expanded(op: ConvertOp, features: Features) -> bool {
    use ConvertOp::*;
    !features.nontrapping_fptoint
        && matches!(
            op,
            I32TruncSatF32S
                | I32TruncSatF32U
                | I32TruncSatF64S
                | I32TruncSatF64U
                | I64TruncSatF32S
                | I64TruncSatF32U
                | I64TruncSatF64S
                | I64TruncSatF64U
        )
}

/// The block call of destination `dest` of `inst` (in `for_each_dest` order).
pub(crate) fn dest_of(dfg: &DataFlowGraph, inst: Inst, dest: u32) -> Option<crate::ir::BlockCall> {
    match &dfg.insts[inst] {
        InstData::Jump { dest: d } => (dest == 0).then_some(*d),
        InstData::BrIf {
            then_dest,
            else_dest,
            ..
        } => match dest {
            0 => Some(*then_dest),
            1 => Some(*else_dest),
            _ => None,
        },
        InstData::BrTable { table, .. } => {
            let jt = dfg.jump_tables.get(*table)?;
            let n = jt.targets.len();
            match (dest as usize).cmp(&n) {
                std::cmp::Ordering::Less => jt.targets.get(dest as usize).copied(),
                std::cmp::Ordering::Equal => Some(jt.default),
                std::cmp::Ordering::Greater => None,
            }
        }
        _ => None,
    }
}

/// The destinations of reachable block `b`'s terminator (`list` and `range` as
/// [`Values::succ_list`] and [`Values::succ_range`]).
#[inline]
fn succs_in<'a>(list: &'a [Block], range: &Table<Block, (u32, u32)>, b: Block) -> &'a [Block] {
    let (s, e) = range[b];
    list.get(s as usize..e as usize).unwrap_or(&[])
}

/// Sets `row` to the union of the rows of `w` words of `live` of the blocks `succs` (the
/// live-out set from the successors' live-in sets).
#[inline]
fn or_rows(row: &mut [u64], live: &[u64], succs: &[Block], w: usize) {
    /// For rows of `W` words: the loop unrolled.
    fn fixed<const W: usize>(row: &mut [u64], live: &[u64], succs: &[Block]) {
        let Some(row) = row.get_mut(..W) else {
            return;
        };
        let mut acc = [0u64; W];
        for &d in succs {
            let s = d.index() * W;
            if let Some(src) = live.get(s..s + W) {
                for (x, y) in acc.iter_mut().zip(src) {
                    *x |= y;
                }
            }
        }
        row.copy_from_slice(&acc);
    }
    match w {
        1 => fixed::<1>(row, live, succs),
        2 => fixed::<2>(row, live, succs),
        3 => fixed::<3>(row, live, succs),
        4 => fixed::<4>(row, live, succs),
        _ => {
            row.iter_mut().for_each(|x| *x = 0);
            for &d in succs {
                let s = d.index() * w;
                if let Some(src) = live.get(s..s + w) {
                    row.iter_mut().zip(src).for_each(|(x, y)| *x |= y);
                }
            }
        }
    }
}

/// The dense number of a value with place `p` before the locals are renumbered: a pending
/// value's, or an entry block parameter's local.
#[inline(always)]
fn dense_of(p: Place) -> Option<u32> {
    match p {
        Place::Pending(d) | Place::Local(d) => Some(d),
        _ => None,
    }
}

/// Sets the bits `lo..hi` of `row`.
#[inline]
fn set_bits(row: &mut [u64], lo: usize, hi: usize) {
    let mut k = lo;
    while k < hi {
        let bit = k % 64;
        let n = (hi - k).min(64 - bit);
        let mask = if n == 64 {
            !0
        } else {
            ((1u64 << n) - 1) << bit
        };
        if let Some(x) = row.get_mut(k / 64) {
            *x |= mask;
        }
        k += n;
    }
}

/// A table by entity for one function: a plain vector, indexed without the default
/// fallback or the growth of a [`SecondaryMap`] (the keys are the function's own, and
/// [`reset`] sizes the table for them).
pub(crate) struct Table<K, V> {
    elems: Vec<V>,
    key: PhantomData<K>,
}

impl<K, V> Default for Table<K, V> {
    fn default() -> Self {
        Table {
            elems: Vec::new(),
            key: PhantomData,
        }
    }
}

impl<K: EntityRef, V> Index<K> for Table<K, V> {
    type Output = V;

    #[inline(always)]
    fn index(&self, k: K) -> &V {
        &self.elems[k.index()]
    }
}

impl<K: EntityRef, V> IndexMut<K> for Table<K, V> {
    #[inline(always)]
    fn index_mut(&mut self, k: K) -> &mut V {
        &mut self.elems[k.index()]
    }
}

/// Resets a table to hold `n` default entries (the allocation is kept).
fn reset<K, V: Clone + Default>(m: &mut Table<K, V>, n: usize) {
    m.elems.clear();
    m.elems.resize(n, V::default());
}

impl Values {
    /// Analyzes `func` for the structured order `nodes`. Errors describe nodes that do not
    /// fit the function.
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    pub fn analyze(
        &mut self,
        func: &Function,
        nodes: &[Node],
        features: Features,
    ) -> Result<(), AnalyzeError> {
        let dfg = &func.dfg;
        let nv = dfg.values.len();
        reset(&mut self.place, nv);
        reset(&mut self.counts, nv);
        reset(&mut self.reachable, dfg.blocks.len());
        self.local_names.clear();
        self.scratch = Scratch::default();
        self.class_counts = [0; 4];

        let entry = func.entry().ok_or("the function has no blocks")?;

        let (needs_tmp, needs_sret, needs_slots) = self.scan(func, nodes, features)?;
        if !self.reachable[entry] {
            return Err("the entry block is not in the structure".into());
        }
        // Dead block parameters: only when some parameter is read by edge copies alone can
        // any be dead.
        let counts = &self.counts;
        let all_live = self
            .edge_pairs
            .iter()
            .all(|&(q, _)| counts[q].param_live != 0)
            && self.order.iter().all(|&b| {
                dfg.block_params(b)
                    .iter()
                    .all(|&p| counts[p].param_live != 0)
            });
        if !all_live {
            self.dead_params(func);
        }

        // 2. Stackification, block by block, and dense numbers of the values that need a
        // local (for liveness), with the blocks that define them. Until the locals are
        // renumbered, a value's dense number is its place's (`Pending`, or `Local` for the
        // entry block's parameters, whose locals are their dense numbers).
        self.dense_vals.clear();
        for (i, &p) in dfg.block_params(entry).iter().enumerate() {
            self.place[p] = Place::Local(i as u32);
            self.dense_vals.push(DenseVal {
                val: p,
                block: entry,
                end: NO_LOCAL,
            });
        }
        self.num_params = dfg.block_params(entry).len() as u32;
        // Each block's values are numbered by the stackification walk, from its last
        // instruction back, then its parameters: coloring walks the block's numbers
        // downward.
        self.order_dense.clear();
        for k in 0..self.order.len() {
            let (b, i) = (self.order[k], self.node_pos[k] as usize);
            self.order_dense.push(self.dense_vals.len() as u32);
            // Without code, nothing can go on the stack.
            let (s, e) = self.code_range[b];
            if s < e {
                self.stackify_block(func, b, nodes.get(i + 1));
            }
            if b != entry {
                for &p in dfg.block_params(b) {
                    if self.counts[p].uses > 0 {
                        self.place[p] = Place::Pending(self.dense_vals.len() as u32);
                        self.dense_vals.push(DenseVal {
                            val: p,
                            block: b,
                            end: NO_LOCAL,
                        });
                    }
                }
            }
        }
        self.order_dense.push(self.dense_vals.len() as u32);

        // 3. Liveness.
        self.liveness(func)?;

        // 4. Coloring.
        self.color(func, entry)?;

        // Scratch locals and the frame.
        self.frame_layout(func, needs_slots, needs_sret)
            .map_err(AnalyzeError::Frame)?;
        let mut scratch_locals: [u32; 5] = [u32::MAX; 5];
        let wanted = [
            (0, self.frame.size > 0),
            (0, self.frame.align > 16),
            (0, needs_tmp[0]),
            (2, needs_tmp[2]),
            (3, needs_tmp[3]),
        ];
        for (slot, &(c, want)) in scratch_locals.iter_mut().zip(&wanted) {
            if want {
                *slot = self.local_class.len() as u32;
                self.local_class.push(c as u8);
                self.local_vals.push((0, Value::from_u32(0), 0, None));
            }
        }
        self.renumber_locals();
        let fin = |i: u32| (i != u32::MAX).then(|| self.renumber[i as usize]);
        self.scratch = Scratch {
            frame: fin(scratch_locals[0]),
            saved_sp: fin(scratch_locals[1]),
            tmp_i32: fin(scratch_locals[2]),
            tmp_f32: fin(scratch_locals[3]),
            tmp_f64: fin(scratch_locals[4]),
        };
        Ok(())
    }

    /// Finds the live block parameters (read by something other than an edge copy, or
    /// the argument for a live parameter); the arguments for the others are not uses,
    /// and they get no local.
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    fn dead_params(&mut self, func: &Function) {
        let dfg = &func.dfg;
        // A few passes over the edge copies settle the usual functions (backward: the
        // copies are in structured order, and liveness flows from a parameter to the
        // arguments before it); long chains of parameters that only pass a value along
        // take the sorted work list, linear.
        let mut settled = false;
        for _ in 0..4 {
            let mut changed = false;
            for &(q, a) in self.edge_pairs.iter().rev() {
                if self.counts[q].param_live != 0 && self.counts[a].param_live == 0 {
                    self.counts[a].param_live = 1;
                    // Only a parameter made live can make more arguments live (another
                    // value's mark is read by nothing here).
                    changed |= matches!(dfg.values[a].def, ValueDef::Param(..));
                }
            }
            if !changed {
                settled = true;
                break;
            }
        }
        if !settled {
            self.edge_pairs.sort_unstable_by_key(|&(q, a)| {
                (u64::from(q.as_u32()) << 32) | u64::from(a.as_u32())
            });
            self.work_vals.clear();
            // Only block parameters receive edge copies, so only they can make arguments
            // live.
            let mut prev = None;
            for &(q, _) in &self.edge_pairs {
                if prev != Some(q) && self.counts[q].param_live != 0 {
                    self.work_vals.push(q);
                }
                prev = Some(q);
            }
            while let Some(q) = self.work_vals.pop() {
                let from = self.edge_pairs.partition_point(|&(x, _)| x < q);
                for k in from..self.edge_pairs.len() {
                    let (x, a) = self.edge_pairs[k];
                    if x != q {
                        break;
                    }
                    if self.counts[a].param_live == 0 {
                        self.counts[a].param_live = 1;
                        if matches!(dfg.values[a].def, ValueDef::Param(..)) {
                            self.work_vals.push(a);
                        }
                    }
                }
            }
        }
        for &(q, a) in &self.edge_pairs {
            if self.counts[q].param_live == 0 {
                self.counts[a].uses = self.counts[a].uses.saturating_sub(1);
            }
        }
        for &b in &self.order {
            for &p in dfg.block_params(b) {
                if self.counts[p].param_live == 0 {
                    self.counts[p].uses = 0;
                }
            }
        }
    }

    /// Step 1: one walk over the reachable code. Returns which scratch temporaries (by
    /// class), the i128 return area and the stack slots the code needs.
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    fn scan(
        &mut self,
        func: &Function,
        nodes: &[Node],
        features: Features,
    ) -> Result<([bool; 4], bool, bool), AnalyzeError> {
        let dfg = &func.dfg;
        let op_table = op_bytes();
        let mut needs_tmp = [false; 4];
        let mut needs_sret = false;
        let mut needs_slots = false;
        // 1. Reachable blocks, the code table, use counts, what the code needs, and (for the
        // dead block parameters below) which values something other than an edge copy
        // reads, in one walk: a parameter is live when something other than an edge copy
        // reads it, or when it is the argument for a live parameter. Arguments for dead
        // parameters are not uses, and dead parameters get no local.
        self.edge_pairs.clear();
        let tag_names = std::mem::take(&mut self.needs.tag_names);
        self.needs = CodeNeeds {
            tag_names,
            ..CodeNeeds::default()
        };
        self.needs.tag_names.clear();
        reset(&mut self.code_range, dfg.blocks.len());
        reset(&mut self.term_range, dfg.blocks.len());
        reset(&mut self.succ_range, dfg.blocks.len());
        self.succ_list.clear();
        self.pred_off.clear();
        self.pred_off.resize(dfg.blocks.len() + 1, 0);
        self.term_uses.clear();
        self.lin.clear();
        self.lin_ops.clear();
        self.order.clear();
        self.node_pos.clear();
        for (i, node) in nodes.iter().enumerate() {
            let Node::Code(b) = *node else { continue };
            let term = match dfg.blocks.get(b) {
                Some(_) => func.terminator(b),
                None => None,
            };
            let Some(term) = term else {
                return Err(format!("{b} has no terminator or does not exist").into());
            };
            if self.reachable[b] {
                return Err(format!("{b} appears twice").into());
            }
            self.reachable[b] = true;
            self.order.push(b);
            self.node_pos.push(i as u32);
            let insts = &dfg.blocks[b].insts;
            let body = &insts[..insts.len() - 1];
            let start = self.lin.len() as u32;
            for &inst in body {
                let data = &dfg.insts[inst];
                let mut flags = 0;
                let mut op = 0;
                // The operands in the order lowering pushes them: `select` pushes both
                // values before the condition, `call_indirect` the arguments before the
                // callee.
                let ops_start = self.lin_ops.len();
                let ops = &mut self.lin_ops;
                let needs = &mut self.needs;
                match *data {
                    // Constants are rematerialized at each use: they are not in the table.
                    InstData::Const { .. } | InstData::EnumConst { .. } => {
                        // (One result: the verifier checks it.)
                        if let Some(&r) = dfg.inst_results(inst).first() {
                            self.place[r] = Place::Const(inst);
                        }
                        continue;
                    }
                    InstData::Binary { args, op: o, ty } => {
                        op = op_table.binary_op(o, ty);
                        ops.extend_from_slice(&args)
                    }
                    InstData::Store { args, .. } => {
                        needs.memory = true;
                        ops.extend_from_slice(&args)
                    }
                    InstData::Unary { arg, op: o, ty } => {
                        op = op_table.unary_op(o, ty);
                        ops.push(arg)
                    }
                    InstData::GlobalSet { arg, .. } => ops.push(arg),
                    InstData::MemoryGrow { arg } | InstData::Load { addr: arg, .. } => {
                        needs.memory = true;
                        ops.push(arg)
                    }
                    InstData::Convert { op: o, arg } => {
                        if trunc_sat_expanded(o, features) {
                            needs_tmp[class(o.from())] = true;
                        } else {
                            op = op_table.convert_op(o);
                        }
                        ops.push(arg);
                    }
                    InstData::TagName { arg, enum_ref } => {
                        needs_tmp[0] = true;
                        needs.memory = true;
                        needs.tag_name(enum_ref);
                        ops.push(arg);
                    }
                    InstData::Select { args } => {
                        op = 0x1b;
                        ops.extend_from_slice(&[args[1], args[2], args[0]])
                    }
                    InstData::MemoryCopy { args } => {
                        needs.memory = true;
                        if !features.bulk_memory {
                            needs.runtime(Intrinsic::Memmove);
                        }
                        ops.extend_from_slice(&args)
                    }
                    InstData::MemoryFill { args } => {
                        needs.memory = true;
                        if !features.bulk_memory {
                            needs.runtime(Intrinsic::Memset);
                        }
                        ops.extend_from_slice(&args)
                    }
                    InstData::Call { args, .. } => ops.extend_from_slice(dfg.list(args)),
                    InstData::Intrinsic { intrinsic, args } => {
                        if intrinsic.results().len() == 2 {
                            needs_sret = true;
                            flags |= Lin::SRET;
                        }
                        needs.intrinsic(intrinsic, features);
                        ops.extend_from_slice(dfg.list(args));
                    }
                    InstData::CallIndirect { callee, args, .. } => {
                        needs.table = true;
                        ops.extend_from_slice(dfg.list(args));
                        ops.push(callee);
                    }
                    InstData::StackAddr { .. } => {
                        needs_slots = true;
                        needs.stack_pointer = true;
                        needs.memory = true;
                    }
                    InstData::TlsAddr { .. } => {
                        needs.tls_base = true;
                        needs.memory = true;
                    }
                    InstData::MemorySize | InstData::DataAddr { .. } => needs.memory = true,
                    InstData::Jump { .. }
                    | InstData::BrIf { .. }
                    | InstData::BrTable { .. }
                    | InstData::Return { .. }
                    | InstData::Unreachable => {
                        return Err("a terminator inside a block's code".into());
                    }
                    InstData::GlobalGet { .. } | InstData::FuncAddr { .. } => {}
                }
                // (A slice: its bounds stay in registers through the loop.)
                let counts = &mut self.counts.elems[..];
                for &v in &self.lin_ops[ops_start..] {
                    let x = &mut counts[v.index()];
                    x.uses += 1;
                    x.param_live = 1;
                }
                let result = match dfg.inst_results(inst) {
                    [r] => Some(*r),
                    [] => None,
                    _ => {
                        flags |= Lin::MULTI;
                        None
                    }
                };
                self.lin.push(Lin {
                    inst,
                    ops: (ops_start as u32, self.lin_ops.len() as u32),
                    result: result.into(),
                    flags,
                    op,
                });
            }
            self.code_range[b] = (start, self.lin.len() as u32);
            // The values the terminator reads: its condition, index or returned values, then
            // the edge arguments with their parameters.
            // Each is a use; all but the edge arguments make a parameter live.
            let t0 = self.term_uses.len() as u32;
            let counts = &mut self.counts;
            // The destinations, as `for_each_dest` gives them: a list and a last one (one
            // loop below, inline, instead of a closure called from several places).
            let first: [BlockCall; 1];
            let (dests, last): (&[BlockCall], Option<BlockCall>) = match dfg.insts[term] {
                InstData::BrIf {
                    cond: v,
                    then_dest,
                    else_dest,
                } => {
                    self.term_uses.push((v, None));
                    let x = &mut counts[v];
                    x.uses += 1;
                    x.param_live = 1;
                    first = [then_dest];
                    (&first, Some(else_dest))
                }
                InstData::BrTable { index: v, table } => {
                    self.term_uses.push((v, None));
                    let x = &mut counts[v];
                    x.uses += 1;
                    x.param_live = 1;
                    match dfg.jump_tables.get(table) {
                        Some(jt) => (&jt.targets, Some(jt.default)),
                        None => (&[], None),
                    }
                }
                InstData::Return { args } => {
                    for &a in dfg.list(args) {
                        self.term_uses.push((a, None));
                        let x = &mut counts[a];
                        x.uses += 1;
                        x.param_live = 1;
                    }
                    (&[], None)
                }
                InstData::Jump { dest } => (&[], Some(dest)),
                _ => (&[], None),
            };
            let (term_uses, pairs) = (&mut self.term_uses, &mut self.edge_pairs);
            let (pred_count, succs) = (&mut self.pred_off, &mut self.succ_list);
            let s0 = succs.len() as u32;
            for d in dests.iter().chain(&last) {
                if let Some(n) = pred_count.get_mut(d.block.index() + 1) {
                    *n += 1;
                }
                succs.push(d.block);
                let params = dfg.block_params(d.block);
                for (j, &a) in dfg.list(d.args).iter().enumerate() {
                    counts[a].uses += 1;
                    if let Some(&q) = params.get(j) {
                        pairs.push((q, a));
                        term_uses.push((a, Some(q)));
                    }
                }
            }
            self.term_range[b] = (t0, self.term_uses.len() as u32);
            self.succ_range[b] = (s0, self.succ_list.len() as u32);
        }
        Ok((needs_tmp, needs_sret, needs_slots))
    }

    /// Stackifies the operands of the instructions of `b` (and of its terminator when `next`
    /// consumes them right after the code), and numbers the results that need a local,
    /// from the last instruction back (each instruction's results from its last).
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    fn stackify_block(&mut self, func: &Function, b: Block, next: Option<&Node>) {
        let dfg = &func.dfg;
        let Some(&term) = dfg.blocks[b].insts.last() else {
            return;
        };
        self.term_ops.clear();
        match (next, &dfg.insts[term]) {
            (Some(Node::If(x)), InstData::BrIf { cond, .. }) if *x == b => {
                self.term_ops.push(*cond)
            }
            (Some(Node::BrTable { from, .. }), InstData::BrTable { index, .. }) if *from == b => {
                self.term_ops.push(*index)
            }
            (Some(Node::Return(x)), InstData::Return { args }) if *x == b => {
                self.term_ops.extend_from_slice(dfg.list(*args))
            }
            (Some(Node::Edge { from, dest: 0 }), InstData::Jump { dest }) if *from == b => {
                let params = dfg.block_params(dest.block);
                for (&a, &p) in dfg.list(dest.args).iter().zip(params) {
                    if self.counts[p].uses > 0 {
                        self.term_ops.push(a);
                    }
                }
            }
            _ => {}
        }
        let (start, end) = self.code_range[b];
        let (start, end) = (start as usize, end as usize);
        let lin = &mut self.lin;
        // `cursor` is one past the next instruction that may produce an operand.
        let mut cursor = end;
        // The operand stack: the terminator's operands (`term_ops[..term_left]`) under
        // one frame per instruction being stackified (`lin_ops[lo..hi]`), each consumed
        // from its last operand.
        let mut term_left = self.term_ops.len();
        self.op_frames.clear();
        // The frame at hand; `op_frames` holds the ones it interrupted.
        let mut frame: Option<(u32, u32)> = None;
        // Once every instruction is consumed, nothing more can go on the stack.
        'outer: while cursor > start {
            // (Constants, which emit nothing where they are defined, are not in the table.)
            if let Some((lo, mut hi)) = frame {
                // The frame's operands, from its last, up to the first that goes on the
                // stack (whose own frame interrupts this one).
                while hi > lo {
                    hi -= 1;
                    let v = self.lin_ops[hi as usize];
                    let l = &mut lin[cursor - 1];
                    if l.result == v.into() && self.counts[v].uses == 1 {
                        cursor -= 1;
                        self.place[v] = Place::Stack(cursor as u32);
                        l.flags |= Lin::STACKED;
                        if l.flags & Lin::SRET == 0 {
                            self.op_frames.push((lo, hi));
                            frame = Some(l.ops);
                        } else {
                            frame = Some((lo, hi));
                        }
                        continue 'outer;
                    }
                }
                frame = self.op_frames.pop();
            } else if term_left > 0 {
                term_left -= 1;
                let v = self.term_ops[term_left];
                let l = &mut lin[cursor - 1];
                if l.result == v.into() && self.counts[v].uses == 1 {
                    cursor -= 1;
                    self.place[v] = Place::Stack(cursor as u32);
                    l.flags |= Lin::STACKED;
                    if l.flags & Lin::SRET == 0 {
                        frame = Some(l.ops);
                    }
                }
            } else {
                // Next root: the closest instruction not yet consumed. Its results are
                // not on the stack: those with uses need a local.
                cursor -= 1;
                let l = &lin[cursor];
                if l.flags & Lin::SRET == 0 {
                    frame = Some(l.ops);
                }
                macro_rules! number {
                    ($r:expr) => {
                        let r = $r;
                        if self.counts[r].uses > 0 {
                            let n = self.dense_vals.len() as u32;
                            self.place[r] = Place::Pending(n);
                            self.dense_vals.push(DenseVal {
                                val: r,
                                block: b,
                                end: l.ops.1,
                            });
                        }
                    };
                }
                if let Some(r) = l.result.expand() {
                    number!(r);
                } else if l.flags & Lin::MULTI != 0 {
                    for &r in dfg.inst_results(l.inst).iter().rev() {
                        number!(r);
                    }
                }
            }
        }
    }

    /// The range in `lin_ops` of the operands of `b`'s code.
    #[inline]
    fn block_ops(&self, b: Block) -> (usize, usize) {
        let (s, e) = self.code_range[b];
        if s == e {
            return (0, 0);
        }
        (
            self.lin[s as usize].ops.0 as usize,
            self.lin[e as usize - 1].ops.1 as usize,
        )
    }

    /// Calls `f` with each value a terminator reads (`term_uses`, a block's range of
    /// [`Values::term_uses`]): its condition, index or returned values, and the arguments
    /// for live block parameters (with the parameter).
    fn for_each_term_use(
        counts: &Table<Value, Uses>,
        term_uses: &[(Value, Option<Value>)],
        mut f: impl FnMut(Value, Option<Value>),
    ) {
        for &(a, p) in term_uses {
            match p {
                None => f(a, None),
                Some(p) if counts[p].uses > 0 => f(a, Some(p)),
                Some(_) => {}
            }
        }
    }

    /// Live-in sets of the reachable blocks, by exploring paths backward from each use
    /// to the definition (SSA liveness; edge arguments are used at the end of the
    /// branching block, block parameters are defined at the start of their block).
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    fn liveness(&mut self, func: &Function) -> Result<(), String> {
        let dfg = &func.dfg;
        let nb = dfg.blocks.len();
        // Bit rows when they are small for the function; otherwise the path exploration,
        // linear in the size of the sets.
        let w = self.dense_vals.len().div_ceil(64);
        let size = self.lin.len() + self.order.len();
        let bits = w <= 64 && nb.saturating_mul(w) <= 4 * (size + nb) + 1024;
        if bits {
            for m in [&mut self.gen_bits, &mut self.kill_bits, &mut self.live_bits] {
                m.clear();
                m.resize(nb * w, 0);
            }
        }
        // Uses of values with locals (as the bits of values used before any definition in
        // the block, or as pairs), and coalescing hints.
        self.use_pairs.clear();
        // (The blocks' operands are consecutive, in `order`: `op_dense` grows block by
        // block, without a fill first.)
        self.op_dense.clear();
        self.hint.clear();
        self.hint.resize(self.dense_vals.len(), NO_LOCAL);
        for i in 0..self.order.len() {
            let b = self.order[i];
            let (s, e) = self.block_ops(b);
            // (Slices: their bounds stay in registers through the loop.)
            let (place, dense_vals) = (&self.place.elems[..], &self.dense_vals[..]);
            let (gen_bits, pairs) = (&mut self.gen_bits, &mut self.use_pairs);
            // Before coloring, the values with locals are the pending ones and the entry
            // block's parameters, whose local is their dense number.
            let mut used = |v: Value| -> u32 {
                let Some(d) = dense_of(place[v.index()]) else {
                    return NO_LOCAL;
                };
                if !bits {
                    pairs.push((v, b));
                } else if dense_vals.get(d as usize).map(|x| x.block) != Some(b) {
                    let d = d as usize;
                    gen_bits[b.index() * w + d / 64] |= 1 << (d % 64);
                }
                d
            };
            if s < e {
                self.op_dense.resize(s, NO_LOCAL);
                self.op_dense
                    .extend(self.lin_ops[s..e].iter().map(|&v| used(v)));
            }
            let hint = &mut self.hint;
            let (t0, t1) = self.term_range[b];
            let term_uses = &self.term_uses[t0 as usize..t1 as usize];
            Self::for_each_term_use(&self.counts, term_uses, |a, p| {
                let da = used(a);
                if let Some(p) = p
                    && da != NO_LOCAL
                    && let Some(dp) = dense_of(place[p.index()])
                {
                    if let Some(h) = hint.get_mut(dp as usize)
                        && *h == NO_LOCAL
                    {
                        *h = da;
                    }
                    if let Some(h) = hint.get_mut(da as usize)
                        && *h == NO_LOCAL
                    {
                        *h = dp;
                    }
                }
            });
        }
        self.op_dense.resize(self.lin_ops.len(), NO_LOCAL);
        self.live_rows = bits;
        if bits {
            return self.liveness_bits(func);
        }
        // Predecessors (counted by the first walk).
        for i in 0..nb {
            self.pred_off[i + 1] += self.pred_off[i];
        }
        self.preds.clear();
        self.preds
            .resize(self.pred_off[nb] as usize, Block::from_u32(0));
        {
            let fill = &mut self.fill;
            fill.clear();
            fill.extend_from_slice(&self.pred_off[..nb]);
            for &b in &self.order {
                for &d in succs_in(&self.succ_list, &self.succ_range, b) {
                    if let Some(slot) = fill.get_mut(d.index()) {
                        if let Some(p) = self.preds.get_mut(*slot as usize) {
                            *p = b;
                        }
                        *slot += 1;
                    }
                }
            }
        }
        self.use_pairs.sort_unstable();
        self.use_pairs.dedup();
        // Path exploration.
        self.block_stamp.clear();
        self.block_stamp.resize(nb, 0);
        self.live_pairs.clear();
        for i in 0..self.use_pairs.len() {
            let (v, u) = self.use_pairs[i];
            let def = dense_of(self.place[v])
                .and_then(|d| self.dense_vals.get(d as usize))
                .ok_or("a value without a local in the liveness sets")?
                .block;
            let stamp = v.as_u32() + 1;
            self.work.clear();
            self.work.push(u);
            while let Some(b) = self.work.pop() {
                if b == def || self.block_stamp[b.index()] == stamp {
                    continue;
                }
                self.block_stamp[b.index()] = stamp;
                self.live_pairs.push((b, v));
                let (s, e) = (self.pred_off[b.index()], self.pred_off[b.index() + 1]);
                if s == e {
                    return Err(format!(
                        "{v} is used in {b} but not defined on every path to it"
                    ));
                }
                self.work
                    .extend_from_slice(&self.preds[s as usize..e as usize]);
            }
        }
        self.live_pairs.sort_unstable();
        self.live_off.clear();
        self.live_off.resize(nb + 1, 0);
        for &(b, _) in &self.live_pairs {
            self.live_off[b.index() + 1] += 1;
        }
        for i in 0..nb {
            self.live_off[i + 1] += self.live_off[i];
        }
        self.live_vals.clear();
        self.live_vals
            .extend(self.live_pairs.iter().map(|&(_, v)| v));
        Ok(())
    }

    /// Live-in sets by backward dataflow over bit sets (one row of bits per block, one bit
    /// per value with a local, by dense number), in passes over the blocks: the rows of
    /// `live_bits`, which coloring reads directly. Needs `order`, the predecessor counts,
    /// the dense numbers and the rows of uses (`gen_bits`, the others cleared).
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    fn liveness_bits(&mut self, func: &Function) -> Result<(), String> {
        let dfg = &func.dfg;
        let nb = dfg.blocks.len();
        let w = self.dense_vals.len().div_ceil(64);
        // Definitions: the entry block's parameters, then each block's range of numbers.
        if let Some(entry) = func.entry() {
            let row = entry.index() * w;
            set_bits(
                &mut self.kill_bits[row..row + w],
                0,
                self.num_params as usize,
            );
        }
        for (i, b) in self.order.iter().enumerate() {
            let row = b.index() * w;
            let (lo, hi) = (self.order_dense[i], self.order_dense[i + 1]);
            set_bits(&mut self.kill_bits[row..row + w], lo as usize, hi as usize);
        }
        // Passes over the blocks in reverse structured order (the sets are the least
        // fixed point whatever the order of visits). The first pass notes the backward
        // edges (to a destination not visited yet). A pass reads every row it needs after
        // the row's own visit, except across backward edges: another pass is needed only
        // when a destination of one changed, and it stops at the last block with one (the
        // blocks after it have their sets from the first pass).
        self.marks.clear();
        self.marks.resize(nb, 0);
        // Most functions need one to four words a row: their loop is unrolled for it.
        match w {
            1 => self.flow::<1>(),
            2 => self.flow::<2>(),
            3 => self.flow::<3>(),
            4 => self.flow::<4>(),
            _ => self.flow_any(w),
        }
        // A block without predecessors (the first walk counted them, at the next index)
        // with something live into it is an error.
        let stuck = self.order.iter().find(|b| {
            let base = b.index() * w;
            self.pred_off.get(b.index() + 1) == Some(&0)
                && self.live_bits[base..base + w].iter().any(|&x| x != 0)
        });
        let Some(&b) = stuck else {
            return Ok(());
        };
        // A block without predecessors with something live into it.
        let base = b.index() * w;
        let first = self.live_bits[base..base + w]
            .iter()
            .enumerate()
            .find(|(_, x)| **x != 0)
            .and_then(|(j, x)| self.dense_vals.get(j * 64 + x.trailing_zeros() as usize))
            .map(|x| x.val);
        let v = first.map_or_else(String::new, |v| v.to_string());
        Err(format!(
            "{v} is used in {b} but not defined on every path to it"
        ))
    }

    /// The passes of [`Values::liveness_bits`] for rows of `W` words (a constant width:
    /// the loops over a row unroll).
    #[inline(always)]
    fn flow<const W: usize>(&mut self) {
        self.flow_rows(W, &mut [0u64; W]);
    }

    /// [`Values::flow`] for rows of any width.
    fn flow_any(&mut self, w: usize) {
        let mut row = std::mem::take(&mut self.row);
        row.clear();
        row.resize(w, 0);
        self.flow_rows(w, &mut row);
        self.row = row;
    }

    /// The passes of [`Values::liveness_bits`] for rows of `w` words, with `row` (`w`
    /// words) as scratch.
    #[inline(always)]
    fn flow_rows(&mut self, w: usize, row: &mut [u64]) {
        let mut first = true;
        // The blocks a pass visits: `order[..hi]`.
        let mut hi = self.order.len();
        let mut next_hi = 0;
        // (Slices: their bounds stay in registers through the passes.)
        let (order, succ_list, succ_range) = (
            &self.order[..],
            &self.succ_list[..],
            &self.succ_range.elems[..],
        );
        let (gen_bits, kill_bits) = (&self.gen_bits[..], &self.kill_bits[..]);
        let (marks, live_bits) = (&mut self.marks[..], &mut self.live_bits[..]);
        loop {
            let mut again = false;
            for i in (0..hi).rev() {
                let b = order[i];
                row.fill(0);
                let (s0, e0) = succ_range[b.index()];
                for &d in succ_list.get(s0 as usize..e0 as usize).unwrap_or(&[]) {
                    if first && marks[d.index()] & VISITED == 0 {
                        marks[d.index()] |= HEADER;
                        next_hi = next_hi.max(i + 1);
                    }
                    let s = d.index() * w;
                    if let Some(src) = live_bits.get(s..s + w) {
                        for (x, y) in row.iter_mut().zip(src) {
                            *x |= y;
                        }
                    }
                }
                let mark = &mut marks[b.index()];
                *mark |= VISITED;
                let header = *mark & HEADER != 0;
                let base = b.index() * w;
                let (Some(gen_), Some(kill), Some(live)) = (
                    gen_bits.get(base..base + w),
                    kill_bits.get(base..base + w),
                    live_bits.get_mut(base..base + w),
                ) else {
                    continue;
                };
                for (((l, &g), &k), &r) in live.iter_mut().zip(gen_).zip(kill).zip(&*row) {
                    let new = g | (r & !k);
                    if new != *l {
                        *l = new;
                        again |= header;
                    }
                }
            }
            if !again {
                return;
            }
            first = false;
            hi = next_hi;
        }
    }

    /// Colors the pending values block by block in structured order (dominators first):
    /// a value takes a local of its type that no value live at its definition holds,
    /// preferring its coalescing hint's.
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    fn color(&mut self, func: &Function, entry: Block) -> Result<(), String> {
        let dfg = &func.dfg;
        self.local_class.clear();
        self.local_vals.clear();
        self.occupied.clear();
        self.pos_in_class.clear();
        for list in &mut self.class_locals {
            list.clear();
        }
        self.dense_local.clear();
        self.dense_local.resize(self.dense_vals.len(), NO_LOCAL);
        for (i, &p) in dfg.block_params(entry).iter().enumerate() {
            // The entry block's parameters have the first dense numbers.
            if let Some(l) = self.dense_local.get_mut(i) {
                *l = i as u32;
            }
            let c = class(dfg.value_type(p));
            self.local_class.push(c as u8);
            self.local_vals.push((1, p, 0, None));
            self.occupied.push(0);
            self.pos_in_class.push(self.class_locals[c].len() as u32);
            self.class_locals[c].push(i as u32);
        }
        let rows = self.live_rows;
        let w = self.dense_vals.len().div_ceil(64);
        if rows {
            self.row.clear();
            self.row.resize(w, 0);
        } else {
            reset(&mut self.live_stamp, func.dfg.values.len());
        }
        let mut gen_: u32 = 0;
        // The values each block defines have consecutive dense numbers (after the entry
        // block's parameters, which have their locals already).
        for i in 0..self.order.len() {
            let b = self.order[i];
            let (first, next_dense) = (
                self.order_dense[i] as usize,
                self.order_dense[i + 1] as usize,
            );
            if next_dense == first {
                // Nothing to assign here: what is live or free in the block does not
                // matter.
                continue;
            }
            gen_ += 1;
            self.cursor = [0; 4];
            if rows {
                // (Slices: their bounds stay in registers through the loop.)
                let (dense_local, occupied) = (&self.dense_local[..], &mut self.occupied[..]);
                let base = b.index() * w;
                let live = self.live_bits.get(base..base + w).unwrap_or(&[]);
                for (j, &x) in live.iter().enumerate() {
                    let mut x = x;
                    while x != 0 {
                        let d = j * 64 + x.trailing_zeros() as usize;
                        x &= x - 1;
                        match dense_local.get(d).copied().unwrap_or(NO_LOCAL) {
                            NO_LOCAL => {
                                let v = self.dense_vals.get(d).map(|x| x.val);
                                let v = v.map_or_else(String::new, |v| v.to_string());
                                return Err(format!("{v} is live into {b} before its definition"));
                            }
                            l => {
                                if let Some(o) = occupied.get_mut(l as usize) {
                                    *o = gen_;
                                }
                            }
                        }
                    }
                }
            } else {
                let (s, e) = (self.live_off[b.index()], self.live_off[b.index() + 1]);
                for &v in self.live_vals.get(s as usize..e as usize).unwrap_or(&[]) {
                    match dense_of(self.place[v]).and_then(|d| self.dense_local.get(d as usize)) {
                        Some(&l) if l != NO_LOCAL => self.occupied[l as usize] = gen_,
                        _ => return Err(format!("{v} is live into {b} before its definition")),
                    }
                }
            }
            // The block's parameters with a local are the last of its numbers (in
            // parameter order), the only ones without an instruction end; the entry
            // block's have their locals (their dense numbers) already.
            let mut params = next_dense;
            if b == entry {
                for (i, &p) in dfg.block_params(b).iter().enumerate() {
                    if self.counts[p].uses > 0
                        && let Some(o) = self.occupied.get_mut(i)
                    {
                        *o = gen_;
                    }
                }
            } else {
                while params > first && self.dense_vals[params - 1].end == NO_LOCAL {
                    params -= 1;
                }
                for d in params..next_dense {
                    self.assign(dfg, d, gen_);
                }
            }
            // The last instruction that defines a value with a local (the block's values
            // are numbered from its last instruction back, the parameters last), as the
            // end of its operands: none, and the block is done.
            let last_def = if params > first {
                self.dense_vals[first].end
            } else {
                NO_LOCAL
            };
            if last_def == NO_LOCAL {
                continue;
            }
            // Last uses in this block up to `last_def` (later ones free nothing that a
            // definition here could take), scanning backward from what is live out (the
            // bits of `row`, or the values stamped `gen_`).
            // (Every block of `order` has its terminator: the first walk checked it.)
            if rows {
                let succs = succs_in(&self.succ_list, &self.succ_range, b);
                or_rows(&mut self.row, &self.live_bits, succs, w);
                let (row, place) = (&mut self.row, &self.place);
                let (t0, t1) = self.term_range[b];
                let term_uses = &self.term_uses[t0 as usize..t1 as usize];
                Self::for_each_term_use(&self.counts, term_uses, |a, _| {
                    if let Some(d) = dense_of(place[a]) {
                        let d = d as usize;
                        row[d / 64] |= 1 << (d % 64);
                    }
                });
            } else {
                for &s in succs_in(&self.succ_list, &self.succ_range, b) {
                    let (lo, hi) = (self.live_off[s.index()], self.live_off[s.index() + 1]);
                    for &v in self.live_vals.get(lo as usize..hi as usize).unwrap_or(&[]) {
                        self.live_stamp[v] = gen_;
                    }
                }
                let stamps = &mut self.live_stamp;
                let (t0, t1) = self.term_range[b];
                let term_uses = &self.term_uses[t0 as usize..t1 as usize];
                Self::for_each_term_use(&self.counts, term_uses, |a, _| stamps[a] = gen_);
            }
            // The operands of the block's code, from the last (their instructions are
            // consecutive in `lin`, and so are their operands in `lin_ops`).
            let (s, e) = self.block_ops(b);
            self.kills.clear();
            let ops = self.op_dense.get(s..e).unwrap_or(&[]);
            let kills = &mut self.kills;
            if rows {
                let row = &mut self.row[..];
                for (j, &d) in ops.iter().enumerate().rev() {
                    if d == NO_LOCAL {
                        continue;
                    }
                    let (word, bit) = (d as usize / 64, 1 << (d % 64));
                    let Some(x) = row.get_mut(word) else {
                        continue;
                    };
                    let live = *x & bit != 0;
                    *x |= bit;
                    let i = (s + j) as u32;
                    if !live && i < last_def {
                        kills.push((i, d));
                    }
                }
            } else {
                let stamps = &mut self.live_stamp;
                let vals = &self.lin_ops[s..e];
                for (j, (&d, &v)) in ops.iter().zip(vals).enumerate().rev() {
                    if d == NO_LOCAL {
                        continue;
                    }
                    let live = stamps[v] == gen_;
                    stamps[v] = gen_;
                    let i = (s + j) as u32;
                    if !live && i < last_def {
                        kills.push((i, d));
                    }
                }
            }
            // Forward, from definition to definition (in `lin` order, the block's numbers
            // downward, the parameters done): free at the last uses up to the defining
            // instruction (the earliest kills are at the end of the list; freeing
            // commutes, so the order of the kills of one instruction does not matter),
            // then define.
            for d in (first..params).rev() {
                let end = self.dense_vals[d].end;
                while let Some(&(i, d)) = self.kills.last()
                    && i < end
                {
                    self.kills.pop();
                    if let Some(&l) = self.dense_local.get(d as usize)
                        && l != NO_LOCAL
                    {
                        self.occupied[l as usize] = 0;
                        let c = usize::from(self.local_class[l as usize]);
                        let pos = self.pos_in_class[l as usize] as usize;
                        self.cursor[c] = self.cursor[c].min(pos);
                    }
                }
                self.assign(dfg, d, gen_);
            }
        }
        Ok(())
    }

    /// Gives the value of dense number `d` a local free in block stamp `gen_` (its place
    /// is written by [`Values::renumber_locals`]).
    #[inline(always)] // once per value with a local, from the loops of `color`
    fn assign(&mut self, dfg: &DataFlowGraph, d: usize, gen_: u32) {
        let DenseVal { val: v, end, .. } = self.dense_vals[d];
        let c = class(dfg.value_type(v));
        let hinted = match self.dense_local.get(self.hint[d] as usize) {
            Some(&l)
                if l != NO_LOCAL
                    && self.local_class.get(l as usize) == Some(&(c as u8))
                    && self.occupied[l as usize] != gen_ =>
            {
                Some(l)
            }
            _ => None,
        };
        // The lowest free local at or after the class cursor: everything before the cursor
        // is occupied (kills move it back), so the scans of a block are linear overall.
        // (No closure: this way it inlines.)
        let found = match hinted {
            Some(l) => Some(l),
            None => {
                let list = &self.class_locals[c];
                let start = self.cursor[c].min(list.len());
                let occupied = &self.occupied;
                let k = list[start..]
                    .iter()
                    .position(|&l| occupied[l as usize] != gen_);
                if let Some(k) = k {
                    self.cursor[c] = start + k;
                }
                k.and_then(|k| list.get(start + k).copied())
            }
        };
        let l = found.unwrap_or_else(|| {
            let l = self.local_class.len() as u32;
            self.local_class.push(c as u8);
            self.local_vals.push((0, v, 0, None));
            self.occupied.push(0);
            self.pos_in_class.push(self.class_locals[c].len() as u32);
            self.class_locals[c].push(l);
            self.cursor[c] = self.class_locals[c].len();
            l
        });
        self.occupied[l as usize] = gen_;
        self.dense_local[d] = l;
        let lv = &mut self.local_vals[l as usize];
        if lv.0 == 0 {
            lv.1 = v;
        }
        lv.0 += 1;
        // Only block parameters have no instruction end.
        if end == NO_LOCAL {
            if lv.2 == 0 {
                lv.3 = Some(v);
            }
            lv.2 += 1;
        }
    }

    /// Lays out the stack slots (after a 16-byte i128 return area when needed).
    fn frame_layout(&mut self, func: &Function, slots: bool, sret: bool) -> Result<(), u64> {
        self.frame.slot_offset.clear();
        self.frame.sret = sret;
        self.frame.size = 0;
        self.frame.align = 16;
        if !slots && !sret {
            return Ok(());
        }
        let mut off: u64 = if sret { 16 } else { 0 };
        let mut align: u64 = 16;
        if slots {
            for (ss, data) in func.stack_slots.iter() {
                let a = u64::from(data.align.max(1));
                align = align.max(a);
                off = off.div_ceil(a) * a;
                self.frame.slot_offset[ss] = u32::try_from(off).unwrap_or(u32::MAX);
                off = off.saturating_add(u64::from(data.size));
            }
        }
        let size = off.div_ceil(16).max(1) * 16;
        if size > i32::MAX as u64 || align > 1 << 30 {
            return Err(size);
        }
        self.frame.size = size as u32;
        self.frame.align = align as u32;
        Ok(())
    }

    /// Numbers locals by class (parameters stay first) and names them.
    #[inline(never)] // its own entry in profiles (BENCHMARKS.md)
    fn renumber_locals(&mut self) {
        let np = self.num_params as usize;
        self.renumber.clear();
        self.renumber.resize(self.local_class.len(), 0);
        self.by_final.clear();
        for (i, r) in self.renumber.iter_mut().enumerate().take(np) {
            *r = i as u32;
            self.by_final.push(i as u32);
        }
        // By class, in index order within a class: count, then place each local.
        let mut counts = [0u32; 4];
        for &lc in self.local_class.iter().skip(np) {
            counts[usize::from(lc) & 3] += 1;
        }
        let mut next = [0u32; 4];
        let mut at = np as u32;
        for (n, &count) in next.iter_mut().zip(&counts) {
            *n = at;
            at += count;
        }
        self.class_counts = counts;
        self.by_final.resize(self.local_class.len(), 0);
        for (i, &lc) in self.local_class.iter().enumerate().skip(np) {
            let n = &mut next[usize::from(lc) & 3];
            self.renumber[i] = *n;
            if let Some(slot) = self.by_final.get_mut(*n as usize) {
                *slot = i as u32;
            }
            *n += 1;
        }
        // Only the values with a dense number have locals; those coloring did not reach
        // (in unreachable code) are unused.
        // (Slices: their bounds stay in registers through the loop.)
        let (renumber, place) = (&self.renumber[..], &mut self.place.elems[..]);
        for (dv, &l) in self.dense_vals.iter().zip(&self.dense_local) {
            place[dv.val.index()] = match renumber.get(l as usize) {
                Some(&r) => Place::Local(r),
                None => Place::Unused,
            };
        }
        // Names in final order, no sorting needed, encoded into this worker's buffer (the
        // emitter copies it out: one allocation of the exact size per function).
        for (f, &i) in self.by_final.iter().enumerate() {
            let Some(&(n, v, np_, param)) = self.local_vals.get(i as usize) else {
                continue;
            };
            let name = if (i as usize) < np || n == 1 {
                Some(v)
            } else if np_ == 1 {
                param
            } else {
                None
            };
            if let Some(v) = name {
                self.local_names.push_numbered(f as u32, "v", v.as_u32());
            }
        }
    }

    /// Whether block `b` is in a [`Node::Code`] of the structure analyzed last.
    pub fn is_reached(&self, b: Block) -> bool {
        self.reachable
            .elems
            .get(b.index())
            .copied()
            .unwrap_or(false)
    }

    /// Whether the block parameter (or value) `v` is read at all.
    pub fn is_live(&self, v: Value) -> bool {
        self.counts[v].uses > 0
    }

    /// The local declaration groups after the parameters: (count, type).
    pub fn local_groups(&self) -> impl Iterator<Item = (u32, Type)> + '_ {
        self.class_counts
            .iter()
            .zip(CLASSES)
            .filter(|(n, _)| **n > 0)
            .map(|(n, t)| (*n, t))
    }
}

/// Whether `i` is an intrinsic that lowering inlines with `features`.
pub(crate) fn intrinsic_inlined(i: Intrinsic, features: Features) -> bool {
    features.bulk_memory
        && matches!(
            i,
            Intrinsic::Memcpy | Intrinsic::Memmove | Intrinsic::Memset
        )
}
