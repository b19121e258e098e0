//! Bad input never panics: truncated and byte-mutated versions of every corpus file go
//! through the parser and the verifier, which must answer with a result or diagnostics.
//! Whatever parses must also print to a fixed point.
//!
//! The mutations are deterministic (a fixed-seed xorshift), so a failure reproduces; the
//! failing input is written to `target/mutation-failure.ir`.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

/// Inputs per corpus file beyond truncations.
const MUTATIONS_PER_FILE: usize = 400;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes a mutation writes: the format's punctuation, digits, letters, and a few bytes that
/// are not ASCII.
const INTERESTING: &[u8] = b"(){}[],:;=@%.-+\"\\\n \t0123456789xvblockssi_fnuptr\xff\xc3";

fn mutate(src: &[u8], rng: &mut XorShift) -> Vec<u8> {
    let mut out = src.to_vec();
    let edits = 1 + rng.below(3);
    for _ in 0..edits {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 | 1 if at < out.len() => out[at] = INTERESTING[rng.below(INTERESTING.len())],
            2 => out.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 if at < out.len() => {
                out.remove(at);
            }
            4 => {
                // Duplicate a span: repeats definitions, braces, whole lines.
                let len = rng.below(40).min(out.len() - at.min(out.len()));
                let span: Vec<u8> = out[at..at + len].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, span);
            }
            _ => {
                // Swap two bytes.
                if !out.is_empty() {
                    let other = rng.below(out.len());
                    let at = at.min(out.len() - 1);
                    out.swap(at, other);
                }
            }
        }
    }
    out
}

fn check(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        if let Ok(module) = kiln::ir::parse(&text) {
            let _ = kiln::verify::verify(&module);
            let printed = kiln::ir::print(&module);
            let reparsed = kiln::ir::parse(&printed).map(|m| kiln::ir::print(&m));
            assert_eq!(
                reparsed.as_deref(),
                Ok(printed.as_str()),
                "printer not a fixed point"
            );
        }
    }));
    if result.is_err() {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/mutation-failure.ir");
        let _ = fs::write(&out, bytes);
        panic!("panic on a mutated input, saved to {}", out.display());
    }
}

#[test]
fn mutated_corpus_never_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("ir");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("errors")] {
        for entry in fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "ir") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut inputs = 0usize;
    for path in &files {
        let src = fs::read(path).unwrap();
        // Truncations: every prefix length in steps that cover each file ~100 times.
        let step = (src.len() / 100).max(1);
        for len in (0..src.len()).step_by(step) {
            check(&src[..len]);
            inputs += 1;
        }
        for _ in 0..MUTATIONS_PER_FILE {
            check(&mutate(&src, &mut rng));
            inputs += 1;
        }
    }
    assert!(inputs >= 20_000, "only {inputs} mutated inputs");
    println!("{inputs} mutated inputs, no panic");
}
