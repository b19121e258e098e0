//! The functions and data the linker synthesizes, on clang objects: every module kiln links is
//! compared with the one LLD 22 (`python3 -m ziglang wasm-ld`) links from the same inputs, by
//! running both under wasmtime (WASI commands with wasmtime-wasi) and by the
//! printed bodies of the synthesized functions (insta snapshots `snapshots/synth@NAME.snap`).
//! The C sources are `tests/c/*.c` and `tests/c/synth/*.c`, compiled by clang 14 against
//! Debian's wasi-libc. Every tool these tests need must be installed: they fail, never skip,
//! without it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "common/wasi.rs"]
mod wasi;

const SYSROOT_LIB: &str = "/usr/lib/wasm32-wasi";
const BUILTINS: &str = "/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a";

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {shown} (is it installed?): {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(what: &str, out: Output) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("synth_{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles `tests/c/SRC` (a path under `tests/c`) into `dir`, with `flags`.
fn compile(dir: &Path, src: &str, flags: &[&str]) -> String {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(src);
    let stem = Path::new(src).file_stem().unwrap().to_string_lossy();
    let out = dir.join(format!("{stem}.o"));
    ok(
        "clang",
        run(Command::new(if src.ends_with(".cpp") {
            "clang++"
        } else {
            "clang"
        })
        .args(["--target=wasm32-wasi", "-O1", "-c"])
        .args(flags)
        .arg(&source)
        .arg("-o")
        .arg(&out)),
    );
    out.display().to_string()
}

/// Links `args` (wasm-ld's command line, without `-o`) with kiln and with LLD 22 into
/// `dir/NAME.kiln.wasm` and `dir/NAME.lld.wasm`.
fn link_both(dir: &Path, name: &str, args: &[&str]) -> (PathBuf, PathBuf) {
    let kiln_out = dir.join(format!("{name}.kiln.wasm"));
    let lld_out = dir.join(format!("{name}.lld.wasm"));
    ok(
        "kiln link",
        run(Command::new(env!("CARGO_BIN_EXE_kiln"))
            .arg("link")
            .args(args)
            .arg("-o")
            .arg(&kiln_out)),
    );
    ok(
        "LLD 22",
        run(Command::new("python3")
            .args(["-m", "ziglang", "wasm-ld"])
            .args(args)
            .arg("-o")
            .arg(&lld_out)),
    );
    (kiln_out, lld_out)
}

/// The module's function names (the `name` section), by function index.
fn func_names(wasm: &[u8]) -> Vec<(u32, String)> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::CustomSection(c) = payload.unwrap()
            && let wasmparser::KnownCustom::Name(reader) = c.as_known()
        {
            for n in reader {
                if let wasmparser::Name::Function(map) = n.unwrap() {
                    for naming in map {
                        let naming = naming.unwrap();
                        names.push((naming.index, naming.name.to_string()));
                    }
                }
            }
        }
    }
    names
}

/// The printed WAT of the function named `name` (its whole `(func ...)` form).
fn func_wat(wasm: &[u8], name: &str) -> String {
    let wat = wasmprinter::print_bytes(wasm).expect("printable module");
    let head = format!("(func ${name} ");
    let start = wat
        .find(&head)
        .unwrap_or_else(|| panic!("no function `{name}` in the module"));
    let rest = &wat[start..];
    let end = rest.find("\n  )\n").map_or(rest.len(), |e| e + 4);
    // Without the function's index, which other functions before it decide.
    let body = &rest[..end];
    match (body.find(" (;"), body.find(";) ")) {
        (Some(a), Some(b)) if a < b && !body[..a].contains('\n') => {
            format!("{}{}", &body[..a], &body[b + 2..])
        }
        _ => body.to_string(),
    }
}

/// The exports as `name kind index-name` lines.
fn exports(wasm: &[u8]) -> Vec<String> {
    let names = func_names(wasm);
    let name_of = |i: u32| {
        names
            .iter()
            .find(|n| n.0 == i)
            .map_or(format!("#{i}"), |n| n.1.clone())
    };
    let mut out = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let wasmparser::Payload::ExportSection(r) = payload.unwrap() {
            for e in r {
                let e = e.unwrap();
                let target = match e.kind {
                    wasmparser::ExternalKind::Func => name_of(e.index),
                    _ => format!("{:?} {}", e.kind, e.index),
                };
                out.push(format!("{} -> {target}", e.name));
            }
        }
    }
    out
}

