//! Corrupt objects and archives never make the reader or the linker panic.
//!
//! Real objects (members of wasi-libc's `libc.a` and objects clang compiles from `tests/c/`,
//! with debug info, comdats and TLS among them) are truncated at many points, have bytes
//! flipped or replaced anywhere, and have the LEBs of their `linking` and `reloc.*` sections
//! corrupted (continuation bits, huge values); a small archive made with `llvm-ar` is
//! corrupted likewise. Each mutant goes through `kiln::object::read_object` (or
//! `read_archive` and then each member) and, when it reads, through `kiln::link::link` with
//! undefined symbols imported and GC off (so every relocation is applied). An error or a
//! result is fine; a panic is a failure, and the input is saved under the test's target
//! directory for reproduction.
//!
//! The mutations are deterministic (a fixed-seed xorshift), so a failure reproduces.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use kiln::link::{LinkOptions, link};
use kiln::object::{read_archive, read_object};

/// libc.a members taken: every `LIBC_STRIDE`-th one.
const LIBC_STRIDE: usize = 60;
/// Random whole-object mutations per object.
const RANDOM_PER_OBJECT: usize = 120;
/// Mutations inside the linking and reloc sections per object.
const TARGETED_PER_OBJECT: usize = 120;
/// Truncation points per object (plus every section boundary and its neighbours).
const TRUNCATIONS_PER_OBJECT: usize = 40;

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

/// Bytes worth writing into wasm: LEB continuation bits, section ids, type codes, extremes.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x05, 0x07, 0x0b, 0x10, 0x3f, 0x40, 0x60, 0x7f, 0x80, 0x81, 0xfe, 0xff,
];

/// The byte ranges (payloads) of the custom sections `linking` and `reloc.*`, and every
/// section start.
fn sections(bytes: &[u8]) -> (Vec<std::ops::Range<usize>>, Vec<usize>) {
    let mut meta = Vec::new();
    let mut starts = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else { break };
        if let Some((_, range)) = payload.as_section() {
            starts.push(range.start as usize);
        }
        if let wasmparser::Payload::CustomSection(c) = payload
            && (c.name() == "linking" || c.name().starts_with("reloc."))
        {
            let start = c.data_offset() as usize;
            meta.push(start..start + c.data().len());
        }
    }
    (meta, starts)
}

/// Every mutant of `bytes`, in a fixed order.
fn mutants(bytes: &[u8], rng: &mut XorShift) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let (meta, starts) = sections(bytes);
    let mut cuts: Vec<usize> = (0..TRUNCATIONS_PER_OBJECT)
        .map(|i| i * bytes.len() / TRUNCATIONS_PER_OBJECT)
        .collect();
    for s in &starts {
        cuts.extend([s.saturating_sub(1), *s, s + 1, s + 2]);
    }
    for r in &meta {
        cuts.extend([r.start + 1, (r.start + r.end) / 2, r.end.saturating_sub(1)]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|&c| c < bytes.len()) {
        out.push(bytes[..cut].to_vec());
    }
    for _ in 0..RANDOM_PER_OBJECT {
        let mut m = bytes.to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(m.len());
            match rng.below(3) {
                0 => m[at] ^= 1 << rng.below(8),
                1 => m[at] = INTERESTING[rng.below(INTERESTING.len())],
                _ => m[at] = rng.next() as u8,
            }
        }
        out.push(m);
    }
    if !meta.is_empty() {
        for _ in 0..TARGETED_PER_OBJECT {
            let mut m = bytes.to_vec();
            let r = &meta[rng.below(meta.len())];
            if r.is_empty() {
                continue;
            }
            let at = r.start + rng.below(r.len());
            match rng.below(5) {
                // A LEB that never ends within five bytes.
                0 => {
                    for b in m.iter_mut().skip(at).take(5) {
                        *b |= 0x80;
                    }
                }
                // A huge value in place of a small one (same length kept).
                1 => {
                    if let Some(b) = m.get_mut(at) {
                        *b = 0xff;
                    }
                    if let Some(b) = m.get_mut(at + 1) {
                        *b = 0x7f;
                    }
                }
                // Continuation bit toggled: the following fields shift.
                2 => m[at] ^= 0x80,
                // A small value change: another symbol, segment, type or offset.
                3 => m[at] = m[at].wrapping_add(1 + rng.below(4) as u8),
                _ => m[at] = INTERESTING[rng.below(INTERESTING.len())],
            }
            out.push(m);
        }
    }
    out
}

