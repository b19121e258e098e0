//! String merging, as wasm-ld does it at its default `-O1`.
//!
//! Data segments flagged `STRINGS` with alignment 1 (clang's `.rodata..L.str*`) and the
//! `.debug_str`, `.debug_str.dwo` and `.debug_line_str` custom sections are cut into
//! NUL-terminated strings; within one output segment (or custom section) each distinct string
//! is kept once, in the order LLVM's `StringTableBuilder::finalize` gives (sorted by reversed
//! bytes, descending) and with its tail merging (a string that ends the one before it points
//! into it). An input offset maps to the output offset of the string holding it plus the
//! distance into that string.
//!
//! Invariant: a chunk whose last string has no terminating NUL keeps those bytes as one
//! last string; every input offset inside a chunk maps somewhere.

use rayon::prelude::*;

/// Where each string of one input chunk went: `(input offset, output offset)` per string,
/// sorted by input offset; and, per block of [`BLOCK`] input bytes, the string holding the
/// block's first byte, so that finding a string takes a step or two instead of a binary
/// search over all of them (`.debug_info` has one lookup per string reference).
#[derive(Clone, Debug, Default)]
pub(crate) struct PieceMap {
    pieces: Vec<(u64, u64)>,
    blocks: Vec<u32>,
}

const BLOCK: u64 = 64;

impl PieceMap {
    fn new(pieces: Vec<(u64, u64)>) -> PieceMap {
        let end = pieces.last().map_or(0, |p| p.0 + 1);
        let mut blocks = Vec::with_capacity(end.div_ceil(BLOCK) as usize);
        let mut k = 0usize;
        for b in 0..end.div_ceil(BLOCK) {
            while pieces.get(k + 1).is_some_and(|p| p.0 <= b * BLOCK) {
                k += 1;
            }
            blocks.push(k as u32);
        }
        PieceMap { pieces, blocks }
    }

    /// The output offset of input offset `off`, relative to the merged chunk's start.
    pub(crate) fn translate(&self, off: u64) -> Option<u64> {
        let mut k = match self.blocks.get((off / BLOCK) as usize) {
            Some(&k) => k as usize,
            // Past the last string's start: it is the last string, if any.
            None => self.pieces.len().checked_sub(1)?,
        };
        while self.pieces.get(k + 1).is_some_and(|p| p.0 <= off) {
            k += 1;
        }
        let (input, output) = *self.pieces.get(k)?;
        (input <= off).then(|| output + (off - input))
    }
}

/// The custom sections whose strings wasm-ld merges.
pub(crate) fn is_mergeable_custom(name: &str) -> bool {
    matches!(name, ".debug_str" | ".debug_str.dwo" | ".debug_line_str")
}

/// Merges the strings of `chunks` into one blob; one map per chunk.
///
/// Every occurrence of every string is sorted at once (in parallel), in the order below:
/// copies of a string end up side by side, so no hash table of the distinct strings is
/// needed (`.debug_str` of a big `-g` object has a hundred thousand of them).
pub(crate) fn merge_strings(chunks: &[&[u8]]) -> (Vec<u8>, Vec<PieceMap>) {
    // A few strings (clang's `.rodata..L.str*` of a program) are merged on this thread:
    // waking the other workers would take longer.
    let parallel = chunks.iter().map(|c| c.len()).sum::<usize>() >= PARALLEL_BYTES;
    // Each chunk cut into strings (each with its NUL): (input offset, string).
    fn cut_chunk(data: &[u8]) -> Vec<(u64, &[u8])> {
        let mut list = Vec::new();
        let mut pos = 0usize;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            let len = rest
                .iter()
                .position(|&b| b == 0)
                .map_or(rest.len(), |n| n + 1);
            list.push((pos as u64, &rest[..len]));
            pos += len;
        }
        list
    }
    let cut: Vec<Vec<(u64, &[u8])>> = if parallel {
        chunks.par_iter().map(|c| cut_chunk(c)).collect()
    } else {
        chunks.iter().map(|c| cut_chunk(c)).collect()
    };
    // LLVM's `StringTableBuilder::finalize`: strings sorted by their reversed bytes,
    // descending (a string sorts after the longer ones it ends), and a string that ends the
    // previous one placed inside it.
    // Each string carries its last eight bytes, reversed, as a number: most comparisons
    // end there (a shorter string pads with zeros, which never sorts it after a longer one
    // it ends; equal numbers fall back to the bytes).
    let tail_key = |s: &[u8]| {
        s.iter()
            .rev()
            .take(8)
            .enumerate()
            .fold(0u64, |k, (i, &b)| k | (u64::from(b) << (56 - 8 * i)))
    };
    // (key, string, chunk, index in the chunk's list)
    let mut order: Vec<(u64, &[u8], u32, u32)> = cut
        .iter()
        .enumerate()
        .flat_map(|(c, list)| {
            list.iter()
                .enumerate()
                .map(move |(k, &(_, s))| (tail_key(s), s, c as u32, k as u32))
        })
        .collect();
    let by_tail = |(ka, a, ..): &(u64, &[u8], u32, u32), (kb, b, ..): &(u64, &[u8], u32, u32)| {
        kb.cmp(ka).then_with(|| b.iter().rev().cmp(a.iter().rev()))
    };
    if parallel {
        order.par_sort_unstable_by(by_tail);
    } else {
        order.sort_unstable_by(by_tail);
    }
    // Output offsets, by chunk and string.
    let mut placed: Vec<Vec<(u64, u64)>> = cut
        .iter()
        .map(|list| list.iter().map(|&(pos, _)| (pos, 0)).collect())
        .collect();
    let mut out: Vec<u8> = Vec::new();
    // The last string appended, and the last distinct string placed (appended, or found
    // at the end of the one appended before it) with its offset: its copies follow it.
    let mut previous: &[u8] = &[];
    let mut last: Option<(&[u8], u64)> = None;
    for (_, s, c, k) in order {
        let at = match last {
            Some((l, at)) if l == s => at,
            _ => {
                let at = if previous.ends_with(s) {
                    (out.len() - s.len()) as u64
                } else {
                    let at = out.len() as u64;
                    out.extend_from_slice(s);
                    previous = s;
                    at
                };
                last = Some((s, at));
                at
            }
        };
        placed[c as usize][k as usize].1 = at;
    }
    let maps = if parallel {
        placed.into_par_iter().map(PieceMap::new).collect()
    } else {
        placed.into_iter().map(PieceMap::new).collect()
    };
    (out, maps)
}

