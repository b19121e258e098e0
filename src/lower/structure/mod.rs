//! Structuring: a reducible CFG becomes a [`Node`] sequence of wasm `block`/`loop`/`if`
//! constructs, after Ramsey, "Beyond Relooper" (ICFP 2022), as GHC and waffle implement it.
//!
//! The algorithm, on reverse-postorder (RPO) numbers and the dominator tree:
//! - an edge `a -> b` is *backward* when `rpo(b) <= rpo(a)`; a *loop header* is the target
//!   of an edge from a node it dominates; a *merge node* has two or more forward in-edges
//!   (counted per edge, from reachable blocks);
//! - `tree(x)` is `x`'s dominator subtree: a `Loop` if `x` is a loop header, inside it one
//!   `Block` per dominator-tree child of `x` that is a merge node (highest RPO outermost),
//!   `x`'s code innermost, and after each block's `End` the child's own `tree`;
//! - a branch `x -> y` emits its `Edge` (block-argument copies) and then: nothing if `y`
//!   follows right there (fallthrough), a `Br` to `y`'s `Loop` if backward, a `Br` to the
//!   `Block` that `y` follows if `y` is a merge node, and otherwise `tree(y)` inlined right
//!   there (`x` is then `y`'s only forward predecessor and its immediate dominator);
//! - `br_if` becomes `If`/`Else`/`End`, each arm handling its edge (the `Else` is left out
//!   when the else arm has nothing to do); `br_table` gets one extra `Block` per distinct
//!   destination that needs code on its edge (copies, or an inlined target), so the copies
//!   run before the final `Br`; these pads open right before the block's code (inside its
//!   merge-child blocks), so `Code` and `BrTable` are adjacent like `Code` and `If`;
//!   entries with the same target and the same arguments share one; entries without
//!   copies to a `Loop` or merge `Block` branch there directly.
//!
//! Every reachable block is emitted once (its `tree` is entered either from its idom's merge
//! list or inlined at its unique forward in-edge), so the output is linear in the function,
//! without a label variable or duplicated code. A last pass drops every `Block` (or `Loop`)
//! that no branch targets, renumbering the depths, so no construct is opened in vain (the
//! emission notes which constructs branches target, so the pass runs only when one closed
//! untargeted).
//!
//! Choices beyond the [`Node`] contract: an `Edge` is emitted only when the target block has
//! parameters (an edge without copies has nothing to emit).
//!
//! Everything runs on explicit stacks (a task stack for the output order, a frame stack for
//! branch depths), so deep CFGs need no native stack; time is linear after the dominator
//! computation.

use std::collections::HashMap;

/// Up to this many nodes to drop, the post-pass removes them by rotations of the windows
/// between them (fewest moves when they are few, but each window also moves the nodes dropped
/// before it, which grows with the square of their number); more go through one compaction
/// of the tail, linear however many they are.
const ROTATED_REMOVALS: usize = 32;

/// Up to this many pads, a `br_table`'s shared pads are found by a linear search.
const LINEAR_PADS: usize = 8;

/// Entry `i` of a jump table, the default after the targets.
fn jt_dest(jt: &crate::ir::JumpTableData, i: u32) -> Option<&crate::ir::BlockCall> {
    jt.targets
        .get(i as usize)
        .or((i as usize == jt.targets.len()).then_some(&jt.default))
}

use thiserror::Error;

use super::cfg::Cfg;
use super::structured::Node;
use crate::ir::{Block, Function, InstData, Value};

/// No node / no frame.
const NONE: u32 = u32::MAX;

