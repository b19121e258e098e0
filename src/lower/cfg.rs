//! Control-flow analysis of one function: successors and predecessors over the layout,
//! reachability, reverse postorder, the dominator tree, loop headers and reducibility.
//!
//! Two levels:
//! - [`DomTree`] works on any graph in compressed form (nodes `0..n`, node `0` the entry,
//!   node `a`'s successors `targets[starts[a]..starts[a + 1]]`). The verifier uses it too.
//! - [`Cfg`] builds that graph from a [`Function`]: node `i` is `layout[i]`, the edges are the
//!   destinations of each block's terminator in [`DataFlowGraph::for_each_dest`] order
//!   (a `br_if` with both arms to one block gives two edges). Destinations outside the
//!   layout are left out, so [`Cfg::compute`] accepts unverified functions.
//!
//! Everything is iterative with explicit stacks, so a function of any shape (a 100,000-block
//! chain, a 10,000-deep loop nest) costs no native stack. Dominators are computed with the
//! algorithm of Cooper, Harvey and Kennedy ("A Simple, Fast Dominance Algorithm") over
//! reverse postorder, then the tree is numbered by a pre/post-order walk so that a dominance
//! query is two comparisons.
//!
//! [`DataFlowGraph::for_each_dest`]: crate::ir::DataFlowGraph::for_each_dest

use cranelift_entity::EntityRef;

use crate::ir::{Block, Function};

/// Marks a node that has no number (unreachable, or no such node).
const NONE: u32 = u32::MAX;

/// Up to this many reachable nodes, dominator intersections and ancestor queries walk the
/// dominator chain (at most this many steps each) instead of keeping jump pointers.
const SMALL_GRAPH: usize = 64;

/// Reachability and dominance of a graph; its buffers are reused from graph to graph.
#[derive(Default, Clone)]
pub struct DomTree {
    /// Reverse-postorder number of each node, or `NONE` if unreachable.
    rpo: Vec<u32>,
    /// Reachable nodes in reverse postorder.
    order: Vec<u32>,
    /// Immediate dominator, by reverse-postorder number (the entry's is itself).
    idom: Vec<u32>,
    /// Pre-order number in the dominator tree, by reverse-postorder number.
    pre: Vec<u32>,
    /// Post-order number in the dominator tree, by reverse-postorder number.
    post: Vec<u32>,
    /// Scratch: predecessor lists by reverse-postorder number (compressed).
    pred_starts: Vec<u32>,
    /// Scratch: predecessors.
    preds: Vec<u32>,
    /// Scratch: dominator-tree children lists by reverse-postorder number (compressed).
    child_starts: Vec<u32>,
    /// Scratch: dominator-tree children.
    children: Vec<u32>,
    /// Scratch: DFS stack of (node, next edge).
    stack: Vec<(u32, u32)>,
    /// Scratch for the forward pass: depth in the dominator tree and a skew-binary jump
    /// pointer to an ancestor, by reverse-postorder number (see [`lca`]).
    depth: Vec<u32>,
    jump: Vec<u32>,
    /// The backward edges (source, target), by reverse-postorder number, in the order of
    /// their sources.
    back: Vec<(u32, u32)>,
    /// The number of forward in-edges of each node, by reverse-postorder number.
    fwd_in: Vec<u32>,
    /// Scratch: a copy of an input graph that breaks the contract of [`DomTree::compute`],
    /// cleaned.
    clean_starts: Vec<u32>,
    clean_targets: Vec<u32>,
    /// Whether every edge that goes backward in reverse postorder targets a dominator of its
    /// source (the graph is reducible).
    reducible: bool,
    /// Whether `idom`, `pre` and `post` are final (false only after
    /// [`DomTree::compute_until_irreducible`] found the graph irreducible).
    complete: bool,
    /// Whether `pre` and `post` number the tree; otherwise dominance queries walk the
    /// jump pointers (or the dominator chain, see `jumps`).
    numbered: bool,
    /// Whether `depth` and `jump` are kept (graphs above [`SMALL_GRAPH`] nodes).
    jumps: bool,
}

impl DomTree {
    /// Computes reachability and dominators of the graph with `n` nodes rooted at node 0.
    ///
    /// `starts` should have `n + 1` entries and every target should be below `n`; missing
    /// entries count as no edges and out-of-range targets are ignored.
    pub fn compute(&mut self, n: usize, starts: &[u32], targets: &[u32]) {
        self.compute_inner(n, starts, targets, true, true);
    }

    /// Like [`DomTree::compute`], but when the graph turns out irreducible, stops before the
    /// dominator fixed point: then only reachability and the reverse postorder are valid
    /// (dominance queries must not be made). Returns whether the graph is reducible.
    pub fn compute_until_irreducible(&mut self, n: usize, starts: &[u32], targets: &[u32]) -> bool {
        self.compute_inner(n, starts, targets, false, true);
        self.reducible
    }