fn snapshot(name: &str, body: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(format!("synth@{name}"), body));
}

fn libc_command(crt: &str) -> Vec<&str> {
    vec!["-m", "wasm32", "-L", SYSROOT_LIB, crt]
}

/// Debian's crt1-command.o `_start` calls neither the constructors nor the destructors:
/// the command-export wrapper of `_start` does, so constructors run in priority order and
/// stdout (flushed by `__wasm_call_dtors`) is complete, as with LLD.
#[test]
fn command_export_wrappers_run_constructors_and_flush_stdout() {
    let dir = scratch("ctors");
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    for src in [
        "ctors.c",
        "heap.c",
        "qsort.c",
        "weak_main.c",
        "bss.c",
        "tls_main.c",
        "shapes.cpp",
    ] {
        let flags: &[&str] = match src {
            "tls_main.c" => &["-matomics", "-mbulk-memory", "-ftls-model=local-exec"],
            "shapes.cpp" => &["-fno-exceptions"],
            _ => &[],
        };
        let mut objs = vec![compile(&dir, src, flags)];
        match src {
            "weak_main.c" => objs.push(compile(&dir, "weak_other.c", &[])),
            // `_Thread_local` defined in one object, used from another (single-threaded).
            "tls_main.c" => objs.push(compile(&dir, "tls_other.c", flags)),
            _ => {}
        }
        let mut args = libc_command(&crt);
        args.extend(objs.iter().map(String::as_str));
        if src.ends_with(".cpp") {
            args.extend(["-lc++", "-lc++abi"]);
        }
        args.extend(["-lc", BUILTINS]);
        let stem = src.split('.').next().unwrap_or(src);
        let (kiln, lld) = link_both(&dir, stem, &args);
        let ours = wasi::run_file(&kiln);
        let theirs = wasi::run_file(&lld);
        assert!(!theirs.is_empty(), "{src}: LLD's program printed nothing");
        assert_eq!(ours, theirs, "{src}: output differs from LLD's");
        let wasm = fs::read(&kiln).unwrap();
        let lld_wasm = fs::read(&lld).unwrap();
        assert_eq!(exports(&wasm), exports(&lld_wasm), "{src}: exports");
        assert_eq!(
            func_wat(&wasm, "_start.command_export"),
            func_wat(&lld_wasm, "_start.command_export"),
            "{src}: the wrapper"
        );
    }
    let ctors = wasi::run_file(&dir.join("ctors.kiln.wasm"));
    assert_eq!(
        ctors,
        "ctor order: 1 2 3 9\natexit 2\natexit 1\ndestructor\n"
    );
    // C++: static constructors before main, static destructors after it.
    let shapes = wasi::run_file(&dir.join("shapes.kiln.wasm"));
    assert!(shapes.starts_with("hello, world:"), "{shapes}");
    assert!(
        shapes.contains("registry destroyed with 3 keys"),
        "{shapes}"
    );
    let tls = wasi::run_file(&dir.join("tls_main.kiln.wasm"));
    assert!(tls.starts_with("tls counter 15 buf xy"), "{tls}");
    let read = |name: &str| fs::read(dir.join(name)).unwrap();
    let (ours, theirs) = (read("ctors.kiln.wasm"), read("ctors.lld.wasm"));
    let call_ctors = func_wat(&ours, "__wasm_call_ctors");
    assert_eq!(call_ctors, func_wat(&theirs, "__wasm_call_ctors"));
    snapshot("call_ctors", &call_ctors);
    // A weak undefined function that is only compared with null has no stub (as LLD).
    let names = |w: &[u8]| func_names(w).into_iter().map(|n| n.1).collect::<Vec<_>>();
    let weak = read("weak_main.kiln.wasm");
    assert!(
        !names(&weak)
            .iter()
            .any(|n| n.starts_with("undefined_weak:")),
        "no stub for an address-only weak function"
    );
}