/// Why a function cannot be structured.
#[derive(Clone, PartialEq, Eq, Debug, Error)]
pub enum StructureError {
    /// The function has no blocks.
    #[error("function has no blocks")]
    NoBlocks,
    /// A reachable block does not end in a terminator.
    #[error("{0} does not end in a terminator")]
    NoTerminator(Block),
    /// A branch goes to a block that is not in the layout.
    #[error("{from} branches to {to}, which is not in the layout")]
    NotInLayout {
        /// The branching block.
        from: Block,
        /// The missing destination.
        to: Block,
    },
    /// The CFG is irreducible: run [`make_reducible`](super::reducible::make_reducible) first.
    #[error("irreducible control flow: the edge {from} -> {to} enters a loop besides its header")]
    Irreducible {
        /// Source of the offending edge.
        from: Block,
        /// Its target.
        to: Block,
    },
    /// An inconsistency of the structurer itself (a bug, reported instead of a panic).
    #[error("internal structuring error: {0}")]
    Internal(&'static str),
}

/// Structures `func` (reducible, see [`make_reducible`](super::reducible::make_reducible))
/// into `out`, which is cleared first.
pub fn structure(func: &Function, out: &mut Vec<Node>) -> Result<(), StructureError> {
    Structurer::default().run(func, out)
}

/// An open construct, for branch depths.
#[derive(Copy, Clone, Debug)]
enum Frame {
    /// A `Block` followed by the tree of this node.
    Block(u32),
    /// The `Loop` headed by this node.
    Loop(u32),
    /// An `If`.
    If,
    /// A `br_table` landing pad.
    Pad,
}

/// An open construct: what it is, whether a branch targets it, and the position of its
/// opening node in the output.
#[derive(Copy, Clone, Debug)]
struct Open {
    frame: Frame,
    used: bool,
    pos: u32,
}

impl Open {
    /// The construct whose opening node was just pushed to `out`.
    fn new(frame: Frame, used: bool, out: &[Node]) -> Open {
        Open {
            frame,
            used,
            pos: out.len().saturating_sub(1) as u32,
        }
    }
}

/// A piece of work, in output order (the task stack is popped from the end).
#[derive(Copy, Clone, Debug)]
enum Task {
    /// Emit the tree of `node`, with `ft` the node whose code follows it (or `NONE`).
    Tree { node: u32, ft: u32 },
    /// Emit `End` and pop the frame.
    End,
    /// Emit `Else`.
    Else,
    /// Emit the branch along destination `dest` of `from`'s terminator to `to`.
    Branch {
        from: u32,
        dest: u32,
        to: u32,
        ft: u32,
    },
}

/// What a branch does.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Kind {
    /// Nothing: the target follows.
    Fallthrough,
    /// `Br` to this frame (a loop for backward edges, a block for merge nodes).
    Frame(u32),
    /// Emit the target's tree right here.
    Inline,
}

/// The structurer with its scratch buffers, reusable from function to function.
#[derive(Default)]
pub struct Structurer {
    /// The CFG of the current function.
    cfg: Cfg,
    /// Per node: two or more forward in-edges.
    is_merge: Vec<bool>,
    /// Per node: target of a back edge.
    is_header: Vec<bool>,
    /// Per node: already emitted.
    emitted: Vec<bool>,
    /// Merge children per node (compressed), decreasing RPO.
    child_starts: Vec<u32>,
    /// Merge children.
    children: Vec<u32>,
    /// Scratch of the analysis: (merge node, its immediate dominator), in increasing RPO.
    merge_pairs: Vec<(u32, u32)>,
    /// Per node: index of its `Block` frame while open.
    block_frame: Vec<u32>,
    /// Per node: index of its `Loop` frame while open.
    loop_frame: Vec<u32>,
    /// Open constructs.
    frames: Vec<Open>,
    /// The `Block`s and `Loop`s that closed with no branch to them: the position of the
    /// opening node, the number of constructs around it and the position of its `End`.
    unused: Vec<(u32, u32, u32)>,
    /// Pending work.
    tasks: Vec<Task>,
    /// The `BrTable` node of the block whose body comes next.
    pending: Option<Node>,
    /// Post-pass: which output positions are branch targets.
    used: Vec<bool>,
    /// Post-pass: open constructs (positions), then (kept, kept count so far).
    open: Vec<(u32, u32)>,
    /// Post-pass: the positions of the nodes to drop, increasing.
    removed: Vec<u32>,
    /// Depth lists of the previous output's `BrTable`s, reused by the next ones.
    depth_pool: Vec<Vec<u32>>,
    /// Scratch of [`Structurer::br_table`]: where each table entry goes.
    table_targets: Vec<Target>,
    /// Scratch of [`Structurer::br_table`]: the pads, (representative entry, target node).
    pads: Vec<(u32, u32)>,
    /// Scratch of [`Structurer::br_table`]: each pad's position.
    pad_pos: Vec<u32>,
}

