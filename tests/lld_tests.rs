//! LLVM's wasm-ld tests (`../shared/lld-tests` beside the repository, data) linked by kiln
//! and by LLD 22.
//!
//! `regen.sh` runs every test's RUN lines with LLD 22 (`python3 -m ziglang wasm-ld`) and with
//! `kiln link` (through a wrapper script), both on LLVM-22-style objects. For each test whose
//! main link succeeds with LLD 22, kiln's output of the same link is checked: it validates,
//! has the same exports, imports, memory and table limits and target features, the same data
//! bytes at each exported data symbol, and, when it exports `_start` and imports nothing,
//! runs the same way (returns or traps) under wasmtime. For each test whose main link is
//! expected to fail, kiln must fail too.
//!
//! LLD 22's links depend only on the test data and the zig version, so they are kept under
//! the target directory (`lld_tests_ref22_KEY`) and later runs only run kiln's chain.
//!
//! The test prints a summary table with the first difference of each failing test, and
//! fails when kiln crashes (a panic or a signal, whatever the link's expected outcome), when
//! one of its outputs does not validate, or when fewer main links match than
//! [`MATCH_FLOOR`], the figure measured when the floor was last raised.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasmparser::{ExternalKind, Operator, Parser, Payload, TypeRef};

/// The lld-tests data directory: `$KILN_LLD_TESTS`, else `../shared/lld-tests` beside the
/// repository, else `/work/shared/lld-tests`. Missing data fails the test.
fn lld_tests() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("KILN_LLD_TESTS") {
            return PathBuf::from(dir);
        }
        let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/lld-tests");
        let candidates = [beside, PathBuf::from("/work/shared/lld-tests")];
        match candidates.iter().find(|d| d.join("regen.sh").exists()) {
            Some(dir) => dir.clone(),
            None => panic!(
                "the lld-tests data is missing: looked for {} and {}; set KILN_LLD_TESTS",
                candidates[0].display(),
                candidates[1].display()
            ),
        }
    })
}

/// Bytes compared at each exported data symbol.
const DATA_BYTES: u32 = 16;

/// One link as `regen.py`'s wasm-ld shim logged it.
struct LinkLog {
    runline: i64,
    rc: i64,
    saved: Option<String>,
    stderr: String,
}