/// Tally of what the reader and the linker answered.
#[derive(Default)]
struct Tally {
    cases: usize,
    read_errors: usize,
    link_errors: usize,
    linked: usize,
    panics: Vec<String>,
}

fn link_options() -> LinkOptions {
    LinkOptions {
        import_undefined: true,
        gc: false,
        // The TLS object uses atomics and bulk memory.
        features: kiln::target::Features {
            atomics: true,
            ..kiln::target::Features::GENERIC
        },
        ..LinkOptions::default()
    }
}

/// Runs `f` on one case; a panic is recorded with the input saved to `save_dir`.
fn guarded(
    tally: &mut Tally,
    save_dir: &Path,
    label: &str,
    input: &[u8],
    last_panic: &Arc<Mutex<String>>,
    f: impl FnOnce() -> Outcome,
) {
    tally.cases += 1;
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Outcome::ReadError) => tally.read_errors += 1,
        Ok(Outcome::LinkError) => tally.link_errors += 1,
        Ok(Outcome::Linked) => tally.linked += 1,
        Err(_) => {
            let path = save_dir.join(format!("panic-{}.bin", tally.panics.len()));
            let _ = std::fs::write(&path, input);
            let msg = last_panic.lock().map(|m| m.clone()).unwrap_or_default();
            tally.panics.push(format!(
                "{label}: {msg} (input saved to {})",
                path.display()
            ));
        }
    }
}

enum Outcome {
    ReadError,
    LinkError,
    Linked,
}

fn read_and_link(bytes: &[u8]) -> Outcome {
    let Ok(object) = read_object("mutant.o", bytes) else {
        return Outcome::ReadError;
    };
    match link(&[object], &link_options()) {
        Ok(_) => Outcome::Linked,
        Err(_) => Outcome::LinkError,
    }
}

fn read_archive_and_link(bytes: &[u8]) -> Outcome {
    let Ok(archive) = read_archive("mutant.a", bytes) else {
        return Outcome::ReadError;
    };
    let mut objects = Vec::new();
    for (i, member) in archive.members.iter().enumerate() {
        match read_object(&archive.member_path(i), member.data) {
            Ok(o) => objects.push(o),
            Err(_) => return Outcome::ReadError,
        }
    }
    match link(&objects, &link_options()) {
        Ok(_) => Outcome::Linked,
        Err(_) => Outcome::LinkError,
    }
}

/// Compiles the test programs with clang into `dir`; returns the objects' bytes by name.
fn compiled_objects(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
    let jobs: [(&str, &[&str]); 5] = [
        ("qsort.c", &["-O1"]),
        ("printf.c", &["-O0", "-g"]),
        ("ctors.c", &["-O1"]),
        (
            "tls_other.c",
            &[
                "-O1",
                "-matomics",
                "-mbulk-memory",
                "-ftls-model=local-exec",
            ],
        ),
        ("shapes.cpp", &["-O1", "-fno-exceptions"]),
    ];
    let mut out = Vec::new();
    for (file, flags) in jobs {
        let obj = dir.join(format!("{file}.o"));
        let driver = if file.ends_with(".cpp") {
            "clang++"
        } else {
            "clang"
        };
        let status = Command::new(driver)
            .arg("--target=wasm32-wasi")
            .args(flags)
            .arg("-c")
            .arg(src.join(file))
            .arg("-o")
            .arg(&obj)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {driver} (install clang): {e}"));
        assert!(status.success(), "{driver} failed on {file}");
        let bytes = std::fs::read(&obj).expect("read the compiled object");
        out.push((file.to_string(), bytes));
    }
    out
}