/// Every exported function gets a wrapper (under its `export_name` if it has one), with its
/// parameters and results; the wrappers come after the other exports.
#[test]
fn command_export_wrappers_of_every_export() {
    let dir = scratch("exports");
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    let obj = compile(&dir, "synth/exports.c", &[]);
    let mut args = libc_command(&crt);
    args.extend([
        obj.as_str(),
        "-lc",
        BUILTINS,
        "--export=wide",
        "--export=__heap_base",
    ]);
    let (kiln, lld) = link_both(&dir, "exports", &args);
    let wasm = fs::read(&kiln).unwrap();
    let lld_wasm = fs::read(&lld).unwrap();
    let ours = exports(&wasm);
    assert_eq!(
        ours,
        [
            "memory -> Memory 0",
            "__heap_base -> Global 1",
            "_start -> _start.command_export",
            "add_base -> add.command_export",
            "wide -> wide.command_export",
        ]
    );
    assert_eq!(ours, exports(&lld_wasm));
    for f in ["add", "wide"] {
        let name = format!("{f}.command_export");
        assert_eq!(func_wat(&wasm, &name), func_wat(&lld_wasm, &name), "{name}");
    }
    snapshot("command_export", &func_wat(&wasm, "add.command_export"));
    assert_eq!(wasi::run_file(&kiln), "base 40\n");

    // Called from outside, an export runs the constructor first.
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, &wasm).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    let mut linker = wasmtime::Linker::new(&engine);
    linker
        .define_unknown_imports_as_traps(&module)
        .expect("trapping imports");
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let add = inst
        .get_typed_func::<(i32, i32), i32>(&mut store, "add_base")
        .unwrap();
    assert_eq!(add.call(&mut store, (1, 2)).unwrap(), 43);
    let wide = inst.get_typed_func::<(), i64>(&mut store, "wide").unwrap();
    assert_eq!(wide.call(&mut store, ()).unwrap(), 40i64 << 33);
}

const THREAD_EXPORTS: [&str; 14] = [
    "get_counter",
    "set_counter",
    "get_zeroed",
    "get_other",
    "bump_shared",
    "get_data",
    "big_at",
    "big_set",
    "tls_size",
    "tls_align",
    "tls_base",
    "tag_at",
    "get_wide",
    "__wasm_init_tls",
];

/// Links `tests/c/synth/threads_{a,b}.c` with `--shared-memory` (and `extra`) by kiln and
/// by LLD 22.
fn link_threads(dir: &Path, name: &str, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let flags = ["-matomics", "-mbulk-memory", "-ftls-model=local-exec"];
    let a = compile(dir, "synth/threads_a.c", &flags);
    let b = compile(dir, "synth/threads_b.c", &flags);
    let exports: Vec<String> = THREAD_EXPORTS
        .iter()
        .map(|e| format!("--export={e}"))
        .collect();
    let mut args = vec!["--no-entry", "--shared-memory", a.as_str(), b.as_str()];
    args.extend(extra);
    args.extend(exports.iter().map(String::as_str));
    let (kiln, lld) = link_both(dir, name, &args);
    (fs::read(kiln).unwrap(), fs::read(lld).unwrap())
}