fn read_log(path: &Path) -> Vec<LinkLog> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| LinkLog {
            runline: v["runline"].as_i64().unwrap_or(-1),
            rc: v["rc"].as_i64().unwrap_or(-1),
            saved: v["saved"].as_str().map(str::to_string),
            stderr: v["stderr"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

/// Each test's main link: RUN line index and whether it is expected to fail, from
/// `regen.py`'s own analysis.
fn main_links() -> BTreeMap<String, (i64, bool)> {
    let script = "import sys, json\nsys.path.insert(0, sys.argv[1])\nimport regen\n\
                  out = {}\nfor t in regen.list_tests([]):\n    m = regen.analyse(t)[3]\n    \
                  out[t] = None if m is None else [m['line'], m['neg']]\nprint(json.dumps(out))\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(lld_tests())
        .output()
        .expect("run python3 (install python3)");
    assert!(
        out.status.success(),
        "regen.py analysis failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("regen.py analysis prints JSON");
    let mut map = BTreeMap::new();
    if let Some(obj) = v.as_object() {
        for (test, m) in obj {
            if let (Some(line), Some(neg)) = (m[0].as_i64(), m[1].as_bool()) {
                map.insert(test.clone(), (line, neg));
            }
        }
    }
    map
}

/// What the comparison looks at in one module.
#[derive(Default)]
struct Facts {
    exports: Vec<String>,
    imports: Vec<String>,
    memories: Vec<String>,
    tables: Vec<String>,
    /// Exported globals whose initializer is an `i32.const`: name and value (data addresses).
    data_symbols: Vec<(String, u32)>,
    /// Active data segments at constant offsets.
    segments: Vec<(u32, Vec<u8>)>,
    has_start: bool,
    /// The `target_features` section's entries (`+name`), as written.
    features: Vec<String>,
}

impl Facts {
    /// `len` bytes of the initial memory at `addr` (zero where no segment writes).
    fn bytes_at(&self, addr: u32, len: u32) -> Vec<u8> {
        let mut out = vec![0u8; len as usize];
        for (base, data) in &self.segments {
            for (i, b) in out.iter_mut().enumerate() {
                let a = u64::from(addr) + i as u64;
                if a >= u64::from(*base) && a < u64::from(*base) + data.len() as u64 {
                    *b = data[(a - u64::from(*base)) as usize];
                }
            }
        }
        out
    }
}

fn const_i32(expr: &wasmparser::ConstExpr<'_>) -> Option<u32> {
    let mut r = expr.get_operators_reader();
    match r.read().ok()? {
        Operator::I32Const { value } => Some(value as u32),
        _ => None,
    }
}

fn facts(bytes: &[u8]) -> Result<Facts, String> {
    let mut f = Facts::default();
    let mut types = Vec::new();
    let mut globals: Vec<Option<u32>> = Vec::new();
    let mut global_exports = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            Payload::TypeSection(r) => {
                for rec in r {
                    let rec = rec.map_err(|e| e.to_string())?;
                    for ty in rec.types() {
                        types.push(format!("{}", ty.composite_type));
                    }
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.map_err(|e| e.to_string())?;
                    let ty = match imp.ty {
                        TypeRef::Func(t) => types.get(t as usize).cloned().unwrap_or_default(),
                        TypeRef::Global(_) => {
                            globals.push(None);
                            format!("{:?}", imp.ty)
                        }
                        other => format!("{other:?}"),
                    };
                    f.imports.push(format!("{}.{}: {ty}", imp.module, imp.name));
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m.map_err(|e| e.to_string())?;
                    f.memories.push(format!(
                        "pages {}..{:?}{}",
                        m.initial,
                        m.maximum,
                        if m.shared { " shared" } else { "" }
                    ));
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.map_err(|e| e.to_string())?;
                    f.tables.push(format!(
                        "{} {}..{:?}",
                        t.ty.element_type, t.ty.initial, t.ty.maximum
                    ));
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.map_err(|e| e.to_string())?;
                    globals.push(const_i32(&g.init_expr));
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.map_err(|e| e.to_string())?;
                    let kind = match e.kind {
                        ExternalKind::Func => "func",
                        ExternalKind::Table => "table",
                        ExternalKind::Memory => "memory",
                        ExternalKind::Global => {
                            global_exports.push((e.name.to_string(), e.index));
                            "global"
                        }
                        ExternalKind::Tag => "tag",
                        _ => "other",
                    };
                    if e.name == "_start" && kind == "func" {
                        f.has_start = true;
                    }
                    f.exports.push(format!("{kind} {}", e.name));
                }
            }
            Payload::CustomSection(c) if c.name() == "target_features" => {
                let mut r = wasmparser::BinaryReader::new(c.data(), 0);
                let n = r.read_var_u32().map_err(|e| e.to_string())?;
                for _ in 0..n {
                    let prefix = r.read_u8().map_err(|e| e.to_string())? as char;
                    let name = r.read_string().map_err(|e| e.to_string())?;
                    f.features.push(format!("{prefix}{name}"));
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.map_err(|e| e.to_string())?;
                    if let wasmparser::DataKind::Active { offset_expr, .. } = d.kind
                        && let Some(base) = const_i32(&offset_expr)
                    {
                        f.segments.push((base, d.data.to_vec()));
                    }
                }
            }
            _ => {}
        }
    }
    for (name, index) in global_exports {
        if let Some(Some(addr)) = globals.get(index as usize) {
            f.data_symbols.push((name, *addr));
        }
    }
    f.exports.sort();
    f.imports.sort();
    f.data_symbols.sort();
    Ok(f)
}

/// How `_start` of a module without imports ends under wasmtime.
fn run_start(engine: &wasmtime::Engine, bytes: &[u8]) -> String {
    let module = match wasmtime::Module::new(engine, bytes) {
        Ok(m) => m,
        Err(e) => return format!("wasmtime rejects it: {e}"),
    };
    let mut store = wasmtime::Store::new(engine, ());
    let instance = match wasmtime::Instance::new(&mut store, &module, &[]) {
        Ok(i) => i,
        Err(e) => return format!("instantiation trapped: {e}"),
    };
    match instance.get_typed_func::<(), ()>(&mut store, "_start") {
        Err(_) => "_start has another type".to_string(),
        Ok(f) => match f.call(&mut store, ()) {
            Ok(()) => "returns".to_string(),
            Err(e) => format!("traps ({})", e.root_cause()),
        },
    }
}

/// The first difference between LLD 22's output and kiln's, or `None` when they match.
fn compare(
    engine: &wasmtime::Engine,
    reference: &[u8],
    ours: &[u8],
) -> Result<Option<String>, String> {
    let r = facts(reference).map_err(|e| format!("LLD 22 output unreadable: {e}"))?;
    let o = facts(ours).map_err(|e| format!("kiln output unreadable: {e}"))?;
    let lists: [(&str, &Vec<String>, &Vec<String>); 5] = [
        ("exports", &r.exports, &o.exports),
        ("imports", &r.imports, &o.imports),
        ("memory", &r.memories, &o.memories),
        ("table", &r.tables, &o.tables),
        ("target features", &r.features, &o.features),
    ];
    for (what, a, b) in lists {
        if a != b {
            let missing: Vec<_> = a.iter().filter(|x| !b.contains(x)).collect();
            let extra: Vec<_> = b.iter().filter(|x| !a.contains(x)).collect();
            return Ok(Some(format!(
                "{what}: LLD 22 has {missing:?}, kiln has {extra:?}"
            )));
        }
    }
    for (name, addr) in &r.data_symbols {
        let Some((_, our_addr)) = o.data_symbols.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let a = r.bytes_at(*addr, DATA_BYTES);
        let b = o.bytes_at(*our_addr, DATA_BYTES);
        if a != b {
            return Ok(Some(format!(
                "data at `{name}`: LLD 22 {a:02x?} at {addr}, kiln {b:02x?} at {our_addr}"
            )));
        }
    }
    if r.has_start && r.imports.is_empty() {
        let a = run_start(engine, reference);
        let b = run_start(engine, ours);
        if a != b {
            return Ok(Some(format!("run: LLD 22 {a}, kiln {b}")));
        }
    }
    Ok(None)
}

fn first_line(s: &str) -> String {
    let line = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    line.chars().take(160).collect()
}

fn is_crash(log: &LinkLog) -> bool {
    log.rc < 0 || log.rc == 101 || log.stderr.contains("panicked at")
}

/// A stable 64-bit FNV-1a hash (the cache key must not change between runs or toolchains).
struct Fnv(u64);

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// Every file under `dir`, sorted.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
    out.sort();
}

