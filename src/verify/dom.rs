//! Reachability and dominance over a function's control-flow graph, for the verifier.
//!
//! The algorithm lives in [`crate::lower::cfg::DomTree`], shared with lowering: nodes are
//! layout positions (`0` is the entry), edges come in compressed form, everything is
//! iterative.

pub(super) use crate::lower::cfg::DomTree;

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
        let mut rng = crate::testing::Rng(0x2545_f491_4f6c_dd1d);
        let mut rand = move |n: u64| rng.below(n);
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