    /// Whether the reachable graph is reducible: every edge that goes backward in reverse
    /// postorder targets a dominator of its source.
    pub fn is_reducible(&self) -> bool {
        self.reducible
    }

    /// Whether the dominance information is final (see
    /// [`DomTree::compute_until_irreducible`]).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    fn compute_inner(
        &mut self,
        n: usize,
        starts: &[u32],
        targets: &[u32],
        full: bool,
        number: bool,
    ) {
        // The fast path indexes `starts` and `targets` directly; a graph that breaks their
        // contract gets a cleaned copy first (missing lists empty, bad targets dropped).
        let well_formed = starts.len() > n
            && starts[..=n].windows(2).all(|w| w[0] <= w[1])
            && starts[n] as usize <= targets.len()
            && targets[starts[0] as usize..starts[n] as usize]
                .iter()
                .all(|&t| (t as usize) < n);
        if well_formed {
            self.compute_checked(n, starts, targets, full, number);
        } else {
            let mut clean_starts = std::mem::take(&mut self.clean_starts);
            let mut clean_targets = std::mem::take(&mut self.clean_targets);
            clean_starts.clear();
            clean_targets.clear();
            clean_starts.push(0);
            for node in 0..n {
                let lo = starts.get(node).copied().unwrap_or(0) as usize;
                let hi = starts.get(node + 1).copied().unwrap_or(0) as usize;
                let succ = targets.get(lo..hi).unwrap_or(&[]);
                clean_targets.extend(succ.iter().filter(|&&t| (t as usize) < n));
                clean_starts.push(clean_targets.len() as u32);
            }
            self.compute_checked(n, &clean_starts, &clean_targets, full, number);
            self.clean_starts = clean_starts;
            self.clean_targets = clean_targets;
        }
    }

    /// [`DomTree::compute_inner`] on a graph known to keep the contract: `starts` has
    /// `n + 1` nondecreasing entries within `targets`, and every target is below `n`. With
    /// `number`, the finished tree is numbered for O(1) dominance queries; without, queries
    /// walk the jump pointers (O(log depth)), which saves the numbering when few are made.
    fn compute_checked(
        &mut self,
        n: usize,
        starts: &[u32],
        targets: &[u32],
        full: bool,
        number: bool,
    ) {
        let succ = |node: u32| -> &[u32] {
            &targets[starts[node as usize] as usize..starts[node as usize + 1] as usize]
        };
        self.reducible = true;
        self.complete = true;

        // Postorder by an iterative depth-first search from the entry; the stack holds each
        // node with its next edge (an index into `targets`).
        self.rpo.clear();
        self.rpo.resize(n, NONE);
        self.order.clear();
        self.idom.clear();
        self.pre.clear();
        self.post.clear();
        self.numbered = false;
        self.back.clear();
        self.fwd_in.clear();
        if n == 0 {
            return;
        }
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        // `rpo` doubles as the visited mark during the search (0 = visited).
        self.rpo[0] = 0;
        stack.push((0, starts[0]));
        while let Some(top) = stack.last_mut() {
            let (node, edge) = *top;
            if edge < starts[node as usize + 1] {
                top.1 = edge + 1;
                let next = targets[edge as usize];
                let mark = &mut self.rpo[next as usize];
                if *mark == NONE {
                    *mark = 0;
                    stack.push((next, starts[next as usize]));
                }
            } else {
                self.order.push(node);
                stack.pop();
            }
        }
        self.stack = stack;
        self.order.reverse();
        let m = self.order.len();
        for (i, &node) in self.order.iter().enumerate() {
            self.rpo[node as usize] = i as u32;
        }

        // Cooper-Harvey-Kennedy. First one pass over the forward edges only: exact when
        // every backward edge targets a dominator of its source (reducible graphs), and
        // linear on loop nests, where the full iteration walks the whole nest per header.
        // The pass goes through the nodes in reverse postorder and pushes each one into its
        // forward successors' dominators: every forward predecessor of `b` comes earlier,
        // so `b`'s dominator is final when `b` is reached (and a reachable node other than
        // the entry has one, its parent in the search). The intersection is a lowest common
        // ancestor in a tree that only grows, answered in O(log n) with jump pointers (a
        // merge node with many predecessors deep in a chain would make the plain walk
        // quadratic). The backward edges are set aside for the check below (or checked as
        // they come, when the fixed point is not wanted).
        self.idom.resize(m, NONE);
        self.idom[0] = 0;
        // A small graph walks the dominator chains instead (at most `SMALL_GRAPH` steps a
        // walk), which costs less than keeping the jump pointers.
        self.jumps = m > SMALL_GRAPH;
        self.depth.clear();
        self.jump.clear();
        if self.jumps {
            self.depth.resize(m, 0);
            self.jump.resize(m, 0);
        }
        self.back.clear();
        self.fwd_in.clear();
        self.fwd_in.resize(m, 0);
        for a in 0..m {
            if a > 0 && self.jumps {
                self.set_jump(a);
            }
            for &t in succ(self.order[a]) {
                let b = self.rpo[t as usize];
                if b as usize > a {
                    self.fwd_in[b as usize] += 1;
                    let cur = self.idom[b as usize];
                    self.idom[b as usize] = if cur == NONE {
                        a as u32
                    } else if self.jumps {
                        lca(&self.idom, &self.depth, &self.jump, cur, a as u32)
                    } else {
                        intersect(&self.idom, cur, a as u32)
                    };
                } else {
                    // Without the fixed point, the first backward edge whose target does not
                    // dominate its source ends the computation. The check can be made here:
                    // `a`'s dominator chain holds only nodes before it, whose dominators
                    // (and jump pointers) are final.
                    if !full && !self.is_ancestor_rpo(b, a as u32) {
                        self.reducible = false;
                        self.complete = false;
                        return;
                    }
                    self.back.push((a as u32, b));
                }
            }
        }
        // Without the fixed point every backward edge passed the check above.
        let exact = !full || self.back.iter().all(|&(p, b)| self.is_ancestor_rpo(b, p));
        // The forward-edge dominators are a superset of the true ones, so a backward edge
        // whose target does not dominate its source here does not in the full graph either:
        // `exact` holds exactly when the graph is reducible.
        if exact {
            if number {
                self.number_tree();
            }
            return;
        }
        self.reducible = false;
        if !full {
            self.complete = false;
            return;
        }
        self.predecessors(succ);
        // Otherwise iterate to the fixed point, starting from the forward-edge dominators
        // (a superset of the true ones, so the iteration still converges to them).
        let mut changed = true;
        while changed {
            changed = false;
            for b in 1..m {
                let mut new = NONE;
                let (lo, hi) = (
                    self.pred_starts[b] as usize,
                    self.pred_starts[b + 1] as usize,
                );
                for &p in &self.preds[lo..hi] {
                    if self.idom[p as usize] == NONE {
                        continue;
                    }
                    new = if new == NONE {
                        p
                    } else {
                        intersect(&self.idom, p, new)
                    };
                }
                if new != NONE && self.idom[b] != new {
                    self.idom[b] = new;
                    changed = true;
                }
            }
        }
        if number {
            self.number_tree();
        } else {
            // The jump pointers of the final tree, for the queries (a dominator comes
            // earlier in reverse postorder, so one pass in order sees each parent first).
            if self.jumps {
                for b in 1..m {
                    self.set_jump(b);
                }
            }
        }
    }

    /// Whether `a` is `b` or an ancestor of `b` in the tree given by `idom` (both
    /// reverse-postorder numbers of nodes whose dominators are set): over the jump pointers,
    /// or for a small graph up the dominator chain (a dominator comes earlier in reverse
    /// postorder).
    fn is_ancestor_rpo(&self, a: u32, mut b: u32) -> bool {
        if self.jumps {
            return is_ancestor(&self.idom, &self.depth, &self.jump, a, b);
        }
        while b > a {
            match self.idom.get(b as usize) {
                Some(&up) if up < b => b = up,
                _ => return false,
            }
        }
        a == b
    }

    /// Sets the depth and jump pointer of the node numbered `b` in reverse postorder (not
    /// the entry) from those of its immediate dominator.
    fn set_jump(&mut self, b: usize) {
        // Every reachable node but the entry has a dominator by now; the entry stands in
        // for a missing one rather than an index out of range.
        let parent = match self.idom[b] {
            NONE => 0,
            p => p as usize,
        };
        let up = self.jump[parent] as usize;
        let upup = self.jump[up] as usize;
        self.depth[b] = self.depth[parent] + 1;
        self.jump[b] = if self.depth[parent] - self.depth[up] == self.depth[up] - self.depth[upup] {
            upup as u32
        } else {
            parent as u32
        };
    }

    /// Predecessor lists among reachable nodes, by reverse-postorder number (every
    /// successor of a reachable node is reachable): counts, then end positions, then filled
    /// backward so that each list ends up in increasing source order.
    fn predecessors<'a>(&mut self, succ: impl Fn(u32) -> &'a [u32]) {
        let m = self.order.len();
        let pred_starts = &mut self.pred_starts;
        pred_starts.clear();
        pred_starts.resize(m + 1, 0);
        for &node in &self.order {
            for &t in succ(node) {
                pred_starts[self.rpo[t as usize] as usize] += 1;
            }
        }
        let mut total = 0;
        for s in pred_starts.iter_mut() {
            total += *s;
            *s = total;
        }
        self.preds.clear();
        self.preds.resize(total as usize, 0);
        for (from, &node) in self.order.iter().enumerate().rev() {
            for &t in succ(node).iter().rev() {
                let slot = &mut pred_starts[self.rpo[t as usize] as usize];
                *slot -= 1;
                self.preds[*slot as usize] = from as u32;
            }
        }
    }

    /// Numbers the dominator tree given by `idom`: children lists, then an iterative walk.
    fn number_tree(&mut self) {
        self.numbered = true;
        let m = self.order.len();
        // Children lists: counts, end positions, filled backward (increasing order).
        let child_starts = &mut self.child_starts;
        child_starts.clear();
        child_starts.resize(m + 1, 0);
        for b in 1..m {
            child_starts[self.idom[b] as usize] += 1;
        }
        let mut total = 0;
        for s in child_starts.iter_mut() {
            total += *s;
            *s = total;
        }
        let children = &mut self.children;
        children.clear();
        children.resize(m.saturating_sub(1), 0);
        for b in (1..m).rev() {
            let slot = &mut child_starts[self.idom[b] as usize];
            *slot -= 1;
            children[*slot as usize] = b as u32;
        }
        self.pre.clear();
        self.pre.resize(m, 0);
        self.post.clear();
        self.post.resize(m, 0);
        if m == 0 {
            return;
        }
        let (mut pre_n, mut post_n) = (0u32, 0u32);
        self.stack.clear();
        self.stack.push((0, child_starts[0]));
        self.pre[0] = pre_n;
        pre_n += 1;
        while let Some(top) = self.stack.last_mut() {
            let (node, next) = *top;
            if next < child_starts[node as usize + 1] {
                top.1 += 1;
                let child = children[next as usize];
                self.pre[child as usize] = pre_n;
                pre_n += 1;
                self.stack.push((child, child_starts[child as usize]));
            } else {
                self.post[node as usize] = post_n;
                post_n += 1;
                self.stack.pop();
            }
        }
    }

    /// Whether the node numbered `a` in reverse postorder dominates the one numbered `b`.
    fn dominates_rpo(&self, a: usize, b: usize) -> bool {
        if !self.numbered {
            let m = self.order.len().min(self.idom.len());
            return a < m && b < m && self.is_ancestor_rpo(a as u32, b as u32);
        }
        match (
            self.pre.get(a),
            self.pre.get(b),
            self.post.get(a),
            self.post.get(b),
        ) {
            (Some(pa), Some(pb), Some(qa), Some(qb)) => pa <= pb && qb <= qa,
            _ => false,
        }
    }

    /// Whether node `n` is reachable from the entry.
    pub fn is_reachable(&self, n: usize) -> bool {
        self.rpo.get(n).is_some_and(|&r| r != NONE)
    }

    /// The reverse-postorder number of node `n`, if it is reachable.
    pub fn rpo(&self, n: usize) -> Option<u32> {
        self.rpo.get(n).copied().filter(|&r| r != NONE)
    }

    /// The reachable nodes in reverse postorder (the entry first).
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// The immediate dominator of node `n`; `None` for the entry and unreachable nodes.
    pub fn idom(&self, n: usize) -> Option<usize> {
        let r = self.rpo(n)? as usize;
        if r == 0 {
            return None;
        }
        let d = *self.idom.get(r)?;
        self.order.get(d as usize).map(|&node| node as usize)
    }

    /// Whether node `a` dominates node `b` (every node dominates itself). False when
    /// either is unreachable.
    pub fn dominates(&self, a: usize, b: usize) -> bool {
        debug_assert!(self.complete, "dominance asked of an unfinished tree");
        match (self.rpo(a), self.rpo(b)) {
            (Some(ra), Some(rb)) => self.dominates_rpo(ra as usize, rb as usize),
            _ => false,
        }
    }
}