/// [`merge_strings`] works in parallel from this many bytes of input on (under test, a few,
/// so that the tests take both ways; they give the same result).
const PARALLEL_BYTES: usize = if cfg!(test) { 64 } else { 64 << 10 };

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_sorted_deduplicated_and_tail_merged() {
        let (out, maps) = merge_strings(&[b"abc\0hello\0", b"hello\0x\0abc\0", b"bc\0"]);
        // Reversed and descending: "x\0", "hello\0", "abc\0" ("bc\0" inside it).
        assert_eq!(out, b"x\0hello\0abc\0");
        assert_eq!(maps[0].translate(0), Some(8));
        assert_eq!(maps[0].translate(6), Some(4));
        assert_eq!(maps[1].translate(0), Some(2));
        assert_eq!(maps[1].translate(2), Some(4));
        assert_eq!(maps[1].translate(6), Some(0));
        assert_eq!(maps[1].translate(8), Some(8));
        assert_eq!(maps[2].translate(0), Some(9));
        assert_eq!(maps[2].translate(1), Some(10));
        let (out, maps) = merge_strings(&[b"tail"]);
        assert_eq!(out, b"tail");
        assert_eq!(maps[0].translate(3), Some(3));
    }

    /// Every input offset (and a few past the end) translates as a binary search over the
    /// strings' starts does, for chunks with long and short strings around block edges.
    #[test]
    fn translate_agrees_with_binary_search() {
        let mut rng = crate::testing::Rng(0x9e37_79b9_7f4a_7c15);
        let mut rand = move |n: u64| rng.below(n);
        for _ in 0..300 {
            let mut chunk = Vec::new();
            for _ in 0..rand(30) {
                let len = if rand(4) == 0 { rand(200) } else { rand(10) };
                chunk.extend((0..len).map(|_| b'a' + rand(3) as u8));
                chunk.push(0);
            }
            let (_, maps) = merge_strings(&[&chunk]);
            let map = &maps[0];
            for off in 0..chunk.len() as u64 + 70 {
                let expected = map
                    .pieces
                    .partition_point(|p| p.0 <= off)
                    .checked_sub(1)
                    .map(|k| map.pieces[k].1 + (off - map.pieces[k].0));
                assert_eq!(map.translate(off), expected, "offset {off} of {chunk:?}");
            }
        }
    }

    /// The merged blob is the one the plain reversed-bytes order gives, for strings that
    /// share long tails, are tails of each other and contain zero bytes.
    #[test]
    fn tail_keys_order_as_reversed_bytes() {
        let mut rng = crate::testing::Rng(0x2545_f491_4f6c_dd1d);
        let mut rand = move |n: u64| rng.below(n);
        for _ in 0..200 {
            let mut chunk = Vec::new();
            for _ in 0..rand(40) {
                let len = rand(14);
                // A small alphabet (with 0 and 1) makes shared tails likely.
                chunk.extend((0..len).map(|_| [0u8, 1, b'a', b'b'][rand(4) as usize]));
                chunk.push(0);
            }
            let (out, _) = merge_strings(&[&chunk]);
            // The reference: the same algorithm with the plain comparison.
            let mut unique: Vec<&[u8]> = Vec::new();
            let mut pos = 0;
            while pos < chunk.len() {
                let len = chunk[pos..]
                    .iter()
                    .position(|&b| b == 0)
                    .map_or(chunk.len() - pos, |n| n + 1);
                unique.push(&chunk[pos..pos + len]);
                pos += len;
            }
            unique.sort_unstable_by(|a, b| b.iter().rev().cmp(a.iter().rev()));
            unique.dedup();
            let mut expected: Vec<u8> = Vec::new();
            let mut previous: &[u8] = &[];
            for s in unique {
                if !previous.ends_with(s) {
                    expected.extend_from_slice(s);
                    previous = s;
                }
            }
            assert_eq!(out, expected, "{chunk:?}");
        }
    }
}
