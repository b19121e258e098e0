//! Where each SSA value lives in the wasm function: on the operand stack, rematerialized as
//! a constant, or in a local.
//!
//! Approach, per function, over the structured order of [`Node`]s:
//!
//! 1. Use counts over the reachable blocks (those in a [`Node::Code`]). A block parameter
//!    nobody reads is dead: it gets no local, and the edge arguments for it are not uses.
//! 2. Stackification, block by block from the end, without ever reordering an instruction:
//!    an operand stays on the stack when it is the single result of the instruction emitted
//!    right before the consumer's operand tree (constants emit nothing and are skipped), and
//!    that is its only use. A block's terminator is a consumer when its node follows the
//!    block's code directly (`If` condition, `BrTable` index, `Return` values, the `Edge`
//!    copies of a `jump`). Since only stackified instructions lie inside an operand tree,
//!    and they write no allocated local, the local reads of a consumer may be emitted
//!    before its stackified operands' trees.
//! 3. Live intervals over the linear order: an instruction at position `p` reads at `2p`
//!    and writes at `2p + 1`; an edge copy reads its arguments at `2p` and writes the
//!    parameters at `2p + 1` (a parallel copy). A value live at a use inside a loop it was
//!    defined before lives to the loop's end. This is the convex hull of the exact live
//!    range, so it never under-approximates.
//! 4. Linear-scan coloring per value type: a local is reused once the previous value in it
//!    is dead; a block parameter prefers its edge argument's local (and the reverse), which
//!    removes the copy. Function parameters are locals `0..n`. Locals are numbered by type
//!    (i32, i64, f32, f64) so the declaration is at most four entries; scratch locals that
//!    some expansions need (frame base, saved stack pointer, temporaries) join their type's
//!    group. Every local is written and read: values without uses get none.
//!
//! Everything is iterative: deep nesting and long expression chains use heap stacks.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use cranelift_entity::SecondaryMap;

use super::structured::Node;
use crate::ir::{
    Block, ConvertOp, DataFlowGraph, Function, Inst, InstData, Intrinsic, StackSlot, Type, Value,
    ValueDef,
};
use crate::target::Features;

/// Where a value lives.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub(crate) enum Place {
    /// Never read (or in unreachable code): a result is dropped.
    #[default]
    Unused,
    /// Left on the operand stack for its single consumer.
    Stack,
    /// A constant, emitted at each use.
    Const,
    /// Needs a local, not yet assigned.
    Pending,
    /// In this local.
    Local(u32),
}

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

