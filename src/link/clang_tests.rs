//! Real clang 14 objects linked by kiln and by wasm-ld 22 (`python3 -m ziglang wasm-ld`):
//! the memory image (every active data segment laid into one byte array), the globals'
//! types and initial values, the exports, the memory and table limits must be equal.
//! The tests fail loudly when clang or wasm-ld 22 is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasmparser::{DataKind, ExternalKind, Operator, Parser, Payload, TypeRef, ValType as WV};

use super::{BuildId, LinkOptions, link, link_objects};
use crate::object::read_object;
use crate::target::Features;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-clang-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// An anonymous read-write file (already unlinked) in the temporary directory.
fn tempfile_in_target() -> std::fs::File {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("kiln-stream-{}-{n}.wasm", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .expect("create a temporary file");
    std::fs::remove_file(&path).expect("unlink the temporary file");
    file
}

fn compile(dir: &Path, name: &str, source: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).expect("write source");
    let obj = dir.join(format!("{name}.o"));
    let out = Command::new("clang")
        .args(["--target=wasm32-wasi", "-c", "-O1"])
        .args(flags)
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .expect("clang must be installed (/usr/bin/clang) for this test");
    assert!(
        out.status.success(),
        "clang failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    obj
}

fn wasm_ld22(dir: &Path, objs: &[PathBuf], args: &[&str]) -> Vec<u8> {
    let out_path = dir.join("ref.wasm");
    let out = Command::new("python3")
        .args(["-m", "ziglang", "wasm-ld"])
        .args(args)
        .args(objs)
        .arg("-o")
        .arg(&out_path)
        .output()
        .expect("python3 -m ziglang wasm-ld (LLD 22) must be installed for this test");
    assert!(
        out.status.success(),
        "wasm-ld 22 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&out_path).expect("read wasm-ld output")
}

fn kiln(objs: &[PathBuf], opts: &LinkOptions) -> Vec<u8> {
    let bytes: Vec<Vec<u8>> = objs
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    let inputs: Vec<_> = objs
        .iter()
        .zip(&bytes)
        .map(|(p, b)| read_object(&p.to_string_lossy(), b).expect("read object"))
        .collect();
    let out = link(&inputs, opts).unwrap_or_else(|e| panic!("kiln link: {e}"));
    // Written straight into a file (as the command line does), the module is the same;
    // under test the writer flushes every 64 bytes, so every flush point is crossed.
    let file = tempfile_in_target();
    let lazy = vec![false; inputs.len()];
    link_objects(&inputs, &lazy, opts, Some(&file)).unwrap_or_else(|e| panic!("kiln link: {e}"));
    let mut streamed = Vec::new();
    std::io::Read::read_to_end(&mut &file, &mut streamed).expect("read the streamed module");
    let first_difference = streamed.iter().zip(&out).position(|(a, b)| a != b);
    assert!(
        streamed == out,
        "the module written into a file differs from the one in memory: {} and {} bytes, \
         first difference at {first_difference:?}",
        streamed.len(),
        out.len()
    );
    let mut features = wasmparser::WasmFeatures::default();
    features.insert(wasmparser::WasmFeatures::THREADS);
    wasmparser::Validator::new_with_features(features)
        .validate_all(&out)
        .unwrap_or_else(|e| panic!("kiln output invalid: {e}"));
    out
}

/// What the comparison looks at.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    memory: Vec<u8>,
    /// (type, mutable, i32 init) per defined global.
    globals: Vec<(String, bool, Option<i64>)>,
    /// (name, kind, index); function indices are compared too.
    exports: Vec<(String, String, u32)>,
    imports: Vec<(String, String)>,
    mem_limits: (u64, Option<u64>),
    table_limits: Option<(u64, Option<u64>)>,
    custom_names: Vec<String>,
    start: Option<u32>,
    /// The first function body.
    first_body: Vec<u8>,
}

fn summarize(bytes: &[u8]) -> Summary {
    let mut s = Summary::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.expect("parse") {
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp.expect("import");
                    s.imports.push((
                        format!("{}.{}", imp.module, imp.name),
                        match imp.ty {
                            TypeRef::Memory(m) => {
                                s.mem_limits = (m.initial, m.maximum);
                                "memory".to_string()
                            }
                            TypeRef::Table(t) => {
                                s.table_limits = Some((t.initial, t.maximum));
                                "table".to_string()
                            }
                            other => format!("{other:?}"),
                        },
                    ));
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m.expect("memory");
                    s.mem_limits = (m.initial, m.maximum);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.expect("table");
                    s.table_limits = Some((t.ty.initial, t.ty.maximum));
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.expect("global");
                    let init = match g.init_expr.get_operators_reader().read() {
                        Ok(Operator::I32Const { value }) => Some(i64::from(value)),
                        Ok(Operator::I64Const { value }) => Some(value),
                        _ => None,
                    };
                    let ty = match g.ty.content_type {
                        WV::I32 => "i32",
                        WV::I64 => "i64",
                        _ => "other",
                    };
                    s.globals.push((ty.to_string(), g.ty.mutable, init));
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e.expect("export");
                    let kind = match e.kind {
                        ExternalKind::Func => "func",
                        ExternalKind::Global => "global",
                        ExternalKind::Memory => "memory",
                        ExternalKind::Table => "table",
                        _ => "other",
                    };
                    s.exports
                        .push((e.name.to_string(), kind.to_string(), e.index));
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.expect("data");
                    let DataKind::Active { offset_expr, .. } = d.kind else {
                        continue;
                    };
                    let Ok(Operator::I32Const { value }) =
                        offset_expr.get_operators_reader().read()
                    else {
                        panic!("data offset not i32.const");
                    };
                    let at = value as u32 as usize;
                    if s.memory.len() < at + d.data.len() {
                        s.memory.resize(at + d.data.len(), 0);
                    }
                    s.memory[at..at + d.data.len()].copy_from_slice(d.data);
                }
            }
            Payload::CustomSection(c) => s.custom_names.push(c.name().to_string()),
            Payload::StartSection { func, .. } => s.start = Some(func),
            Payload::CodeSectionEntry(body) if s.first_body.is_empty() => {
                s.first_body = body.as_bytes().to_vec();
            }
            _ => {}
        }
    }
    s.exports.sort();
    while s.memory.last() == Some(&0) {
        s.memory.pop();
    }
    s
}