/// The nearest common dominator of `a` and `b` (reverse-postorder numbers, both processed).
/// Lowest common ancestor of `a` and `b` in the tree given by `idom`, with each node's
/// `depth` and skew-binary `jump` pointer (Myers, 1983: the jump of a node skips to an
/// ancestor at a depth that depends only on its own depth, so nodes at equal depths jump to
/// equal depths, and a level-ancestor walk takes O(log depth) jumps).
fn lca(idom: &[u32], depth: &[u32], jump: &[u32], mut a: u32, mut b: u32) -> u32 {
    let d = |x: u32| depth[x as usize];
    if d(a) < d(b) {
        std::mem::swap(&mut a, &mut b);
    }
    while d(a) > d(b) {
        let j = jump[a as usize];
        a = if d(j) >= d(b) { j } else { idom[a as usize] };
    }
    while a != b {
        let (ja, jb) = (jump[a as usize], jump[b as usize]);
        if ja != jb {
            a = ja;
            b = jb;
        } else {
            a = idom[a as usize];
            b = idom[b as usize];
        }
    }
    a
}

/// Whether `a` is `b` or an ancestor of `b` in the tree given by `idom` (reverse-postorder
/// numbers), by a level-ancestor walk over the jump pointers of [`lca`].
fn is_ancestor(idom: &[u32], depth: &[u32], jump: &[u32], a: u32, mut b: u32) -> bool {
    let d = |x: u32| depth[x as usize];
    let da = d(a);
    while d(b) > da {
        let j = jump[b as usize];
        b = if d(j) >= da { j } else { idom[b as usize] };
    }
    a == b
}