/// Instantiates `wasm` (importing `env.memory`) twice on one shared memory, as two threads
/// would, and returns what each observes, in order.
fn run_two_threads(wasm: &[u8]) -> Vec<i64> {
    let mut config = wasmtime::Config::new();
    config.wasm_threads(true).shared_memory(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, wasm).expect("a valid module");
    let ty = module
        .imports()
        .find_map(|i| i.ty().memory().cloned())
        .expect("an imported memory");
    assert!(ty.is_shared(), "the memory is shared");
    let memory = wasmtime::SharedMemory::new(&engine, ty).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    let mut linker = wasmtime::Linker::new(&engine);
    linker
        .define(&store, "env", "memory", memory.clone())
        .unwrap();
    let mut seen = Vec::new();
    let first = linker.instantiate(&mut store, &module).unwrap();
    let call =
        |store: &mut wasmtime::Store<()>, inst: &wasmtime::Instance, f: &str, args: &[i32]| {
            let func = inst
                .get_func(&mut *store, f)
                .unwrap_or_else(|| panic!("no export {f}"));
            let params: Vec<wasmtime::Val> = args.iter().map(|&a| wasmtime::Val::I32(a)).collect();
            let mut results = vec![wasmtime::Val::I32(0); func.ty(&*store).results().len()];
            func.call(&mut *store, &params, &mut results).unwrap();
            match results.first() {
                Some(wasmtime::Val::I32(v)) => i64::from(*v),
                Some(wasmtime::Val::I64(v)) => *v,
                _ => 0,
            }
        };
    // The first instance's start function initialized memory and points `__tls_base` at
    // the static TLS segment.
    for (f, args) in [
        ("get_data", &[][..]),
        ("tls_size", &[]),
        ("tls_align", &[]),
        ("get_counter", &[]),
        ("get_other", &[]),
        ("get_wide", &[]),
        ("tag_at", &[1]),
        ("set_counter", &[11]),
        ("get_counter", &[]),
        ("bump_shared", &[]),
        ("big_set", &[99_999, 7]),
    ] {
        seen.push(call(&mut store, &first, f, args));
    }
    let static_tls = call(&mut store, &first, "tls_base", &[]);
    assert_ne!(
        static_tls, 0,
        "the first thread uses the static TLS segment"
    );
    // The second must not initialize memory again: the counter and bss survive.
    let second = linker.instantiate(&mut store, &module).unwrap();
    seen.push(call(&mut store, &second, "tls_base", &[]));
    seen.push(call(&mut store, &second, "bump_shared", &[]));
    seen.push(call(&mut store, &second, "big_at", &[99_999]));
    // Its own TLS block, at a 16-aligned address past the static data.
    let block = 180_000;
    call(&mut store, &second, "__wasm_init_tls", &[block]);
    for (f, args) in [
        ("tls_base", &[][..]),
        ("get_counter", &[]),
        ("get_other", &[]),
        ("get_wide", &[]),
        ("tag_at", &[1]),
        ("set_counter", &[3]),
        ("get_zeroed", &[]),
    ] {
        seen.push(call(&mut store, &second, f, args));
    }
    // The first thread's values are its own.
    seen.push(call(&mut store, &first, "get_counter", &[]));
    seen.push(call(&mut store, &first, "get_zeroed", &[]));
    seen.push(call(&mut store, &first, "tls_base", &[]) - static_tls);
    seen
}

/// Shared memory and TLS: the module validates with a shared memory and passive segments;
/// two instances on one memory initialize it once (`__wasm_init_memory`'s flag), each gets
/// its own TLS block (`__wasm_init_tls`), and LLD 22's output behaves the same. The
/// synthesized bodies equal LLD's.
#[test]
fn shared_memory_two_threads() {
    let dir = scratch("threads");
    let (ours, theirs) = link_threads(
        &dir,
        "threads",
        &["--import-memory", "--max-memory=1048576"],
    );
    let expected = vec![
        123,
        24,
        16,
        5,
        77,
        9,
        i64::from(b'b'),
        0,
        11,
        1,
        0, // first thread
        0,
        2,
        7, // second, before its TLS
        180_000,
        5,
        77,
        9,
        i64::from(b'b'),
        0,
        3, // second, own TLS
        11,
        11,
        0, // first again
    ];
    let got = run_two_threads(&ours);
    assert_eq!(got, expected, "kiln's module");
    assert_eq!(
        run_two_threads(&theirs),
        got,
        "LLD's module behaves the same"
    );
    for f in ["__wasm_init_memory", "__wasm_init_tls"] {
        assert_eq!(func_wat(&ours, f), func_wat(&theirs, f), "{f}");
    }
    snapshot("init_memory_shared", &func_wat(&ours, "__wasm_init_memory"));
    snapshot("init_tls", &func_wat(&ours, "__wasm_init_tls"));
    assert_eq!(exports(&ours), exports(&theirs));
    let head = |w: &[u8]| {
        let wat = wasmprinter::print_bytes(w).unwrap();
        wat.lines()
            .filter(|l| {
                l.contains("(import ")
                    || l.contains("(memory ")
                    || l.contains("(global ")
                    || l.contains("(start ")
                    || l.starts_with("  (data ")
            })
            .map(|l| l.split(" \"").take(3).collect::<Vec<_>>().join(" \""))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        head(&ours),
        head(&theirs),
        "imports, memory, globals, start, segments"
    );

    // An exported (defined) shared memory, as LLD.
    let (ours, theirs) = link_threads(&dir, "exported", &[]);
    assert_eq!(exports(&ours), exports(&theirs));
    assert_eq!(head(&ours), head(&theirs), "exported memory");
    let mut config = wasmtime::Config::new();
    config.wasm_threads(true).shared_memory(true);
    let engine = wasmtime::Engine::new(&config).unwrap();
    wasmtime::Module::new(&engine, &ours).expect("valid with a shared memory");

    // Without shared memory there is no `__wasm_init_tls`, `__tls_size` or `__tls_align`:
    // both linkers report the reference (threads_a.c reads the size and alignment).
    let flags = ["-matomics", "-mbulk-memory", "-ftls-model=local-exec"];
    let a = compile(&dir, "synth/threads_a.c", &flags);
    let b = compile(&dir, "synth/threads_b.c", &flags);
    let single = |cmd: &mut Command| {
        let out = run(cmd
            .args(["--no-entry", "--export=tls_size", &a, &b, "-o"])
            .arg(dir.join("single.wasm")));
        assert!(!out.status.success(), "{cmd:?} succeeded");
        text(&out.stderr)
    };
    let ours = single(Command::new(env!("CARGO_BIN_EXE_kiln")).arg("link"));
    assert!(ours.contains("undefined symbol `__tls_size`"), "{ours}");
    let theirs = single(Command::new("python3").args(["-m", "ziglang", "wasm-ld"]));
    assert!(theirs.contains("undefined symbol: __tls_size"), "{theirs}");
}

