//! Reachability and dominance over a function's control-flow graph, for the verifier.
//!
//! Nodes are layout positions (`0` is the entry); edges come in compressed form (`starts`,
//! `targets`: node `n`'s successors are `targets[starts[n]..starts[n + 1]]`). Everything is
//! iterative with explicit stacks, so a function of any shape (a 100,000-block chain, a
//! 10,000-deep nest) costs no native stack.
//!
//! The dominator tree is computed with the algorithm of Cooper, Harvey and Kennedy ("A Simple,
//! Fast Dominance Algorithm") over reverse postorder, then numbered by a pre/post-order walk
//! so that a dominance query is two comparisons.

/// Marks a node that has no number (unreachable).
const NONE: u32 = u32::MAX;

/// Dominance information of one function; reused from function to function.
#[derive(Default)]
pub(super) struct DomTree {
    /// Reverse-postorder number of each node, or `NONE` if unreachable.
    rpo: Vec<u32>,
    /// Pre-order number in the dominator tree, by reverse-postorder number.
    pre: Vec<u32>,
    /// Post-order number in the dominator tree, by reverse-postorder number.
    post: Vec<u32>,
    /// Scratch: nodes in reverse postorder.
    order: Vec<u32>,
    /// Scratch: immediate dominator, by reverse-postorder number.
    idom: Vec<u32>,
    /// Scratch: predecessor lists by reverse-postorder number (compressed).
    pred_starts: Vec<u32>,
    /// Scratch: predecessors.
    preds: Vec<u32>,
    /// Scratch: DFS stack of (node, next edge).
    stack: Vec<(u32, u32)>,
}

impl DomTree {
    /// Computes reachability and dominators of the graph with `n` nodes rooted at node 0.
    ///
    /// `starts` has `n + 1` entries and every target is below `n`; the caller guarantees it.
    pub(super) fn compute(&mut self, n: usize, starts: &[u32], targets: &[u32]) {
        let succ = |node: u32| -> &[u32] {
            let lo = starts.get(node as usize).copied().unwrap_or(0) as usize;
            let hi = starts.get(node as usize + 1).copied().unwrap_or(0) as usize;
            targets.get(lo..hi).unwrap_or(&[])
        };

        // Postorder by an iterative depth-first search from the entry.
        self.rpo.clear();
        self.rpo.resize(n, NONE);
        self.order.clear();
        self.stack.clear();
        if n == 0 {
            self.pre.clear();
            self.post.clear();
            return;
        }
        // `rpo` doubles as the visited mark during the search (0 = visited).
        self.rpo[0] = 0;
        self.stack.push((0, 0));
        while let Some(top) = self.stack.last_mut() {
            let (node, edge) = *top;
            match succ(node).get(edge as usize) {
                Some(&next) => {
                    top.1 += 1;
                    if let Some(mark) = self.rpo.get_mut(next as usize)
                        && *mark == NONE
                    {
                        *mark = 0;
                        self.stack.push((next, 0));
                    }
                }
                None => {
                    self.order.push(node);
                    self.stack.pop();
                }
            }
        }
        self.order.reverse();
        let m = self.order.len();
        for (i, &node) in self.order.iter().enumerate() {
            self.rpo[node as usize] = i as u32;
        }

        // Predecessors among reachable nodes, by reverse-postorder number.
        self.pred_starts.clear();
        self.pred_starts.resize(m + 1, 0);
        for &node in &self.order {
            for &t in succ(node) {
                let r = self.rpo[t as usize] as usize;
                self.pred_starts[r + 1] += 1;
            }
        }
        for i in 0..m {
            self.pred_starts[i + 1] += self.pred_starts[i];
        }
        self.preds.clear();
        self.preds.resize(self.pred_starts[m] as usize, 0);
        let mut fill = self.pred_starts.clone();
        for &node in &self.order {
            let from = self.rpo[node as usize];
            for &t in succ(node) {
                let r = self.rpo[t as usize] as usize;
                self.preds[fill[r] as usize] = from;
                fill[r] += 1;
            }
        }

        // Cooper-Harvey-Kennedy: iterate to a fixed point in reverse postorder.
        self.idom.clear();
        self.idom.resize(m, NONE);
        self.idom[0] = 0;
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

        // Number the dominator tree: children lists, then an iterative walk.
        let child_starts = &mut self.pred_starts;
        child_starts.clear();
        child_starts.resize(m + 1, 0);
        for b in 1..m {
            child_starts[self.idom[b] as usize + 1] += 1;
        }
        for i in 0..m {
            child_starts[i + 1] += child_starts[i];
        }
        let children = &mut self.preds;
        children.clear();
        children.resize(m.saturating_sub(1), 0);
        let mut fill = child_starts.clone();
        for b in 1..m {
            let parent = self.idom[b] as usize;
            children[fill[parent] as usize] = b as u32;
            fill[parent] += 1;
        }
        self.pre.clear();
        self.pre.resize(m, 0);
        self.post.clear();
        self.post.resize(m, 0);
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

    /// Whether node `n` is reachable from the entry.
    pub(super) fn is_reachable(&self, n: usize) -> bool {
        self.rpo.get(n).is_some_and(|&r| r != NONE)
    }

    /// Whether node `a` dominates node `b` (every node dominates itself). False when
    /// either is unreachable.
    pub(super) fn dominates(&self, a: usize, b: usize) -> bool {
        let (Some(&ra), Some(&rb)) = (self.rpo.get(a), self.rpo.get(b)) else {
            return false;
        };
        if ra == NONE || rb == NONE {
            return false;
        }
        let (ra, rb) = (ra as usize, rb as usize);
        match (
            self.pre.get(ra),
            self.pre.get(rb),
            self.post.get(ra),
            self.post.get(rb),
        ) {
            (Some(pa), Some(pb), Some(qa), Some(qb)) => pa <= pb && qb <= qa,
            _ => false,
        }
    }
}

/// The nearest common dominator of `a` and `b` (reverse-postorder numbers, both processed).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>) {
        let mut starts = vec![0u32; n + 1];
        for &(a, _) in edges {
            starts[a as usize + 1] += 1;
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let mut fill = starts.clone();
        let mut targets = vec![0; edges.len()];
        for &(a, b) in edges {
            targets[fill[a as usize] as usize] = b;
            fill[a as usize] += 1;
        }
        (starts, targets)
    }