fn intersect(idom: &[u32], mut a: u32, mut b: u32) -> u32 {
    while a != b {
        while a > b {
            a = idom[a as usize];
        }
        while b > a {
            b = idom[b as usize];
        }
    }
    a
}

/// The control-flow graph of a function with its dominator tree.
///
/// Nodes are layout positions (`usize`, node 0 is the entry); [`Cfg::node`] and
/// [`Cfg::block`] convert between nodes and blocks. Buffers are reused by
/// [`Cfg::recompute`].
#[derive(Default, Clone)]
pub struct Cfg {
    /// Node to block: the layout.
    blocks: Vec<Block>,
    /// Block (by index) to node, `NONE` when not in the layout.
    node_of: Vec<u32>,
    /// Successor lists (compressed): `succs[succ_starts[n]..succ_starts[n + 1]]`.
    succ_starts: Vec<u32>,
    /// Successors, in destination order, with repeats.
    succs: Vec<u32>,
    /// Whether every destination of every layout block's terminator is in the layout
    /// (so the successor lists give the destinations one for one).
    all_dests: bool,
    /// Dominance.
    dom: DomTree,
}

impl Cfg {
    /// Computes the graph of `func`.
    pub fn compute(func: &Function) -> Cfg {
        let mut cfg = Cfg::default();
        cfg.recompute(func);
        cfg
    }