/// Who consumes operands in the stackification walk.
#[derive(Copy, Clone, Debug)]
enum Consumer {
    Inst(Inst),
    Term,
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

/// Reusable per-function analysis state; [`Values::analyze`] fills it.
#[derive(Default)]
pub(crate) struct Values {
    /// Where each value lives.
    pub place: SecondaryMap<Value, Place>,
    /// Counted uses.
    uses: SecondaryMap<Value, u32>,
    /// Blocks that appear in a `Code` node.
    reachable: SecondaryMap<Block, bool>,
    /// Interval start per value (`u32::MAX` unset).
    start: SecondaryMap<Value, u32>,
    /// Interval end per value.
    end: SecondaryMap<Value, u32>,
    /// Loop (id + 1) whose end the value must reach, 0 for none.
    ext: SecondaryMap<Value, u32>,
    /// Coalescing hint: a value connected by an edge copy.
    hint: SecondaryMap<Value, Option<Value>>,
    /// Open loops: (start position, id).
    open_loops: Vec<(u32, u32)>,
    /// End position of each loop id (0 while open).
    loop_end: Vec<u32>,
    /// Start position of each loop id.
    loop_start: Vec<u32>,
    /// Open constructs: whether each is a loop.
    constructs: Vec<bool>,
    /// The terminator's operand list in the stackification walk.
    term_ops: Vec<Value>,
    /// Stackification frames: consumer and operands left.
    frames: Vec<(Consumer, usize)>,
    /// Values needing a colored local: (start, end, value).
    cands: Vec<(u32, u32, Value)>,
    /// Per local (pre-renumbering): class.
    local_class: Vec<u8>,
    /// Per local: end of the last value in it.
    busy: Vec<u32>,
    /// Per local: number of values and the first value, and the number of block params
    /// and the first one, for names.
    local_vals: Vec<(u32, Value, u32, Option<Value>)>,
    /// Active locals per class by end.
    active: [BinaryHeap<Reverse<(u32, u32)>>; 4],
    /// Free locals per class.
    free: [BTreeSet<u32>; 4],
    /// Renumbering of locals.
    renumber: Vec<u32>,
    /// Number of locals of each class, after the parameters.
    pub class_counts: [u32; 4],
    /// Number of parameters.
    pub num_params: u32,
    /// Local names by final index.
    pub local_names: Vec<(u32, String)>,
    /// Scratch locals.
    pub scratch: Scratch,
    /// Frame layout.
    pub frame: Frame,
}

/// How many operands [`operand`] yields for `inst`, not counting terminators.
pub(crate) fn operand_count(dfg: &DataFlowGraph, inst: Inst) -> usize {
    match dfg.insts[inst] {
        InstData::Unary { .. }
        | InstData::Convert { .. }
        | InstData::MemoryGrow { .. }
        | InstData::GlobalSet { .. }
        | InstData::TagName { .. }
        | InstData::Load { .. } => 1,
        InstData::Binary { .. } | InstData::Store { .. } => 2,
        InstData::Select { .. } | InstData::MemoryCopy { .. } | InstData::MemoryFill { .. } => 3,
        InstData::Call { args, .. } | InstData::Intrinsic { args, .. } => args.len(&dfg.value_lists),
        InstData::CallIndirect { args, .. } => args.len(&dfg.value_lists) + 1,
        _ => 0,
    }
}

/// The `k`th operand of a non-terminator `inst` in the order lowering pushes them: `select`
/// pushes both values before the condition, `call_indirect` the arguments before the callee.
pub(crate) fn operand(dfg: &DataFlowGraph, inst: Inst, k: usize) -> Option<Value> {
    match dfg.insts[inst] {
        InstData::Unary { arg, .. }
        | InstData::Convert { arg, .. }
        | InstData::MemoryGrow { arg }
        | InstData::GlobalSet { arg, .. }
        | InstData::TagName { arg, .. }
        | InstData::Load { addr: arg, .. } => (k == 0).then_some(arg),
        InstData::Binary { args, .. } | InstData::Store { args, .. } => args.get(k).copied(),
        InstData::Select { args } => [args[1], args[2], args[0]].get(k).copied(),
        InstData::MemoryCopy { args } | InstData::MemoryFill { args } => args.get(k).copied(),
        InstData::Call { args, .. } | InstData::Intrinsic { args, .. } => {
            args.get(k, &dfg.value_lists)
        }
        InstData::CallIndirect { callee, args, .. } => {
            let n = args.len(&dfg.value_lists);
            if k == n {
                Some(callee)
            } else {
                args.get(k, &dfg.value_lists)
            }
        }
        _ => None,
    }
}

/// Whether an instruction is a constant lowering rematerializes at each use.
pub(crate) fn is_const(data: &InstData) -> bool {
    matches!(data, InstData::Const { .. } | InstData::EnumConst { .. })
}

/// Whether the i128 intrinsic calls through a return slot: its pointer goes first, so its
/// operands cannot be on the stack already.
pub(crate) fn uses_sret(data: &InstData) -> bool {
    match data {
        InstData::Intrinsic { intrinsic, .. } => intrinsic.results().len() == 2,
        _ => false,
    }
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

/// The block call of destination `dest` of `inst`.
pub(crate) fn dest_of(
    dfg: &DataFlowGraph,
    inst: Inst,
    dest: u32,
) -> Option<crate::ir::BlockCall> {
    let mut i = 0;
    let mut found = None;
    dfg.for_each_dest(inst, |d| {
        if i == dest {
            found = Some(*d);
        }
        i += 1;
    });
    found
}

/// Resets a secondary map to hold `n` default entries.
fn reset<K: cranelift_entity::EntityRef, V: Clone + Default>(m: &mut SecondaryMap<K, V>, n: usize) {
    m.clear();
    m.resize(n);
}

impl Values {
    /// Analyzes `func` for the structured order `nodes`. Errors describe nodes that do not
    /// fit the function.
    pub fn analyze(
        &mut self,
        func: &Function,
        nodes: &[Node],
        features: Features,
    ) -> Result<(), AnalyzeError> {
        let dfg = &func.dfg;
        let nv = dfg.values.len();
        reset(&mut self.place, nv);
        reset(&mut self.uses, nv);
        reset(&mut self.ext, nv);
        reset(&mut self.hint, nv);
        reset(&mut self.reachable, dfg.blocks.len());
        self.start.clear();
        self.start.resize(nv);
        self.end.clear();
        self.end.resize(nv);
        self.local_names.clear();
        self.scratch = Scratch::default();
        self.class_counts = [0; 4];

        let entry = func.entry().ok_or("the function has no blocks")?;
        let mut needs_tmp = [false; 4];
        let mut needs_sret = false;
        let mut needs_slots = false;

        // 1. Reachable blocks and use counts.
        for node in nodes {
            if let Node::Code(b) = *node {
                if dfg.blocks.get(b).is_none() || func.terminator(b).is_none() {
                    return Err(format!("{b} has no terminator or does not exist").into());
                }
                if self.reachable[b] {
                    return Err(format!("{b} appears twice").into());
                }
                self.reachable[b] = true;
            }
        }
        if !self.reachable[entry] {
            return Err("the entry block is not in the structure".into());
        }
        for node in nodes {
            let Node::Code(b) = *node else { continue };
            for &inst in &dfg.blocks[b].insts {
                let uses = &mut self.uses;
                dfg.for_each_arg(inst, |v| uses[v] += 1);
                match dfg.insts[inst] {
                    InstData::TagName { .. } => needs_tmp[0] = true,
                    InstData::Convert { op, .. } if trunc_sat_expanded(op, features) => {
                        needs_tmp[class(op.from())] = true
                    }
                    InstData::StackAddr { .. } => needs_slots = true,
                    ref d if uses_sret(d) => needs_sret = true,
                    _ => {}
                }
            }
        }
        // Arguments for dead block parameters are not uses.
        for node in nodes {
            let Node::Code(b) = *node else { continue };
            let Some(term) = func.terminator(b) else {
                continue;
            };
            let (uses, lists) = (&mut self.uses, &dfg.value_lists);
            dfg.for_each_dest(term, |d| {
                let params = dfg.block_params(d.block);
                for (&a, &p) in d.args.as_slice(lists).iter().zip(params) {
                    if uses[p] == 0 {
                        uses[a] = uses[a].saturating_sub(1);
                    }
                }
            });
        }

        // 2. Stackification, block by block.
        for (i, node) in nodes.iter().enumerate() {
            let Node::Code(b) = *node else { continue };
            self.stackify_block(func, b, nodes.get(i + 1));
        }

        // Places of everything else.
        for (i, &p) in dfg.block_params(entry).iter().enumerate() {
            self.place[p] = Place::Local(i as u32);
        }
        self.num_params = dfg.block_params(entry).len() as u32;
        for node in nodes {
            let Node::Code(b) = *node else { continue };
            if b != entry {
                for &p in dfg.block_params(b) {
                    if self.uses[p] > 0 {
                        self.place[p] = Place::Pending;
                    }
                }
            }
            for &inst in &dfg.blocks[b].insts {
                let konst = is_const(&dfg.insts[inst]);
                for &r in dfg.inst_results(inst) {
                    if konst {
                        self.place[r] = Place::Const;
                    } else if self.place[r] != Place::Stack && self.uses[r] > 0 {
                        self.place[r] = Place::Pending;
                    }
                }
            }
        }

        // 3. Intervals.
        self.intervals(func, nodes, entry)?;

        // 4. Coloring.
        self.color(func, entry);

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
        self.renumber_locals(dfg);
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

    /// Stackifies the operands of the instructions of `b` (and of its terminator when `next`
    /// consumes them right after the code).
    fn stackify_block(&mut self, func: &Function, b: Block, next: Option<&Node>) {
        let dfg = &func.dfg;
        let insts = &dfg.blocks[b].insts;
        let Some((&term, body)) = insts.split_last() else {
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
                    if self.uses[p] > 0 {
                        self.term_ops.push(a);
                    }
                }
            }
            _ => {}
        }
        // `cursor` is one past the next instruction that may produce an operand.
        let mut cursor = body.len();
        self.frames.clear();
        self.frames.push((Consumer::Term, self.term_ops.len()));
        loop {
            let Some(top) = self.frames.last_mut() else {
                // Next root: the closest instruction not yet consumed.
                match cursor.checked_sub(1) {
                    Some(c) => {
                        cursor = c;
                        let inst = body[c];
                        if !is_const(&dfg.insts[inst]) {
                            self.frames.push((Consumer::Inst(inst), operand_count(dfg, inst)));
                        }
                        continue;
                    }
                    None => break,
                }
            };
            let (consumer, left) = *top;
            let allows = match consumer {
                Consumer::Term => true,
                Consumer::Inst(i) => !uses_sret(&dfg.insts[i]),
            };
            if left == 0 || !allows {
                self.frames.pop();
                continue;
            }
            top.1 -= 1;
            let k = left - 1;
            let v = match consumer {
                Consumer::Term => self.term_ops.get(k).copied(),
                Consumer::Inst(i) => operand(dfg, i, k),
            };
            let Some(v) = v else { continue };
            // Constants emit nothing where they are defined.
            while let Some(c) = cursor.checked_sub(1) {
                if is_const(&dfg.insts[body[c]]) {
                    cursor = c;
                } else {
                    break;
                }
            }
            let Some(c) = cursor.checked_sub(1) else {
                continue;
            };
            let p = body[c];
            if is_const(&dfg.insts[p]) || self.uses[v] != 1 || dfg.inst_results(p) != [v] {
                continue;
            }
            self.place[v] = Place::Stack;
            cursor = c;
            self.frames.push((Consumer::Inst(p), operand_count(dfg, p)));
        }
    }

    /// Records a read or write of `v` at position `pos` (loop extension included).
    fn touch(&mut self, v: Value, pos: u32) {
        if !matches!(self.place[v], Place::Pending | Place::Local(_)) {
            return;
        }
        let start = self.start[v].min(pos);
        self.start[v] = start;
        self.end[v] = self.end[v].max(pos);
        // The outermost open loop that started after the value did.
        let i = self.open_loops.partition_point(|&(s, _)| s <= start);
        if let Some(&(s, id)) = self.open_loops.get(i) {
            let cur = self.ext[v];
            let replace = cur == 0 || {
                let old = (cur - 1) as usize;
                // A closed loop ended before this open one; of two open ones, the outer.
                self.loop_end[old] != 0 || self.loop_start.get(old).is_some_and(|&os| s < os)
            };
            if replace {
                self.ext[v] = id + 1;
            }
        }
    }

    /// Computes live intervals over the structured order.
    fn intervals(&mut self, func: &Function, nodes: &[Node], entry: Block) -> Result<(), String> {
        let dfg = &func.dfg;
        for v in self.start.values_mut() {
            *v = u32::MAX;
        }
        self.open_loops.clear();
        self.loop_end.clear();
        self.loop_start.clear();
        self.constructs.clear();
        for &p in dfg.block_params(entry) {
            self.touch(p, 1);
        }
        let mut pos: u32 = 0;
        fn bump(pos: &mut u32) -> Result<u32, String> {
            *pos = pos
                .checked_add(1)
                .filter(|&p| p < u32::MAX / 2 - 1)
                .ok_or("too many instructions")?;
            Ok(*pos)
        }
        for node in nodes {
            match *node {
                Node::Block => self.constructs.push(false),
                Node::If(b) => {
                    let p = bump(&mut pos)?;
                    if let Some(InstData::BrIf { cond, .. }) =
                        func.terminator(b).map(|t| &dfg.insts[t])
                    {
                        self.touch(*cond, 2 * p);
                    }
                    self.constructs.push(false);
                }
                Node::Loop(_) => {
                    self.constructs.push(true);
                    let id = self.loop_end.len() as u32;
                    self.loop_end.push(0);
                    self.loop_start.push(2 * pos + 2);
                    self.open_loops.push((2 * pos + 2, id));
                }
                Node::Else => {}
                Node::End => match self.constructs.pop() {
                    Some(true) => {
                        if let Some((_, id)) = self.open_loops.pop() {
                            self.loop_end[id as usize] = 2 * pos + 1;
                        }
                    }
                    Some(false) => {}
                    None => return Err("unbalanced `End`".into()),
                },
                Node::Code(b) => {
                    let insts = &dfg.blocks[b].insts;
                    for &inst in insts.split_last().map_or(&[][..], |(_, body)| body) {
                        let p = bump(&mut pos)?;
                        for k in 0..operand_count(dfg, inst) {
                            if let Some(v) = operand(dfg, inst, k) {
                                self.touch(v, 2 * p);
                            }
                        }
                        for &r in dfg.inst_results(inst) {
                            self.touch(r, 2 * p + 1);
                        }
                    }
                }
                Node::Edge { from, dest } => {
                    let p = bump(&mut pos)?;
                    let term = func.terminator(from).ok_or("edge from a block without terminator")?;
                    let d = dest_of(dfg, term, dest).ok_or("edge to a missing destination")?;
                    let params = dfg.block_params(d.block);
                    for (&a, &q) in dfg.list(d.args).iter().zip(params) {
                        if self.uses[q] > 0 {
                            self.touch(a, 2 * p);
                            self.touch(q, 2 * p + 1);
                            if self.hint[q].is_none() {
                                self.hint[q] = Some(a);
                            }
                            if self.hint[a].is_none() {
                                self.hint[a] = Some(q);
                            }
                        }
                    }
                }
                Node::BrTable { from, .. } => {
                    let p = bump(&mut pos)?;
                    if let Some(InstData::BrTable { index, .. }) =
                        func.terminator(from).map(|t| &dfg.insts[t])
                    {
                        self.touch(*index, 2 * p);
                    }
                }
                Node::Return(b) => {
                    let p = bump(&mut pos)?;
                    if let Some(InstData::Return { args }) =
                        func.terminator(b).map(|t| &dfg.insts[t])
                    {
                        for &a in dfg.list(*args) {
                            self.touch(a, 2 * p);
                        }
                    }
                }
                Node::Br(_) | Node::Unreachable => {}
            }
        }
        if !self.constructs.is_empty() {
            return Err("unclosed construct".into());
        }
        // Apply loop extensions.
        for (v, e) in self.ext.iter() {
            if *e != 0 {
                let le = self.loop_end.get((*e - 1) as usize).copied().unwrap_or(0);
                self.end[v] = self.end[v].max(le);
            }
        }
        Ok(())
    }

    /// Linear-scan coloring of the pending values, per class.
    fn color(&mut self, func: &Function, entry: Block) {
        let dfg = &func.dfg;
        self.local_class.clear();
        self.busy.clear();
        self.local_vals.clear();
        for heap in &mut self.active {
            heap.clear();
        }
        for set in &mut self.free {
            set.clear();
        }
        for (i, &p) in dfg.block_params(entry).iter().enumerate() {
            let c = class(dfg.value_type(p));
            self.local_class.push(c as u8);
            let end = if self.start[p] == u32::MAX { 0 } else { self.end[p] };
            self.busy.push(end);
            self.local_vals.push((1, p, 0, None));
            self.active[c].push(Reverse((end, i as u32)));
        }
        self.cands.clear();
        for (v, place) in self.place.iter() {
            if *place == Place::Pending {
                let s = self.start[v];
                if s == u32::MAX {
                    // Defined but never reached in the order: nothing to hold.
                    continue;
                }
                self.cands.push((s, self.end[v], v));
            }
        }
        self.cands.sort_unstable();
        for ci in 0..self.cands.len() {
            let (start, end, v) = self.cands[ci];
            let c = class(dfg.value_type(v));
            while let Some(&Reverse((e, l))) = self.active[c].peek() {
                if e >= start {
                    break;
                }
                self.active[c].pop();
                // Stale entries (the local was taken again) have a later busy end.
                if self.busy[l as usize] == e {
                    self.free[c].insert(l);
                }
            }
            let hinted = self.hint[v].and_then(|h| match self.place[h] {
                Place::Local(l) if self.free[c].contains(&l) => Some(l),
                _ => None,
            });
            let l = match hinted.or_else(|| self.free[c].first().copied()) {
                Some(l) => {
                    self.free[c].remove(&l);
                    l
                }
                None => {
                    let l = self.local_class.len() as u32;
                    self.local_class.push(c as u8);
                    self.busy.push(0);
                    self.local_vals.push((0, v, 0, None));
                    l
                }
            };
            self.busy[l as usize] = end;
            self.active[c].push(Reverse((end, l)));
            self.place[v] = Place::Local(l);
            let lv = &mut self.local_vals[l as usize];
            if lv.0 == 0 {
                lv.1 = v;
            }
            lv.0 += 1;
            if matches!(dfg.values[v].def, ValueDef::Param(..)) {
                if lv.2 == 0 {
                    lv.3 = Some(v);
                }
                lv.2 += 1;
            }
        }
        // Anything pending left (unreached) is unused.
        for place in self.place.values_mut() {
            if *place == Place::Pending {
                *place = Place::Unused;
            }
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
    fn renumber_locals(&mut self, dfg: &DataFlowGraph) {
        let np = self.num_params as usize;
        self.renumber.clear();
        self.renumber.resize(self.local_class.len(), 0);
        for (i, r) in self.renumber.iter_mut().enumerate().take(np) {
            *r = i as u32;
        }
        let mut next = np as u32;
        for c in 0..4u8 {
            let mut count = 0;
            for (i, &lc) in self.local_class.iter().enumerate().skip(np) {
                if lc == c {
                    self.renumber[i] = next;
                    next += 1;
                    count += 1;
                }
            }
            self.class_counts[c as usize] = count;
        }
        for place in self.place.values_mut() {
            if let Place::Local(l) = place {
                *l = self.renumber.get(*l as usize).copied().unwrap_or(*l);
            }
        }
        let _ = dfg;
        for (i, &(n, v, np_, param)) in self.local_vals.iter().enumerate() {
            let name = if i < np || n == 1 {
                Some(v)
            } else if np_ == 1 {
                param
            } else {
                None
            };
            if let Some(v) = name {
                self.local_names.push((self.renumber[i], v.to_string()));
            }
        }
        self.local_names.sort_unstable_by_key(|(i, _)| *i);
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
    features.bulk_memory && matches!(i, Intrinsic::Memcpy | Intrinsic::Memmove | Intrinsic::Memset)
}