/// A weak undefined function that is called gets a trapping stub `undefined_weak:NAME`.
#[test]
fn weak_undefined_stub_when_called() {
    let dir = scratch("weak_stub");
    let src = dir.join("weak_call.c");
    fs::write(
        &src,
        "extern void maybe(int) __attribute__((weak));\n\
         int call_maybe(int x) { if (x) maybe(x); return x; }\n",
    )
    .unwrap();
    let obj = dir.join("weak_call.o");
    ok(
        "clang",
        run(Command::new("clang")
            .args(["--target=wasm32-wasi", "-O1", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&obj)),
    );
    let obj = obj.display().to_string();
    let (kiln, lld) = link_both(&dir, "weak", &["--no-entry", "--export=call_maybe", &obj]);
    let (ours, theirs) = (fs::read(kiln).unwrap(), fs::read(lld).unwrap());
    let stub = func_wat(&ours, "undefined_weak:maybe");
    assert_eq!(stub, func_wat(&theirs, "undefined_weak:maybe"));
    snapshot("weak_stub", &stub);
}

/// The three kinds of tag-name function (dense: one bounds check; br_table; compare chain)
/// for fixed enums, and the names they find.
#[test]
fn tag_name_functions() {
    let src = "enum %Dense: u8 { A, B, C }
enum %Table: i32 { One = 1, Three = 3, Four = 4, Seven = 7 }
enum %Sparse: u16 { Ok = 200, NotFound = 404, Error = 500 }

func @dense(i32) -> ptr, i32 export {
block0(v0: i32):
    v1, v2 = tag_name %Dense(v0)
    return v1, v2
}

func @table(i32) -> ptr, i32 export {
block0(v0: i32):
    v1, v2 = tag_name %Table(v0)
    return v1, v2
}

func @sparse(i32) -> ptr, i32 export {
block0(v0: i32):
    v1, v2 = tag_name %Sparse(v0)
    return v1, v2
}
";
    let module = kiln::ir::parse(src)
        .map_err(|d| d.render("tags.ir"))
        .unwrap();
    kiln::verify::verify(&module)
        .map_err(|d| d.render("tags.ir"))
        .unwrap();
    let object = kiln::lower::lower_module(&module, &kiln::lower::LowerOptions::default()).unwrap();
    let wasm = kiln::link::link(&[object], &kiln::link::LinkOptions::default()).unwrap();
    for (kind, e) in [
        ("dense", "Dense"),
        ("br_table", "Table"),
        ("sparse", "Sparse"),
    ] {
        let name = format!("__kiln_tag_name.{e}");
        snapshot(&format!("tag_name_{kind}"), &func_wat(&wasm, &name));
    }
    let wat = func_wat(&wasm, "__kiln_tag_name.Table");
    assert!(wat.contains("br_table"), "{wat}");
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, &wasm).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    let inst = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
    let memory = inst.get_memory(&mut store, "memory").unwrap();
    let mut name_of = |f: &str, tag: i32| -> Option<String> {
        let func = inst
            .get_typed_func::<i32, (i32, i32)>(&mut store, f)
            .unwrap();
        let (p, n) = func.call(&mut store, tag).ok()?;
        let bytes = &memory.data(&store)[p as usize..(p + n) as usize];
        Some(String::from_utf8(bytes.to_vec()).unwrap())
    };
    assert_eq!(name_of("dense", 2).as_deref(), Some("C"));
    assert_eq!(name_of("dense", 3), None, "no variant 3: a trap");
    assert_eq!(name_of("table", 3).as_deref(), Some("Three"));
    assert_eq!(name_of("table", 7).as_deref(), Some("Seven"));
    assert_eq!(name_of("table", 2), None);
    assert_eq!(name_of("table", 8), None);
    assert_eq!(name_of("sparse", 404).as_deref(), Some("NotFound"));
    assert_eq!(name_of("sparse", 201), None);
}