/// Where a `br_table` entry goes: a landing pad (by index) or an open frame.
#[derive(Copy, Clone, Debug)]
enum Target {
    Pad(u32),
    Frame(u32),
}

impl Structurer {
    /// Structures `func` into `out` (cleared first). See [`structure`].
    pub fn run(&mut self, func: &Function, out: &mut Vec<Node>) -> Result<(), StructureError> {
        self.cfg.recompute(func);
        self.run_prepared(func, out)
    }

    /// The graph [`Structurer::run_prepared`] works on.
    pub fn cfg_mut(&mut self) -> &mut Cfg {
        &mut self.cfg
    }

    /// Like [`Structurer::run`], with the graph of `func` already in
    /// [`Structurer::cfg_mut`] (as [`make_reducible_in`](super::reducible::make_reducible_in)
    /// leaves it).
    pub fn run_prepared(
        &mut self,
        func: &Function,
        out: &mut Vec<Node>,
    ) -> Result<(), StructureError> {
        // The previous output's depth lists are kept for this one's tables.
        for node in out.drain(..) {
            if let Node::BrTable { mut depths, .. } = node {
                depths.clear();
                self.depth_pool.push(depths);
            }
        }
        if self.cfg.is_empty() {
            return Err(StructureError::NoBlocks);
        }
        self.analyze()?;
        self.frames.clear();
        self.unused.clear();
        self.tasks.clear();
        self.pending = None;
        self.tasks.push(Task::Tree { node: 0, ft: NONE });
        while let Some(task) = self.tasks.pop() {
            match task {
                Task::Tree { node, ft } => self.tree(func, node, ft, out)?,
                Task::End => {
                    let Some(Open { frame, used, pos }) = self.frames.pop() else {
                        return Err(StructureError::Internal("unbalanced End"));
                    };
                    match frame {
                        Frame::Block(n) => {
                            set(&mut self.block_frame, n, NONE);
                            if !used {
                                self.unused
                                    .push((pos, self.frames.len() as u32, out.len() as u32));
                            }
                        }
                        Frame::Loop(n) => {
                            set(&mut self.loop_frame, n, NONE);
                            if !used {
                                self.unused
                                    .push((pos, self.frames.len() as u32, out.len() as u32));
                            }
                        }
                        Frame::If | Frame::Pad => {}
                    }
                    out.push(Node::End);
                }
                Task::Else => out.push(Node::Else),
                Task::Branch { from, dest, to, ft } => {
                    self.branch(func, from, dest, to, ft, out)?;
                }
            }
        }
        if !self.frames.is_empty() {
            return Err(StructureError::Internal("constructs left open"));
        }
        // Most functions target every construct they open: then there is nothing to drop.
        if !self.unused.is_empty() {
            self.drop_unused(out)
        } else {
            Ok(())
        }
    }