    /// Recomputes the graph for `func`, reusing the buffers.
    pub fn recompute(&mut self, func: &Function) {
        self.recompute_inner(func, true);
    }

    /// Like [`Cfg::recompute`], but when the graph is irreducible, leaves dominance
    /// unfinished (see [`DomTree::compute_until_irreducible`]): then only the layout, the
    /// successors, reachability and the reverse postorder are valid, and the graph must be
    /// recomputed before dominance is asked for. Returns whether it is
    /// reducible.
    pub fn recompute_until_irreducible(&mut self, func: &Function) -> bool {
        self.recompute_inner(func, false);
        self.is_reducible()
    }

    fn recompute_inner(&mut self, func: &Function, full: bool) {
        self.set_layout(func);
        self.succ_starts.clear();
        self.succs.clear();
        self.succ_starts.push(0);
        let mut all_dests = true;
        for &b in &func.layout {
            if let Some(term) = func.dfg.blocks.get(b).and_then(|_| func.terminator(b))
                && func.dfg.insts.get(term).is_some()
            {
                let node_of = &self.node_of;
                let succs = &mut self.succs;
                func.dfg.for_each_dest(term, |d| {
                    if let Some(&n) = node_of.get(d.block.index())
                        && n != NONE
                    {
                        succs.push(n);
                    } else {
                        all_dests = false;
                    }
                });
            }
            self.succ_starts.push(self.succs.len() as u32);
        }
        self.all_dests = all_dests;
        self.finish(full);
    }