/// What LLD 22's reference links depend on: every file of the lld-tests directory (tests,
/// inputs, `regen.py`) and the zig (clang and LLD 22) version.
fn reference_key(zig_version: &str) -> String {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    let mut files = Vec::new();
    files_under(lld_tests(), &mut files);
    for f in &files {
        h.write(f.to_string_lossy().as_bytes());
        h.write(&std::fs::read(f).unwrap_or_default());
    }
    h.write(zig_version.as_bytes());
    format!("{:016x}", h.0)
}

/// Runs `regen.sh OUT` with `chains`; panics with its output when it fails.
fn regen(out: &Path, chains: &[String]) {
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    let mut cmd = Command::new(lld_tests().join("regen.sh"));
    cmd.arg(out).args(["--jobs", &jobs.to_string()]);
    for c in chains {
        cmd.args(["--chain", c]);
    }
    let regen = cmd.output().expect("run regen.sh");
    assert!(
        regen.status.success(),
        "regen.sh failed: {}\n{}",
        String::from_utf8_lossy(&regen.stdout),
        String::from_utf8_lossy(&regen.stderr)
    );
    assert!(
        out.join("manifest.tsv").exists(),
        "regen.sh wrote no manifest"
    );
}

/// The count of main links that must match LLD 22 (measured: see BENCHMARKS.md); fewer is a
/// regression.
const MATCH_FLOOR: usize = 121;