    /// Loop headers, merge nodes, merge children; checks reducibility.
    fn analyze(&mut self) -> Result<(), StructureError> {
        let cfg = &self.cfg;
        let n = cfg.len();
        let mut fwd = std::mem::take(&mut self.child_starts);
        if cfg.is_reducible() {
            // The dominator computation classified the edges already.
            cfg.merges_and_targets(&mut self.is_merge, &mut self.is_header);
        } else {
            // The first backward edge whose target does not dominate its source is the
            // error.
            fwd.clear();
            fwd.resize(n + 1, 0);
            self.is_header.clear();
            self.is_header.resize(n, false);
            for (ra, &a) in cfg.rpo_order().iter().enumerate() {
                let a = a as usize;
                for &b in cfg.succs(a) {
                    let b = b as usize;
                    // Every successor of a reachable node is reachable.
                    if cfg.rpo(b).is_some_and(|rb| rb as usize <= ra) {
                        if !cfg.dominates(b, a) {
                            return Err(StructureError::Irreducible {
                                from: block_at(cfg, a),
                                to: block_at(cfg, b),
                            });
                        }
                        self.is_header[b] = true;
                    } else {
                        fwd[b] += 1;
                    }
                }
            }
            self.is_merge.clear();
            self.is_merge.extend(fwd.iter().take(n).map(|&c| c >= 2));
        }

        // Merge children of each node, in decreasing RPO: the (child, parent) pairs in
        // increasing RPO, then count, prefix sums, fill from the end.
        fwd.clear();
        fwd.resize(n + 1, 0);
        self.merge_pairs.clear();
        for &b in cfg.rpo_order().iter().skip(1) {
            if self.is_merge[b as usize]
                && let Some(p) = cfg.idom(b as usize)
            {
                fwd[p + 1] += 1;
                self.merge_pairs.push((b, p as u32));
            }
        }
        for i in 0..n {
            fwd[i + 1] += fwd[i];
        }
        self.children.clear();
        self.children.resize(fwd[n] as usize, 0);
        let mut fill = std::mem::take(&mut self.block_frame);
        fill.clear();
        fill.extend_from_slice(&fwd);
        for &(b, p) in self.merge_pairs.iter().rev() {
            let slot = &mut fill[p as usize];
            self.children[*slot as usize] = b;
            *slot += 1;
        }
        self.child_starts = fwd;
        fill.clear();
        fill.resize(n, NONE);
        self.block_frame = fill;
        self.loop_frame.clear();
        self.loop_frame.resize(n, NONE);
        self.emitted.clear();
        self.emitted.resize(n, false);
        Ok(())
    }

    /// Opens `node`'s loop and merge-child blocks, schedules the rest of its tree and emits
    /// its body.
    fn tree(
        &mut self,
        func: &Function,
        node: u32,
        ft: u32,
        out: &mut Vec<Node>,
    ) -> Result<(), StructureError> {
        let n = node as usize;
        match self.emitted.get_mut(n) {
            Some(e) if !*e => *e = true,
            _ => return Err(StructureError::Internal("block emitted twice")),
        }
        let block = self.block_of(node)?;
        if self.is_header[n] {
            out.push(Node::Loop(block));
            set(&mut self.loop_frame, node, self.frames.len() as u32);
            self.frames.push(Open::new(Frame::Loop(node), false, out));
            self.tasks.push(Task::End);
        }
        let lo = self.child_starts[n] as usize;
        let hi = self.child_starts[n + 1] as usize;
        let mut next_ft = ft;
        for i in lo..hi {
            let c = self.children[i];
            out.push(Node::Block);
            set(&mut self.block_frame, c, self.frames.len() as u32);
            self.frames.push(Open::new(Frame::Block(c), false, out));
            self.tasks.push(Task::Tree {
                node: c,
                ft: next_ft,
            });
            self.tasks.push(Task::End);
            next_ft = c;
        }
        // A br_table's landing pads open before the code, so that the code and the
        // `BrTable` are adjacent (the index may stay on the operand stack).
        if let Some(InstData::BrTable { table, .. }) = func
            .dfg
            .blocks
            .get(block)
            .and_then(|b| b.insts.last())
            .and_then(|&i| func.dfg.insts.get(i))
        {
            let jt = func
                .dfg
                .jump_tables
                .get(*table)
                .ok_or(StructureError::NoTerminator(block))?;
            self.br_table(func, node, jt, next_ft, out)?;
        }
        // The body would be the next task popped: it runs right away.
        self.body(func, node, next_ft, out)
    }