    /// Like [`Cfg::recompute`], but with the destination blocks of each block's terminator
    /// (in [`DataFlowGraph::for_each_dest`] order) given by `dests` instead of read from the
    /// instructions: for a caller that keeps them already (the reducibility transform).
    ///
    /// [`DataFlowGraph::for_each_dest`]: crate::ir::DataFlowGraph::for_each_dest
    pub(crate) fn recompute_with_dests<'a>(
        &mut self,
        func: &Function,
        dests: impl Fn(Block) -> &'a [Block],
    ) {
        self.set_layout(func);
        self.succ_starts.clear();
        self.succs.clear();
        self.succ_starts.push(0);
        let mut all_dests = true;
        for &b in &func.layout {
            for d in dests(b) {
                if let Some(&n) = self.node_of.get(d.index())
                    && n != NONE
                {
                    self.succs.push(n);
                } else {
                    all_dests = false;
                }
            }
            self.succ_starts.push(self.succs.len() as u32);
        }
        self.all_dests = all_dests;
        self.finish(true);
    }

    /// The nodes of `func`'s layout and the node of each block.
    fn set_layout(&mut self, func: &Function) {
        self.blocks.clear();
        self.blocks.extend_from_slice(&func.layout);
        self.node_of.clear();
        self.node_of.resize(func.dfg.blocks.len(), NONE);
        for (i, &b) in func.layout.iter().enumerate() {
            if let Some(slot) = self.node_of.get_mut(b.index())
                && *slot == NONE
            {
                *slot = i as u32;
            }
        }
    }

    /// Reachability and dominance over the successor lists.
    fn finish(&mut self, full: bool) {
        let n = self.blocks.len();
        // The lists are built above within the contract (`n + 1` starts, targets below
        // `n`), so no check; lowering asks no dominance queries of a reducible graph, so no
        // numbering.
        self.dom
            .compute_checked(n, &self.succ_starts, &self.succs, full, false);
    }

    /// Number of nodes (the layout's length).
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether the function has no blocks.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The block of node `n` (its layout position).
    pub fn block(&self, n: usize) -> Option<Block> {
        self.blocks.get(n).copied()
    }

    /// The node of `block`, if the block is in the layout.
    pub fn node(&self, block: Block) -> Option<usize> {
        self.node_of
            .get(block.index())
            .copied()
            .filter(|&n| n != NONE)
            .map(|n| n as usize)
    }

    /// When the graph was made from a function with this `layout` and holds every
    /// destination (no terminator branches outside the layout), writes the destination
    /// blocks of each layout block's terminator, in order, to `out`, with
    /// `spans[block index]` = (start, length) in `out` (entries of blocks outside the
    /// layout are left as they are), and returns true; otherwise returns false and writes
    /// nothing.
    pub(crate) fn layout_dests(
        &self,
        layout: &[Block],
        spans: &mut [(u32, u32)],
        out: &mut Vec<Block>,
    ) -> bool {
        if !self.all_dests || self.blocks != layout {
            return false;
        }
        for (&b, w) in self.blocks.iter().zip(self.succ_starts.windows(2)) {
            let lo = out.len() as u32;
            if let Some(succ) = self.succs.get(w[0] as usize..w[1] as usize) {
                out.extend(
                    succ.iter()
                        .filter_map(|&m| self.blocks.get(m as usize).copied()),
                );
            }
            if let Some(span) = spans.get_mut(b.index()) {
                *span = (lo, out.len() as u32 - lo);
            }
        }
        true
    }

    /// Successors of node `n` in destination order, one per edge.
    pub fn succs(&self, n: usize) -> &[u32] {
        succ_slice(&self.succ_starts, &self.succs, n)
    }

    /// Reachable predecessors of node `n`, one per edge, in increasing order (computed on
    /// each call: lowering itself needs no predecessor lists).
    pub fn preds(&self, n: usize) -> Vec<u32> {
        let mut preds: Vec<u32> = self
            .rpo_order()
            .iter()
            .flat_map(|&a| {
                self.succs(a as usize)
                    .iter()
                    .filter(|&&b| b as usize == n)
                    .map(move |_| a)
            })
            .collect();
        preds.sort_unstable();
        preds
    }

    /// The dominance information.
    pub fn dom(&self) -> &DomTree {
        &self.dom
    }

    /// Whether node `n` is reachable from the entry.
    pub fn is_reachable(&self, n: usize) -> bool {
        self.dom.is_reachable(n)
    }

    /// Reverse-postorder number of node `n`, if reachable.
    pub fn rpo(&self, n: usize) -> Option<u32> {
        self.dom.rpo(n)
    }

    /// Reverse-postorder number of node `n`, `u32::MAX` if it is unreachable (or no node):
    /// [`Cfg::rpo`] without the `Option`, for hot loops.
    pub fn rpo_number(&self, n: usize) -> u32 {
        self.dom.rpo.get(n).copied().unwrap_or(NONE)
    }

    /// Reachable nodes in reverse postorder.
    pub fn rpo_order(&self) -> &[u32] {
        self.dom.order()
    }

    /// Immediate dominator of node `n` (`None` for the entry and unreachable nodes).
    pub fn idom(&self, n: usize) -> Option<usize> {
        self.dom.idom(n)
    }

    /// Whether node `a` dominates node `b`.
    pub fn dominates(&self, a: usize, b: usize) -> bool {
        self.dom.dominates(a, b)
    }

    /// Whether the edge `a -> b` goes backward in reverse postorder (`rpo(b) <= rpo(a)`,
    /// self edges included). False when either end is unreachable.
    pub fn is_backward(&self, a: usize, b: usize) -> bool {
        matches!((self.rpo(a), self.rpo(b)), (Some(ra), Some(rb)) if rb <= ra)
    }

    /// Whether node `n` is a loop header: the target of an edge from a node it dominates.
    pub fn is_loop_header(&self, n: usize) -> bool {
        self.rpo_order()
            .iter()
            .any(|&a| self.succs(a as usize).contains(&(n as u32)) && self.dominates(n, a as usize))
    }

    /// Whether the reachable part of the graph is reducible: every edge that goes backward
    /// in reverse postorder targets a node that dominates its source.
    pub fn is_reducible(&self) -> bool {
        self.dom.is_reducible()
    }

    /// Fills, by node, whether the node has two or more forward in-edges (from nodes earlier
    /// in reverse postorder; one per edge) and whether it is the target of a backward edge
    /// (self edges included); unreachable nodes have neither. Read off the dominator
    /// computation, which classifies every edge.
    pub fn merges_and_targets(&self, is_merge: &mut Vec<bool>, is_back_target: &mut Vec<bool>) {
        let n = self.len();
        is_merge.clear();
        is_merge.resize(n, false);
        is_back_target.clear();
        is_back_target.resize(n, false);
        let order = self.dom.order();
        for (&node, &count) in order.iter().zip(&self.dom.fwd_in) {
            if let Some(m) = is_merge.get_mut(node as usize) {
                *m = count >= 2;
            }
        }
        for &(_, target) in &self.dom.back {
            if let Some(t) = order
                .get(target as usize)
                .and_then(|&node| is_back_target.get_mut(node as usize))
            {
                *t = true;
            }
        }
    }

    /// [`Cfg::is_reducible`] by its definition, edge by edge (a cross-check for tests).
    #[cfg(test)]
    pub fn is_reducible_by_edges(&self) -> bool {
        self.rpo_order().iter().all(|&a| {
            self.succs(a as usize).iter().all(|&b| {
                !self.is_backward(a as usize, b as usize) || self.dominates(b as usize, a as usize)
            })
        })
    }
}