#[test]
fn lld_tests_against_lld_22() {
    let zig = Command::new("python3")
        .args(["-m", "ziglang", "version"])
        .output();
    let zig_version = match zig {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => {
            panic!("`python3 -m ziglang version` failed: `pip install ziglang` (./run-tests does)")
        }
    };
    assert!(
        lld_tests().join("regen.sh").exists(),
        "{}/regen.sh is missing",
        lld_tests().display()
    );
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out: PathBuf = tmp.join("lld_tests");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("create the output directory");
    let wrapper = out.join("kiln-wasm-ld");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' link \"$@\"\n",
            env!("CARGO_BIN_EXE_kiln")
        ),
    )
    .expect("write the wrapper");
    let chmod = Command::new("chmod").arg("755").arg(&wrapper).status();
    assert!(chmod.is_ok_and(|s| s.success()), "chmod the wrapper");

    // LLD 22's links depend only on the test data and the zig version: they are kept under
    // the target directory and reused while those stay the same (KILN_LLD_TESTS_FRESH=1
    // redoes them). Only kiln's chain runs then, which halves the time.
    let key = reference_key(&zig_version);
    let cache = tmp.join(format!("lld_tests_ref22_{key}"));
    let fresh = std::env::var_os("KILN_LLD_TESTS_FRESH").is_some();
    let cached = !fresh && cache.join("complete").exists();
    let ours_chain = format!("ours:22:{}", wrapper.display());
    let started = std::time::Instant::now();
    if cached {
        regen(&out, &[ours_chain]);
    } else {
        regen(
            &out,
            &["22:22:python3 -m ziglang wasm-ld".to_string(), ours_chain],
        );
        // Keep the references (not their objects) for the next run; drop older keys.
        if let Ok(entries) = std::fs::read_dir(tmp) {
            for e in entries.flatten() {
                if e.file_name()
                    .to_string_lossy()
                    .starts_with("lld_tests_ref22_")
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        std::fs::create_dir_all(&cache).expect("create the reference cache");
        std::fs::rename(out.join("ref22"), cache.join("ref22")).expect("keep the references");
        std::fs::write(cache.join("complete"), &zig_version).expect("mark the cache complete");
        let _ = std::fs::remove_dir_all(out.join("obj22"));
    }
    let regen_time = started.elapsed();
    let ref_dir = cache.join("ref22");

    let engine = wasmtime::Engine::default();
    let mains = main_links();
    assert!(
        !mains.is_empty(),
        "no tests found in {}",
        lld_tests().display()
    );
    let (mut considered, mut linked, mut validated, mut matched, mut errors) = (0, 0, 0, 0, 0);
    let (mut expected_errors, mut errors_alike) = (0, 0);
    let mut crashes = Vec::new();
    let mut failures = Vec::new();
    for (test, (line, neg)) in &mains {
        let ref22 = read_log(&ref_dir.join(test).join("links.jsonl"));
        let ours_dir = out.join("refours").join(test);
        let ours = read_log(&ours_dir.join("links.jsonl"));
        for l in &ours {
            if is_crash(l) {
                crashes.push(format!("{test}: rc {}: {}", l.rc, first_line(&l.stderr)));
            }
        }
        let Some(r) = ref22.iter().find(|l| l.runline == *line) else {
            continue;
        };
        let o = ours.iter().find(|l| l.runline == *line);
        if *neg {
            if r.rc != 0 {
                expected_errors += 1;
                if o.is_some_and(|o| o.rc != 0) {
                    errors_alike += 1;
                } else {
                    failures.push((
                        test.clone(),
                        "LLD 22 errors as expected, kiln links".to_string(),
                    ));
                }
            }
            continue;
        }
        if r.rc != 0 {
            continue;
        }
        considered += 1;
        let Some(o) = o else {
            errors += 1;
            failures.push((
                test.clone(),
                "kiln's main link did not run (an earlier step failed)".into(),
            ));
            continue;
        };
        if o.rc != 0 {
            errors += 1;
            failures.push((test.clone(), format!("kiln: {}", first_line(&o.stderr))));
            continue;
        }
        let (Some(rs), Some(os)) = (&r.saved, &o.saved) else {
            // Output to /dev/null or not kept: nothing to compare beyond success.
            linked += 1;
            validated += 1;
            matched += 1;
            continue;
        };
        linked += 1;
        let reference = std::fs::read(ref_dir.join(test).join(rs)).unwrap_or_default();
        let ours_bytes = std::fs::read(ours_dir.join(os)).unwrap_or_default();
        let mut validator =
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
        if let Err(e) = validator.validate_all(&ours_bytes) {
            failures.push((test.clone(), format!("kiln output invalid: {e}")));
            continue;
        }
        validated += 1;
        match compare(&engine, &reference, &ours_bytes) {
            Ok(None) => matched += 1,
            Ok(Some(d)) => failures.push((test.clone(), d)),
            Err(e) => failures.push((test.clone(), e)),
        }
    }
    println!(
        "lld-tests against LLD 22 ({} tests, regen.sh took {:.0?}, LLD 22's links {})",
        mains.len(),
        regen_time,
        if cached {
            "reused from the cache"
        } else {
            "made in this run"
        }
    );
    println!("  {:<36} {}", "main link OK with LLD 22", considered);
    println!("  {:<36} {}", "linked by kiln", linked);
    println!("  {:<36} {}", "kiln output validates", validated);
    println!("  {:<36} {}", "matches LLD 22", matched);
    println!("  {:<36} {}", "kiln link errors", errors);
    println!(
        "  {:<36} {}/{}",
        "expected errors that kiln also gives", errors_alike, expected_errors
    );
    println!("  {:<36} {}", "kiln crashes", crashes.len());
    println!("failures (first difference):");
    for (test, what) in &failures {
        println!("  {test:<44} {what}");
    }
    println!(
        "LLD-TESTS SUMMARY: {matched} of {considered} main links match LLD 22 \
         ({linked} linked, {validated} validate, {errors} errors, {} crashes)",
        crashes.len()
    );
    assert!(crashes.is_empty(), "kiln crashed:\n{}", crashes.join("\n"));
    assert_eq!(
        validated, linked,
        "some of kiln's outputs do not validate (see the failures above)"
    );
    assert!(
        matched >= MATCH_FLOOR,
        "only {matched} main links match LLD 22; the floor is {MATCH_FLOOR} (see the failures above)"
    );
}