    /// Emits `node`'s code and its terminator.
    fn body(
        &mut self,
        func: &Function,
        node: u32,
        ft: u32,
        out: &mut Vec<Node>,
    ) -> Result<(), StructureError> {
        let block = self.block_of(node)?;
        out.push(Node::Code(block));
        let data = func
            .dfg
            .blocks
            .get(block)
            .and_then(|b| b.insts.last())
            .and_then(|&i| func.dfg.insts.get(i))
            .ok_or(StructureError::NoTerminator(block))?;
        match data {
            InstData::Jump { dest } => {
                let to = self.node_of(block, dest.block)?;
                self.branch(func, node, 0, to, ft, out)?;
            }
            InstData::BrIf {
                then_dest,
                else_dest,
                ..
            } => {
                let t = self.node_of(block, then_dest.block)?;
                let e = self.node_of(block, else_dest.block)?;
                out.push(Node::If(block));
                self.frames.push(Open::new(Frame::If, true, out));
                let else_empty = !has_params(func, else_dest.block)
                    && self.kind(node, e, ft)? == Kind::Fallthrough;
                self.tasks.push(Task::End);
                if !else_empty {
                    self.tasks.push(Task::Branch {
                        from: node,
                        dest: 1,
                        to: e,
                        ft,
                    });
                    self.tasks.push(Task::Else);
                }
                // The then-branch would be the next task popped: it runs right away.
                self.branch(func, node, 0, t, ft, out)?;
            }
            InstData::BrTable { .. } => {
                let table = self
                    .pending
                    .take()
                    .ok_or(StructureError::Internal("br_table not prepared"))?;
                out.push(table);
            }
            InstData::Return { .. } => out.push(Node::Return(block)),
            InstData::Unreachable => out.push(Node::Unreachable),
            _ => return Err(StructureError::NoTerminator(block)),
        }
        Ok(())
    }

    /// Opens the landing pads of `node`'s `br_table`, prepares the `BrTable` node (in
    /// `pending`) and schedules the pads' branches, all before `node`'s body.
    fn br_table(
        &mut self,
        func: &Function,
        node: u32,
        jt: &crate::ir::JumpTableData,
        ft: u32,
        out: &mut Vec<Node>,
    ) -> Result<(), StructureError> {
        let block = self.block_of(node)?;
        let mut targets = std::mem::take(&mut self.table_targets);
        targets.clear();
        // Pads as (representative destination, target node), in order of first use.
        let mut pads = std::mem::take(&mut self.pads);
        pads.clear();
        let mut shared: HashMap<(u32, &[Value]), u32> = HashMap::new();
        for (i, dest) in jt
            .targets
            .iter()
            .chain(std::iter::once(&jt.default))
            .enumerate()
        {
            let to = self.node_of(block, dest.block)?;
            let params = has_params(func, dest.block);
            if !params && let Kind::Frame(f) = self.kind(node, to, NONE)? {
                if let Some(open) = self.frames.get_mut(f as usize) {
                    open.used = true;
                }
                targets.push(Target::Frame(f));
                continue;
            }
            let args = func.dfg.list(dest.args);
            // Few pads: a linear search (no hashing); many: the map.
            let found = if pads.len() <= LINEAR_PADS {
                pads.iter()
                    .position(|&(d, t)| {
                        t == to && jt_dest(jt, d).is_some_and(|p| func.dfg.list(p.args) == args)
                    })
                    .map(|k| k as u32)
            } else {
                if shared.is_empty() {
                    for (k, &(d, t)) in pads.iter().enumerate() {
                        if let Some(p) = jt_dest(jt, d) {
                            shared.entry((t, func.dfg.list(p.args))).or_insert(k as u32);
                        }
                    }
                }
                shared.get(&(to, args)).copied()
            };
            let pad = found.unwrap_or_else(|| {
                pads.push((i as u32, to));
                let k = pads.len() as u32 - 1;
                if !shared.is_empty() {
                    shared.insert((to, args), k);
                }
                k
            });
            targets.push(Target::Pad(pad));
        }
        // The pad whose target follows goes outermost, so that it falls through.
        let m = pads.len() as u32;
        let mut pos = std::mem::take(&mut self.pad_pos);
        pos.clear();
        pos.extend(0..m);
        if ft != NONE
            && let Some(j) = pads.iter().position(|&(_, to)| to == ft)
        {
            let p = pads.remove(j);
            pads.push(p);
            for (k, slot) in pos.iter_mut().enumerate() {
                let k = k as u32;
                *slot = match (k as usize).cmp(&j) {
                    std::cmp::Ordering::Less => k,
                    std::cmp::Ordering::Equal => m - 1,
                    std::cmp::Ordering::Greater => k - 1,
                };
            }
        }
        for _ in 0..m {
            out.push(Node::Block);
            self.frames.push(Open::new(Frame::Pad, true, out));
        }
        let top = self.frames.len() as u32 - 1;
        let mut depths = self.depth_pool.pop().unwrap_or_default();
        depths.extend(targets.iter().map(|t| match *t {
            Target::Pad(p) => pos.get(p as usize).copied().unwrap_or(0),
            Target::Frame(f) => top - f,
        }));
        let default = depths.pop().unwrap_or(0);
        self.pending = Some(Node::BrTable {
            from: block,
            depths,
            default,
        });
        for (j, &(dest, to)) in pads.iter().enumerate().rev() {
            let pad_ft = if j as u32 == m - 1 { ft } else { NONE };
            self.tasks.push(Task::Branch {
                from: node,
                dest,
                to,
                ft: pad_ft,
            });
            self.tasks.push(Task::End);
        }
        self.table_targets = targets;
        self.pads = pads;
        self.pad_pos = pos;
        Ok(())
    }