/// Slice `n` of a compressed list; empty when out of range.
fn succ_slice<'a>(starts: &[u32], items: &'a [u32], n: usize) -> &'a [u32] {
    let lo = starts.get(n).copied().unwrap_or(0) as usize;
    let hi = starts.get(n + 1).copied().unwrap_or(0) as usize;
    items.get(lo..hi).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn func(text: &str) -> Function {
        let m = crate::ir::parse(text).expect("parses");
        let (_, f) = m
            .bodies
            .iter()
            .find(|(_, f)| !f.layout.is_empty())
            .expect("a body");
        f.clone()
    }

    #[test]
    fn loop_with_unreachable_block() {
        let f = func(
            "func @f(i32) -> i32 {
block0(v0: i32):
    jump block1
block1:
    br_if v0, block1, block2
block2:
    return v0
block3:
    jump block1
}",
        );
        let cfg = Cfg::compute(&f);
        assert_eq!(cfg.len(), 4);
        assert_eq!(cfg.succs(1), [1, 2]);
        assert_eq!(
            cfg.preds(1),
            [0, 1],
            "the unreachable block3 is no predecessor"
        );
        assert!(!cfg.is_reachable(3));
        assert_eq!(cfg.rpo(3), None);
        assert_eq!(cfg.rpo_order(), [0, 1, 2]);
        assert_eq!(cfg.idom(2), Some(1));
        assert_eq!(cfg.idom(0), None);
        assert!(cfg.is_loop_header(1));
        assert!(!cfg.is_loop_header(2));
        assert!(cfg.is_backward(1, 1));
        assert!(cfg.is_reducible());
        assert_eq!(cfg.node(f.layout[2]), Some(2));
    }

    /// A loop entered at block1 and at block2.
    const TWO_ENTRY_LOOP: &str = "func @f(i32) -> i32 {
block0(v0: i32):
    br_if v0, block1, block2
block1:
    br_if v0, block2, block3
block2:
    jump block1
