//! String merging, as wasm-ld does it at its default `-O1`.
//!
//! Data segments flagged `STRINGS` with alignment 1 (clang's `.rodata..L.str*`) and the
//! `.debug_str`, `.debug_str.dwo` and `.debug_line_str` custom sections are cut into
//! NUL-terminated strings; within one output segment (or custom section) each distinct string
//! is kept once, in first-seen order, with no tail merging (LLVM's
//! `StringTableBuilder::finalizeInOrder`). An input offset maps to the output offset of the
//! string holding it plus the distance into that string.
//!
//! Invariant: a chunk whose last string has no terminating NUL keeps those bytes as one
//! last string; every input offset inside a chunk maps somewhere.

use std::collections::HashMap;

/// Where each string of one input chunk went: `(input offset, output offset)` per string,
/// sorted by input offset.
#[derive(Clone, Debug, Default)]
pub(crate) struct PieceMap(Vec<(u64, u64)>);

impl PieceMap {
    /// The output offset of input offset `off`, relative to the merged chunk's start.
    pub(crate) fn translate(&self, off: u64) -> Option<u64> {
        let k = self.0.partition_point(|p| p.0 <= off).checked_sub(1)?;
        let (input, output) = *self.0.get(k)?;
        Some(output + (off - input))
    }
}

/// The custom sections whose strings wasm-ld merges.
pub(crate) fn is_mergeable_custom(name: &str) -> bool {
    matches!(name, ".debug_str" | ".debug_str.dwo" | ".debug_line_str")
}

/// Merges the strings of `chunks` into one blob; one map per chunk.
pub(crate) fn merge_strings(chunks: &[&[u8]]) -> (Vec<u8>, Vec<PieceMap>) {
    let mut out = Vec::new();
    let mut seen: HashMap<&[u8], u64> = HashMap::new();
    let mut maps = Vec::with_capacity(chunks.len());
    for data in chunks {
        let mut map = Vec::new();
        let mut pos = 0usize;
        while pos < data.len() {
            let rest = &data[pos..];
            let len = rest.iter().position(|&b| b == 0).map_or(rest.len(), |n| n + 1);
            let s = &rest[..len];
            let at = *seen.entry(s).or_insert_with(|| {
                let at = out.len() as u64;
                out.extend_from_slice(s);
                at
            });
            map.push((pos as u64, at));
            pos += len;
        }
        maps.push(PieceMap(map));
    }
    (out, maps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_deduplicated_in_first_seen_order() {
        let (out, maps) = merge_strings(&[b"abc\0hello\0", b"hello\0x\0abc\0", b"tail"]);
        assert_eq!(out, b"abc\0hello\0x\0tail");
        assert_eq!(maps[0].translate(0), Some(0));
        assert_eq!(maps[0].translate(6), Some(6));
        assert_eq!(maps[1].translate(0), Some(4));
        assert_eq!(maps[1].translate(2), Some(6));
        assert_eq!(maps[1].translate(6), Some(10));
        assert_eq!(maps[1].translate(8), Some(0));
        assert_eq!(maps[2].translate(3), Some(15));
        // No tail merging: "c\0" is not found inside "abc\0".
        let (out, _) = merge_strings(&[b"abc\0", b"c\0"]);
        assert_eq!(out, b"abc\0c\0");
    }
}