#[test]
fn corrupt_objects_and_archives_never_panic() {
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join("object_fuzz");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test directory");

    let libc_path = "/usr/lib/wasm32-wasi/libc.a";
    let libc = std::fs::read(libc_path)
        .unwrap_or_else(|e| panic!("{libc_path}: {e}; install wasi-libc (./run-tests does)"));
    let archive = read_archive(libc_path, &libc).expect("libc.a reads");
    let mut objects: Vec<(String, Vec<u8>)> = archive
        .members
        .iter()
        .step_by(LIBC_STRIDE)
        .map(|m| (format!("libc.a({})", m.name), m.data.to_vec()))
        .collect();
    objects.extend(compiled_objects(&dir));

    // A small archive of three compiled objects.
    let members: Vec<PathBuf> = ["qsort.c.o", "ctors.c.o", "tls_other.c.o"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    let lib = dir.join("libsmall.a");
    let status = Command::new("llvm-ar")
        .arg("rcs")
        .arg(&lib)
        .args(&members)
        .status()
        .unwrap_or_else(|e| panic!("cannot run llvm-ar (install llvm): {e}"));
    assert!(status.success(), "llvm-ar failed");
    let small_archive = std::fs::read(&lib).expect("read the archive");

    let last_panic = Arc::new(Mutex::new(String::new()));
    let hook_msg = Arc::clone(&last_panic);
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if let Ok(mut m) = hook_msg.lock() {
            *m = format!("panicked at {location}: {payload}");
        }
    }));

    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut tally = Tally::default();
    let mut originals_linked = 0;
    for (name, bytes) in &objects {
        if let Ok(object) = read_object(name, bytes)
            && let Err(e) = link(&[object], &link_options())
        {
            println!("unmodified {name} does not link alone: {e}");
        }
        let before = tally.linked;
        guarded(&mut tally, &dir, name, bytes, &last_panic, || {
            read_and_link(bytes)
        });
        originals_linked += tally.linked - before;
        for (i, m) in mutants(bytes, &mut rng).iter().enumerate() {
            let label = format!("{name} mutant {i}");
            guarded(&mut tally, &dir, &label, m, &last_panic, || {
                read_and_link(m)
            });
        }
    }
    let archive_mutants = {
        let mut list = Vec::new();
        for cut in (0..small_archive.len()).step_by(small_archive.len() / 60 + 1) {
            list.push(small_archive[..cut].to_vec());
        }
        for _ in 0..200 {
            let mut m = small_archive.clone();
            // Mostly the headers: the global header, the index, the first member headers.
            let limit = if rng.below(2) == 0 {
                400.min(m.len())
            } else {
                m.len()
            };
            let at = rng.below(limit);
            m[at] = match rng.below(3) {
                0 => b"0123456789 /`\n"[rng.below(14)],
                1 => INTERESTING[rng.below(INTERESTING.len())],
                _ => rng.next() as u8,
            };
            list.push(m);
        }
        list
    };
    for (i, m) in archive_mutants.iter().enumerate() {
        let label = format!("libsmall.a mutant {i}");
        guarded(&mut tally, &dir, &label, m, &last_panic, || {
            read_archive_and_link(m)
        });
    }
    let _ = panic::take_hook();
    panic::set_hook(default_hook);

    println!(
        "object fuzz: {} cases from {} objects and 1 archive ({} archive mutants): {} read \
         errors, {} link errors, {} linked, {} panics; {} of {} unmodified objects linked",
        tally.cases,
        objects.len(),
        archive_mutants.len(),
        tally.read_errors,
        tally.link_errors,
        tally.linked,
        tally.panics.len(),
        originals_linked,
        objects.len()
    );
    assert!(tally.cases >= 2000, "too few cases: {}", tally.cases);
    assert!(
        tally.panics.is_empty(),
        "{} panics:\n{}",
        tally.panics.len(),
        tally.panics.join("\n")
    );
}