block3:
    return v0
}";

    #[test]
    fn two_entry_loop_is_irreducible() {
        let f = func(TWO_ENTRY_LOOP);
        let cfg = Cfg::compute(&f);
        assert!(!cfg.is_reducible());
        assert_eq!(cfg.idom(1), Some(0));
        assert_eq!(cfg.idom(2), Some(0));
        assert!(!cfg.is_loop_header(1) && !cfg.is_loop_header(2));
    }

    #[test]
    fn layout_dests_are_the_terminators_destinations() {
        let text = TWO_ENTRY_LOOP;
        let f = func(text);
        let cfg = Cfg::compute(&f);
        let mut spans = vec![(0, 0); f.dfg.blocks.len()];
        let mut out = Vec::new();
        assert!(cfg.layout_dests(&f.layout, &mut spans, &mut out));
        for &b in &f.layout {
            let (lo, len) = spans[b.index()];
            let want = f.terminator(b).map_or(vec![], |t| f.dfg.successors(t));
            assert_eq!(out[lo as usize..(lo + len) as usize], want[..], "{b}");
        }
        // Another layout, or a destination outside the layout: nothing.
        let mut out = Vec::new();
        assert!(!cfg.layout_dests(&f.layout[1..], &mut spans, &mut out));
        assert!(out.is_empty());
        let mut g = func(text);
        let b2 = g.layout[2];
        g.layout.retain(|&b| b != b2);
        let cfg = Cfg::compute(&g);
        assert!(!cfg.layout_dests(&g.layout, &mut spans, &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn merges_and_backward_targets() {
        // A diamond (block3 merges two edges) inside a loop headed by block1; block5 is
        // unreachable and branches to the merge.
        let f = func(
            "func @f(i32) -> i32 {
block0(v0: i32):
    jump block1
block1:
    br_if v0, block2, block3
block2:
    jump block3
block3:
    br_if v0, block1, block4
block4:
    return v0
block5:
    jump block3
}",
        );
        let cfg = Cfg::compute(&f);
        let (mut merge, mut target) = (Vec::new(), Vec::new());
        cfg.merges_and_targets(&mut merge, &mut target);
        assert_eq!(merge, [false, false, false, true, false, false]);
        assert_eq!(target, [false, true, false, false, false, false]);
        for n in 0..cfg.len() {
            assert_eq!(target[n], cfg.is_loop_header(n), "node {n}");
            let forward = cfg
                .preds(n)
                .iter()
                .filter(|&&p| !cfg.is_backward(p as usize, n))
                .count();
            assert_eq!(merge[n], forward >= 2, "node {n}");
        }
    }

    /// Dominators by their definition (iterative sets), for the cross-check below.
    fn naive_dominators(n: usize, edges: &[(u32, u32)]) -> Vec<Option<Vec<bool>>> {
        let mut reach = vec![false; n];
        reach[0] = true;
        let mut changed = true;
        while changed {
            changed = false;
            for &(a, b) in edges {
                if reach[a as usize] && !reach[b as usize] {
                    reach[b as usize] = true;
                    changed = true;
                }
            }
        }
        let mut dom: Vec<Vec<bool>> = (0..n)
            .map(|i| (0..n).map(|j| i != 0 || j == 0).collect())
            .collect();
        let mut changed = true;
        while changed {
            changed = false;
            for b in 1..n {
                let mut new = vec![true; n];
                for &(p, t) in edges {
                    if t as usize == b && reach[p as usize] {
                        for j in 0..n {
                            new[j] &= dom[p as usize][j];
                        }
                    }
                }
                new[b] = true;
                if new != dom[b] {
                    dom[b] = new;
                    changed = true;
                }
            }
        }
        (0..n).map(|i| reach[i].then(|| dom[i].clone())).collect()
    }

    #[test]
    fn dominance_matches_the_definition_around_the_small_graph_limit() {
        // Random graphs on both sides of `SMALL_GRAPH` (chain walks below, jump pointers
        // above), reducible or not, numbered (the verifier's way) or not (lowering's).
        let mut rng = crate::testing::Rng(7);
        for round in 0..40u64 {
            let n = [10, SMALL_GRAPH, SMALL_GRAPH + 1, 150][round as usize % 4];
            let mut edges: Vec<(u32, u32)> = Vec::new();
            for a in 0..n as u32 {
                for _ in 0..1 + rng.below(2) {
                    let b = if rng.below(4) == 0 {
                        rng.below(n as u64) as u32
                    } else {
                        (a + 1 + rng.below(3) as u32).min(n as u32 - 1)
                    };
                    edges.push((a, b));
                }
            }
            let mut starts = vec![0u32; n + 1];
            for &(a, _) in &edges {
                starts[a as usize + 1] += 1;
            }
            for i in 0..n {
                starts[i + 1] += starts[i];
            }
            let mut fill = starts.clone();
            let mut targets = vec![0; edges.len()];
            for &(a, b) in &edges {
                targets[fill[a as usize] as usize] = b;
                fill[a as usize] += 1;
            }
            let want = naive_dominators(n, &edges);
            for number in [true, false] {
                let mut d = DomTree::default();
                d.compute_inner(n, &starts, &targets, true, number);
                for (b, w) in want.iter().enumerate() {
                    for a in 0..n {
                        let expect = w.as_ref().is_some_and(|s| s[a]);
                        assert_eq!(
                            d.dominates(a, b),
                            expect,
                            "n {n} round {round} number {number}: {a} dom {b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn empty_function() {
        let cfg = Cfg::compute(&Function::default());
        assert!(cfg.is_empty());
        assert!(cfg.is_reducible());
        assert!(cfg.rpo_order().is_empty());
    }
}