    /// Emits a branch: its copies, then a `Br`, nothing, or the inlined target.
    fn branch(
        &mut self,
        func: &Function,
        from: u32,
        dest: u32,
        to: u32,
        ft: u32,
        out: &mut Vec<Node>,
    ) -> Result<(), StructureError> {
        let to_block = self.block_of(to)?;
        if has_params(func, to_block) {
            out.push(Node::Edge {
                from: self.block_of(from)?,
                dest,
            });
        }
        match self.kind(from, to, ft)? {
            Kind::Fallthrough => {}
            Kind::Frame(f) => {
                if let Some(open) = self.frames.get_mut(f as usize) {
                    open.used = true;
                }
                out.push(Node::Br(self.frames.len() as u32 - 1 - f));
            }
            Kind::Inline => self.tasks.push(Task::Tree { node: to, ft }),
        }
        Ok(())
    }

    /// Classifies the branch `from -> to` with `ft` following.
    fn kind(&self, from: u32, to: u32, ft: u32) -> Result<Kind, StructureError> {
        let (rf, rt) = (
            self.cfg.rpo_number(from as usize),
            self.cfg.rpo_number(to as usize),
        );
        if rf == NONE || rt == NONE {
            return Err(StructureError::Internal(
                "branch between unreachable blocks",
            ));
        }
        let irreducible = || StructureError::Irreducible {
            from: block_at(&self.cfg, from as usize),
            to: block_at(&self.cfg, to as usize),
        };
        if rt <= rf {
            match self.loop_frame.get(to as usize) {
                Some(&f) if f != NONE => Ok(Kind::Frame(f)),
                _ => Err(irreducible()),
            }
        } else if to == ft {
            Ok(Kind::Fallthrough)
        } else if self.is_merge.get(to as usize) == Some(&true) {
            match self.block_frame.get(to as usize) {
                Some(&f) if f != NONE => Ok(Kind::Frame(f)),
                _ => Err(irreducible()),
            }
        } else {
            Ok(Kind::Inline)
        }
    }

    /// The block of a node.
    fn block_of(&self, node: u32) -> Result<Block, StructureError> {
        self.cfg
            .block(node as usize)
            .ok_or(StructureError::Internal("node out of range"))
    }

    /// The node of a branch destination.
    fn node_of(&self, from: Block, to: Block) -> Result<u32, StructureError> {
        self.cfg
            .node(to)
            .map(|n| n as u32)
            .ok_or(StructureError::NotInLayout { from, to })
    }