    #[test]
    fn diamond_and_loop() {
        // 0 -> 1, 2; 1 -> 3; 2 -> 3; 3 -> 1 (loop); 4 unreachable -> 3
        let (s, t) = graph(5, &[(0, 1), (0, 2), (1, 3), (2, 3), (3, 1), (4, 3)]);
        let mut d = DomTree::default();
        d.compute(5, &s, &t);
        assert!(d.dominates(0, 3));
        assert!(!d.dominates(1, 3));
        assert!(!d.dominates(2, 3));
        assert!(!d.dominates(3, 1));
        assert!(d.dominates(1, 1));
        assert!(!d.is_reachable(4));
        assert!(!d.dominates(4, 3));
        assert!(!d.dominates(0, 4));
    }

    #[test]
    fn chain() {
        let n = 1000;
        let edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let (s, t) = graph(n as usize, &edges);
        let mut d = DomTree::default();
        d.compute(n as usize, &s, &t);
        assert!(d.dominates(0, 999));
        assert!(d.dominates(500, 999));
        assert!(!d.dominates(999, 500));
    }

    /// Dominators by the textbook data-flow definition, on random graphs (irreducible ones
    /// included), agree with the tree.
    #[test]
    fn matches_dataflow_on_random_graphs() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut d = DomTree::default();
        for _ in 0..500 {
            let n = 1 + rand(12) as usize;
            let edges: Vec<(u32, u32)> = (0..rand(3 * n as u64))
                .map(|_| (rand(n as u64) as u32, rand(n as u64) as u32))
                .collect();
            let (s, t) = graph(n, &edges);
            d.compute(n, &s, &t);
            // Reachability.
            let mut reach = vec![false; n];
            reach[0] = true;
            let mut changed = true;
            while changed {
                changed = false;
                for &(a, b) in &edges {
                    if reach[a as usize] && !reach[b as usize] {
                        reach[b as usize] = true;
                        changed = true;
                    }
                }
            }
            // dom[b] = set of nodes dominating b, as a bit mask.
            let all = (1u32 << n) - 1;
            let mut dom: Vec<u32> = (0..n).map(|b| if b == 0 { 1 } else { all }).collect();
            let mut changed = true;
            while changed {
                changed = false;
                for b in 1..n {
                    if !reach[b] {
                        continue;
                    }
                    let mut meet = all;
                    for &(p, q) in &edges {
                        if q as usize == b && reach[p as usize] {
                            meet &= dom[p as usize];
                        }
                    }
                    let new = meet | (1 << b);
                    if new != dom[b] {
                        dom[b] = new;
                        changed = true;
                    }
                }
            }
            for b in 0..n {
                assert_eq!(d.is_reachable(b), reach[b]);
                for a in 0..n {
                    let want = reach[a] && reach[b] && dom[b] & (1 << a) != 0;
                    assert_eq!(d.dominates(a, b), want, "{a} dom {b} in {edges:?}");
                }
            }
        }
    }
}