/// `--shared-memory` with an object built without atomics and bulk memory: wasm-ld's errors.
#[test]
fn shared_memory_needs_atomics_and_bulk_memory() {
    let dir = scratch("shared_errors");
    let src = dir.join("plain.c");
    fs::write(&src, "int x; int f(void) { return x; }\n").unwrap();
    let obj = dir.join("plain.o");
    ok(
        "clang",
        run(Command::new("clang")
            .args(["--target=wasm32", "-mno-bulk-memory", "-O1", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&obj)),
    );
    let out = run(Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args([
            "link",
            "--no-entry",
            "--shared-memory",
            "--features=sign-ext",
        ])
        .arg(&obj)
        .arg("-o")
        .arg(dir.join("x.wasm")));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("'atomics' feature must be used in order to use shared memory"),
        "{err}"
    );
    assert!(!dir.join("x.wasm").exists(), "a failed link writes nothing");
}

/// libc's `__wasm_call_dtors` must be a `() -> ()` function when command-export wrappers
/// would call it: wasm-ld's errors.
#[test]
fn call_dtors_must_be_a_nullary_function() {
    let dir = scratch("dtors");
    for (name, src, message) in [
        (
            "data",
            "int __wasm_call_dtors = 1; int main(void) { return __wasm_call_dtors; }\n",
            "__wasm_call_dtors must be a function",
        ),
        (
            "typed",
            "int __wasm_call_dtors(int x) { return x; }\n\
             int main(void) { return __wasm_call_dtors(0); }\n",
            "__wasm_call_dtors must have no argument or return values",
        ),
    ] {
        let c = dir.join(format!("{name}.c"));
        // crt1-command.o calls `exit`: no libc here.
        fs::write(&c, format!("void exit(int code) {{ (void)code; }}\n{src}")).unwrap();
        let obj = dir.join(format!("{name}.o"));
        ok(
            "clang",
            run(Command::new("clang")
                .args(["--target=wasm32-wasi", "-O1", "-c"])
                .arg(&c)
                .arg("-o")
                .arg(&obj)),
        );
        let crt = format!("{SYSROOT_LIB}/crt1-command.o");
        let link = |cmd: &mut Command| {
            let out = run(cmd
                .args(["-m", "wasm32", &crt])
                .arg(&obj)
                .arg("-o")
                .arg(dir.join(format!("{name}.wasm"))));
            assert!(!out.status.success(), "{name}: {cmd:?} succeeded");
            text(&out.stderr)
        };
        let ours = link(Command::new(env!("CARGO_BIN_EXE_kiln")).arg("link"));
        assert!(ours.contains(message), "{name}: {ours}");
        assert!(
            ours.contains(&format!("{name}.o")),
            "{name}: names the file: {ours}"
        );
        let theirs = link(Command::new("python3").args(["-m", "ziglang", "wasm-ld"]));
        assert!(theirs.contains(message), "{name}: LLD: {theirs}");
    }
}