    /// Removes the `Block`s and `Loop`s no branch targets, renumbering depths.
    fn drop_unused(&mut self, out: &mut Vec<Node>) -> Result<(), StructureError> {
        let bad = || StructureError::Internal("bad nesting in output");
        // The constructs to drop were noted as they closed, inner ones first.
        self.used.clear();
        self.used.resize(out.len(), true);
        for &(p, _, _) in &self.unused {
            *self.used.get_mut(p as usize).ok_or_else(bad)? = false;
        }
        self.unused.sort_unstable();
        // Only the nodes inside a dropped construct change: the outermost ones' spans are
        // scanned, each with the kept constructs around it. `open` holds (kept, kept
        // constructs up to and including this); the depths are renumbered in place and the
        // positions of the nodes to drop noted (in increasing order); then the removals,
        // in one pass over the tail.
        self.removed.clear();
        let mut scanned = 0;
        for k in 0..self.unused.len() {
            let (start, depth, end) = self.unused[k];
            let (start, end) = (start as usize, end as usize);
            if start < scanned {
                continue; // inside a span already scanned
            }
            scanned = end + 1;
            self.open.clear();
            self.open.extend((1..=depth).map(|k| (1, k)));
            let span = out.get_mut(start..=end).ok_or_else(bad)?;
            for (r, node) in span.iter_mut().enumerate() {
                let r = start + r;
                let keep = match node {
                    Node::Block | Node::Loop(_) | Node::If(_) => {
                        let kept = self.used[r];
                        let before = self.open.last().map_or(0, |&(_, c)| c);
                        self.open.push((u32::from(kept), before + u32::from(kept)));
                        kept
                    }
                    Node::End => self.open.pop().ok_or_else(bad)?.0 == 1,
                    Node::Br(d) => {
                        *d = renumber(&self.open, *d).ok_or_else(bad)?;
                        true
                    }
                    Node::BrTable {
                        depths, default, ..
                    } => {
                        for d in depths.iter_mut().chain(std::iter::once(default)) {
                            *d = renumber(&self.open, *d).ok_or_else(bad)?;
                        }
                        true
                    }
                    _ => true,
                };
                if !keep {
                    self.removed.push(r as u32);
                }
            }
            if self.open.len() != depth as usize {
                return Err(bad());
            }
        }
        remove_sorted(out, &self.removed).ok_or_else(bad)
    }
}

/// Removes the elements at `positions` (increasing, each below `out.len()`) from `out`,
/// keeping the others in order; `None` when a position is out of range or repeated.
fn remove_sorted<T>(out: &mut Vec<T>, positions: &[u32]) -> Option<()> {
    if positions.windows(2).any(|w| w[0] >= w[1])
        || positions.last().is_some_and(|&r| r as usize >= out.len())
    {
        return None;
    }
    if positions.len() <= ROTATED_REMOVALS {
        // The removed elements gather behind the kept ones, each stretch of kept elements
        // moving up once (a rotation of the window that holds the elements removed so far
        // and the stretch after it), then the end is cut off.
        for (j, &r) in positions.iter().enumerate() {
            let end = positions
                .get(j + 1)
                .map_or(out.len(), |&next| next as usize);
            out[r as usize - j..end].rotate_left(j + 1);
        }
        out.truncate(out.len() - positions.len());
    } else {
        // Each kept element after the first removed one is swapped with the first removed
        // element before it, then the end is cut off.
        let first = positions[0] as usize;
        let mut next = positions.iter().copied().peekable();
        let mut w = first;
        for r in first..out.len() {
            if next.peek() == Some(&(r as u32)) {
                next.next();
                continue;
            }
            out.swap(w, r);
            w += 1;
        }
        out.truncate(w);
    }
    Some(())
}

/// The depth after dropping unused constructs: kept constructs above the target.
fn renumber(open: &[(u32, u32)], depth: u32) -> Option<u32> {
    let top = open.len().checked_sub(1)?;
    let t = top.checked_sub(depth as usize)?;
    Some(open.get(top)?.1 - open.get(t)?.1)
}

/// Sets `v[i]` if in range.
fn set(v: &mut [u32], i: u32, x: u32) {
    if let Some(slot) = v.get_mut(i as usize) {
        *slot = x;
    }
}

/// Whether `block` has parameters.
fn has_params(func: &Function, block: Block) -> bool {
    func.dfg
        .blocks
        .get(block)
        .is_some_and(|b| !b.params.is_empty())
}

/// The block of a node known to exist (block 0 otherwise, for error messages only).
fn block_at(cfg: &Cfg, n: usize) -> Block {
    cfg.block(n).unwrap_or(Block::from_u32(0))
}

#[cfg(test)]
mod tests;