fn features() -> Features {
    Features {
        atomics: true,
        ..Features::default()
    }
}

const LAYOUT_C: &str = r#"
static _Thread_local int tv = 5;
static _Thread_local int tz;
int data1 = 7;
int bss1[10];
const char *msg = "hello";
static int helper(int x) { return x * 2; }
static int helper2(int x) { return x * 3; }
int (*fps[2])(int) = { helper, helper2 };
__attribute__((section("mysec"))) int ms[2] = {1, 2};
extern char __start_mysec[], __stop_mysec[];
extern char __heap_base[], __data_end[], __global_base[], __dso_handle[];
extern char __stack_low[], __stack_high[], __heap_end[];
char *addrs[] = { __heap_base, __data_end, __global_base, __dso_handle, __stack_low,
                  __stack_high, __heap_end, __start_mysec, __stop_mysec, (char *)ms };
__attribute__((export_name("run"))) int run(int a) {
  tv += a; tz++;
  return fps[a & 1](tv) + data1 + bss1[a] + msg[0] + tz;
}
__attribute__((export_name("tls_addr"))) int *tls_addr(void) { return &tv; }
"#;

fn layout_case(ld_args: &[&str], opts: LinkOptions, dir_name: &str) {
    let dir = scratch(dir_name);
    let obj = compile(
        &dir,
        "layout",
        LAYOUT_C,
        &["-matomics", "-mbulk-memory", "-ftls-model=local-exec"],
    );
    let mut args = vec!["--no-entry", "--export=addrs"];
    args.extend_from_slice(ld_args);
    let reference = summarize(&wasm_ld22(&dir, std::slice::from_ref(&obj), &args));
    let opts = LinkOptions {
        exports: vec!["addrs".into()],
        features: features(),
        ..opts
    };
    let ours = summarize(&kiln(std::slice::from_ref(&obj), &opts));
    assert_eq!(ours.memory, reference.memory, "memory image");
    assert_eq!(ours.globals, reference.globals, "globals");
    assert_eq!(ours.exports, reference.exports, "exports");
    assert_eq!(ours.start, reference.start, "start");
    if opts.import_memory.is_some() {
        assert_eq!(ours.first_body, reference.first_body, "__wasm_init_memory");
    }
    assert_eq!(ours.imports, reference.imports, "imports");
    assert_eq!(ours.mem_limits, reference.mem_limits, "memory limits");
    assert_eq!(ours.table_limits, reference.table_limits, "table limits");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clang_layout_stack_first_matches_wasm_ld22() {
    layout_case(&[], LinkOptions::default(), "stack-first");
}

#[test]
fn clang_layout_data_first_matches_wasm_ld22() {
    layout_case(
        &["--no-stack-first", "-z", "stack-size=32768"],
        LinkOptions {
            stack_first: false,
            stack_size: 32768,
            ..LinkOptions::default()
        },
        "data-first",
    );
    layout_case(
        &[
            "--no-stack-first",
            "--global-base=4096",
            "--initial-memory=262144",
            "--max-memory=1048576",
        ],
        LinkOptions {
            stack_first: false,
            global_base: Some(4096),
            initial_memory: Some(262144),
            max_memory: Some(1048576),
            ..LinkOptions::default()
        },
        "global-base",
    );
}

#[test]
fn clang_memory_and_table_options_match_wasm_ld22() {
    layout_case(
        &[
            "--import-memory",
            "--export-memory=mem",
            "--growable-table",
            "--global-base=131072",
        ],
        LinkOptions {
            import_memory: Some(("env".into(), "memory".into())),
            export_memory: Some("mem".into()),
            growable_table: true,
            global_base: Some(131072),
            ..LinkOptions::default()
        },
        "import-memory",
    );
    layout_case(
        &["--import-table"],
        LinkOptions {
            import_table: true,
            ..LinkOptions::default()
        },
        "import-table",
    );
    layout_case(
        &["--export-table"],
        LinkOptions {
            export_table: true,
            ..LinkOptions::default()
        },
        "export-table",
    );
}

#[test]
fn memory_option_errors() {
    let dir = scratch("errors");
    let obj = compile(&dir, "e", "int x = 1; int f(void) { return x; }", &[]);
    let bytes = std::fs::read(&obj).expect("read");
    let inputs = [read_object("e.o", &bytes).expect("object")];
    let err = |opts: LinkOptions| {
        let opts = LinkOptions {
            exports: vec!["f".into()],
            ..opts
        };
        link(&inputs, &opts).map(|_| ()).unwrap_err().to_string()
    };
    assert_eq!(
        err(LinkOptions {
            initial_memory: Some(65537),
            ..LinkOptions::default()
        }),
        "invalid option: initial memory must be 65536-byte aligned"
    );
    assert_eq!(
        err(LinkOptions {
            initial_memory: Some(65536),
            ..LinkOptions::default()
        }),
        "invalid option: initial memory too small, 65552 bytes needed"
    );
    assert_eq!(
        err(LinkOptions {
            max_memory: Some(65536),
            ..LinkOptions::default()
        }),
        "invalid option: maximum memory too small, 131072 bytes needed"
    );
    assert_eq!(
        err(LinkOptions {
            max_memory: Some(1 << 33),
            ..LinkOptions::default()
        }),
        "invalid option: maximum memory too large, cannot be greater than 4294967296"
    );
    assert_eq!(
        err(LinkOptions {
            global_base: Some(1024),
            ..LinkOptions::default()
        }),
        "invalid option: --global-base cannot be less than stack size when --stack-first is used"
    );
    assert_eq!(
        err(LinkOptions {
            import_table: true,
            export_table: true,
            ..LinkOptions::default()
        }),
        "invalid option: --import-table and --export-table may not be used together"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `-g`: the DWARF sections of both links are equal byte for byte (relocations, tombstones
/// for the function garbage collection drops), and stripping options drop what wasm-ld drops.
#[test]
fn clang_debug_info_matches_wasm_ld22() {
    for opt in ["-O1", "-O0", "-O2"] {
        debug_case(opt);
    }
}

fn debug_case(opt: &str) {
    let dir = scratch(&format!("debug{opt}"));
    let a = compile(
        &dir,
        "a",
        r#"
static int counter;
int unused_a(int x) { return x + counter; }
__attribute__((export_name("run"))) int run(int x) {
  int s = 0;
  for (int i = 0; i < x; i++) s += i * counter;
  counter += s;
  return s;
}
"#,
        &["-g"],
    );
    let b = compile(
        &dir,
        "b",
        r#"
int unused_b(int x) { return x * 7; }
__attribute__((export_name("twice"))) int twice(int x) { return x * 2; }
"#,
        &["-g"],
    );
    let objs = [a, b];
    let sections = |bytes: &[u8]| -> Vec<(String, Vec<u8>)> {
        Parser::new(0)
            .parse_all(bytes)
            .filter_map(|p| match p.expect("parse") {
                Payload::CustomSection(c) if c.name().starts_with(".debug") => {
                    Some((c.name().to_string(), c.data().to_vec()))
                }
                _ => None,
            })
            .collect()
    };
    let reference = wasm_ld22(&dir, &objs, &["--no-entry"]);
    let ours = kiln(&objs, &LinkOptions::default());
    std::fs::write(dir.join("ours.wasm"), &ours).expect("write");
    let (rs, os) = (sections(&reference), sections(&ours));
    assert!(!rs.is_empty());
    assert_eq!(
        os.iter().map(|s| &s.0).collect::<Vec<_>>(),
        rs.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    for ((name, o), (_, r)) in os.iter().zip(&rs) {
        assert!(o == r, "{name} differs");
    }
    assert_eq!(summarize(&ours).exports, summarize(&reference).exports);
    let custom = |opts: LinkOptions| summarize(&kiln(&objs, &opts)).custom_names;
    let stripped = custom(LinkOptions {
        strip_debug: true,
        ..LinkOptions::default()
    });
    assert_eq!(stripped, ["name", "producers", "target_features"]);
    let all = custom(LinkOptions {
        strip_all: true,
        build_id: Some(BuildId::Sha1),
        ..LinkOptions::default()
    });
    assert_eq!(all, ["build_id"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `producers` merged from clang's, as wasm-ld; `build_id` sizes and determinism.
#[test]
fn clang_producers_and_build_id() {
    let dir = scratch("producers");
    let a = compile(&dir, "a", "int f(void) { return 1; }", &[]);
    let objs = [a];
    let reference = wasm_ld22(
        &dir,
        &objs,
        &["--no-entry", "--export=f", "--build-id=sha1"],
    );
    let opts = LinkOptions {
        exports: vec!["f".into()],
        build_id: Some(BuildId::Sha1),
        ..LinkOptions::default()
    };
    let ours = kiln(&objs, &opts);
    let custom = |bytes: &[u8], name: &str| -> Vec<u8> {
        Parser::new(0)
            .parse_all(bytes)
            .find_map(|p| match p.expect("parse") {
                Payload::CustomSection(c) if c.name() == name => Some(c.data().to_vec()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {name} section"))
    };
    assert_eq!(custom(&ours, "producers"), custom(&reference, "producers"));
    let id = custom(&ours, "build_id");
    assert_eq!(id.len(), 21);
    assert_eq!(id[0], 20);
    assert_eq!(ours, kiln(&objs, &opts), "deterministic");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Equal string literals in two objects are kept once and tail-merged as wasm-ld does; the
/// pointers to them, function pointers across objects and `-g` debug info agree; at `-O0`
/// nothing is merged, as in wasm-ld.
#[test]
fn clang_strings_merged_across_objects() {
    let dir = scratch("strings");
    let a = compile(
        &dir,
        "a",
        r#"
int twice(int);
const char *a_names[] = { "hello", "world", "lo", "shared string" };
int (*a_fp)(int) = twice;
__attribute__((export_name("get_a"))) const char *get_a(int i) { return a_names[i & 3]; }
"#,
        &["-g"],
    );
    let b = compile(
        &dir,
        "b",
        r#"
const char *b_names[] = { "shared string", "string", "world!", "hello" };
int twice(int x) { return x * 2; }
__attribute__((export_name("get_b"))) const char *get_b(int i) { return b_names[i & 3]; }
"#,
        &["-g"],
    );
    let objs = [a, b];
    let reference = wasm_ld22(&dir, &objs, &["--no-entry"]);
    let ours = kiln(&objs, &LinkOptions::default());
    let (r, o) = (summarize(&reference), summarize(&ours));
    assert_eq!(o.memory, r.memory, "memory image");
    assert_eq!(o.globals, r.globals);
    assert_eq!(o.exports, r.exports);
    assert_eq!(o.table_limits, r.table_limits);
    let debug = |bytes: &[u8]| -> Vec<(String, Vec<u8>)> {
        Parser::new(0)
            .parse_all(bytes)
            .filter_map(|p| match p.expect("parse") {
                Payload::CustomSection(c) if c.name().starts_with(".debug") => {
                    Some((c.name().to_string(), c.data().to_vec()))
                }
                _ => None,
            })
            .collect()
    };
    assert!(debug(&ours) == debug(&reference), "debug sections differ");
    // `-O0`: nothing merged, in data or in `.debug_str`, as wasm-ld.
    let reference = wasm_ld22(&dir, &objs, &["--no-entry", "-O0"]);
    let ours = kiln(
        &objs,
        &LinkOptions {
            merge_strings: false,
            ..LinkOptions::default()
        },
    );
    let (r, o) = (summarize(&reference), summarize(&ours));
    assert_eq!(o.memory, r.memory, "memory image at -O0");
    assert_eq!(o.globals, r.globals);
    assert!(
        debug(&ours) == debug(&reference),
        "debug sections differ at -O0"
    );
    assert_ne!(
        o.memory,
        summarize(&kiln(&objs, &LinkOptions::default())).memory
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `sym@GOT` in a non-PIC link: internal constant globals holding the address or the table
/// slot (`GOT.data.internal.*`, `GOT.func.internal.*`), as wasm-ld 22.
#[test]
fn got_entries_match_wasm_ld22() {
    let dir = scratch("got");
    let src = dir.join("got.s");
    std::fs::write(
        &src,
        r#"
.functype helper (i32) -> (i32)
.globl get_data
get_data:
  .functype get_data () -> (i32)
  global.get data_sym@GOT
  i32.load 0
  global.get helper@GOT
  i32.add
  global.get data_sym@GOT
  i32.add
  end_function
.globl helper
helper:
  .functype helper (i32) -> (i32)
  local.get 0
  end_function
.section .data.data_sym,"",@
.globl data_sym
data_sym: .int32 42
.size data_sym, 4
"#,
    )
    .expect("write");
    let obj = dir.join("got.o");
    let out = Command::new("llvm-mc-14")
        .args(["-triple=wasm32-wasi", "-filetype=obj"])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .expect("llvm-mc-14 must be installed for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objs = [obj];
    let reference = wasm_ld22(&dir, &objs, &["--no-entry", "--export=get_data"]);
    let ours = kiln(
        &objs,
        &LinkOptions {
            exports: vec!["get_data".into()],
            ..LinkOptions::default()
        },
    );
    let (r, o) = (summarize(&reference), summarize(&ours));
    assert_eq!(
        o,
        Summary {
            custom_names: o.custom_names.clone(),
            ..r
        }
    );
    let code = |bytes: &[u8]| {
        Parser::new(0)
            .parse_all(bytes)
            .find_map(|p| match p.expect("parse") {
                Payload::CodeSectionEntry(body) => Some(body.as_bytes().to_vec()),
                _ => None,
            })
            .expect("code")
    };
    assert_eq!(code(&ours), code(&reference));
    let wat = wasmprinter::print_bytes(&ours).expect("print");
    assert!(wat.contains("GOT.data.internal.data_sym"), "{wat}");
    assert!(wat.contains("GOT.func.internal.helper"), "{wat}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Index -> name pairs of one name subsection.
type NameList = Vec<(u32, String)>;

/// The function, global and data segment names.
fn names(bytes: &[u8]) -> (NameList, NameList, NameList) {
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for p in Parser::new(0).parse_all(bytes) {
        let Payload::CustomSection(c) = p.expect("parse") else {
            continue;
        };
        let wasmparser::KnownCustom::Name(reader) = c.as_known() else {
            continue;
        };
        for n in reader {
            let list = |m: wasmparser::NameMap<'_>| -> Vec<(u32, String)> {
                m.into_iter()
                    .map(|x| x.expect("name"))
                    .map(|x| (x.index, x.name.to_string()))
                    .collect()
            };
            match n.expect("subsection") {
                wasmparser::Name::Function(m) => out.0 = list(m),
                wasmparser::Name::Global(m) => out.1 = list(m),
                wasmparser::Name::Data(m) => out.2 = list(m),
                _ => {}
            }
        }
    }
    out
}

/// A weak undefined function: a trapping stub `undefined_weak:NAME` without a table slot;
/// the name section (functions, globals, data segments) as wasm-ld 22 writes it.
#[test]
fn clang_weak_undefined_and_names_match_wasm_ld22() {
    let dir = scratch("weak");
    let a = compile(
        &dir,
        "a",
        r#"
__attribute__((weak)) int maybe(int);
static int counter = 3;
const char *label = "label";
int zeroes[4];
__attribute__((export_name("run"))) int run(int x) {
  counter += x;
  zeroes[x & 3] = counter;
  if (maybe) return maybe(x) + label[0];
  return counter + zeroes[0];
}
__attribute__((export_name("call_maybe"))) int call_maybe(int x) { return maybe(x); }
"#,
        &[],
    );
    let objs = [a];
    let reference = wasm_ld22(&dir, &objs, &["--no-entry"]);
    let ours = kiln(&objs, &LinkOptions::default());
    let (r, o) = (summarize(&reference), summarize(&ours));
    assert_eq!(o.memory, r.memory);
    assert_eq!(o.globals, r.globals);
    assert_eq!(o.exports, r.exports);
    assert_eq!(o.table_limits, r.table_limits);
    assert_eq!(o.first_body, r.first_body);
    assert_eq!(names(&ours), names(&reference));
    let _ = std::fs::remove_dir_all(&dir);
}

/// C++ `thread_local` with a dynamic initializer (a TLS guard and `_ZTH`), single-threaded:
/// `__tls_base` and the TLS offsets as wasm-ld 22.
#[test]
fn clang_cxx_thread_local_matches_wasm_ld22() {
    let dir = scratch("cxx-tls");
    let src = dir.join("t.cpp");
    std::fs::write(
        &src,
        r#"
int init_value(int);
struct Counter { int n; Counter() : n(init_value(3)) {} };
thread_local Counter tc;
thread_local int plain = 4;
int global_data = 9;
extern "C" __attribute__((export_name("bump"))) int bump(int x) {
  tc.n += x; plain++; return tc.n + plain + global_data;
}
int init_value(int v) { return v * 10; }
"#,
    )
    .expect("write");
    let obj = dir.join("t.o");
    let out = Command::new("clang++")
        .args([
            "--target=wasm32-wasi",
            "-O1",
            "-matomics",
            "-mbulk-memory",
            "-ftls-model=local-exec",
            "-fno-exceptions",
            "-c",
        ])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .expect("clang++ must be installed for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objs = [obj];
    let reference = wasm_ld22(&dir, &objs, &["--no-entry"]);
    let ours = kiln(
        &objs,
        &LinkOptions {
            features: features(),
            ..LinkOptions::default()
        },
    );
    let (r, o) = (summarize(&reference), summarize(&ours));
    assert_eq!(o.memory, r.memory);
    assert_eq!(o.globals, r.globals);
    assert_eq!(o.exports, r.exports);
    let bodies = |bytes: &[u8]| -> Vec<Vec<u8>> {
        Parser::new(0)
            .parse_all(bytes)
            .filter_map(|p| match p.expect("parse") {
                Payload::CodeSectionEntry(b) => Some(b.as_bytes().to_vec()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(bodies(&ours), bodies(&reference));
    assert_eq!(names(&ours), names(&reference));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every 8th member of Debian's wasi-libc `libc.a` and of libc++/libc++abi (optimized code
/// with DWARF), linked alone with `--no-gc-sections --allow-undefined --no-entry`: the type,
/// table, memory, code, data and `.debug_*` sections equal wasm-ld 22's byte for byte. Members
/// that reference undefined data (which cannot be imported) are skipped, as wasm-ld fails
/// on them too.
#[test]
fn wasi_libc_members_match_wasm_ld22() {
    let dir = scratch("libc");
    let mut compared = 0;
    for lib in ["libc.a", "libc++.a", "libc++abi.a"] {
        let path = format!("/usr/lib/wasm32-wasi/{lib}");
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{path} (Debian's wasi-libc) must be installed: {e}"));
        let archive = crate::object::read_archive(&path, &bytes).expect("archive");
        for member in archive.members.iter().step_by(8) {
            let obj = read_object(member.name, member.data).expect("member");
            let opts = LinkOptions {
                gc: false,
                import_undefined: true,
                features: Features {
                    exception_handling: true,
                    ..features()
                },
                ..LinkOptions::default()
            };
            let Ok(ours) = link(std::slice::from_ref(&obj), &opts) else {
                continue;
            };
            let file = dir.join("m.o");
            std::fs::write(&file, member.data).expect("write member");
            let reference = wasm_ld22(
                &dir,
                &[file],
                &["--no-gc-sections", "--allow-undefined", "--no-entry"],
            );
            let pick = |bytes: &[u8]| -> Vec<(u8, String, Vec<u8>)> {
                Parser::new(0)
                    .parse_all(bytes)
                    .filter_map(|p| {
                        let p = p.expect("parse");
                        let (id, range) = p.as_section()?;
                        let data = bytes
                            .get(range.start as usize..range.end as usize)?
                            .to_vec();
                        match p {
                            Payload::CustomSection(c) if c.name().starts_with(".debug") => {
                                Some((0, c.name().to_string(), c.data().to_vec()))
                            }
                            _ if matches!(id, 1 | 4 | 5 | 6 | 10 | 11) => {
                                Some((id, String::new(), data))
                            }
                            _ => None,
                        }
                    })
                    .collect()
            };
            assert!(
                pick(&ours) == pick(&reference),
                "{lib}({}) differs from wasm-ld 22",
                member.name
            );
            compared += 1;
        }
    }
    assert!(compared > 60, "only {compared} members compared");
    let _ = std::fs::remove_dir_all(&dir);
}
