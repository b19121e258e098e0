//! The functions and data the linker synthesizes, on clang objects: every module kiln links is
//! compared with the one LLD 22 (`python3 -m ziglang wasm-ld`) links from the same inputs, by
//! running both (WASI commands under node's WASI, other modules under wasmtime) and by the
//! printed bodies of the synthesized functions (insta snapshots `snapshots/synth@NAME.snap`).
//! The C sources are `tests/c/*.c` and `tests/c/synth/*.c`, compiled by clang 14 against
//! Debian's wasi-libc. Every tool these tests need must be installed: they fail, never skip,
//! without it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
        run(Command::new("clang")
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

/// Runs a WASI command under node; returns its stdout.
fn run_wasi(wasm: &Path) -> String {
    let script = "import { WASI } from 'node:wasi'; import fs from 'node:fs';\n\
        const wasi = new WASI({ version: 'preview1', args: [], env: {} });\n\
        const m = await WebAssembly.compile(fs.readFileSync(process.argv[2]));\n\
        wasi.start(await WebAssembly.instantiate(m, wasi.getImportObject()));\n";
    let runner = wasm.with_extension("mjs");
    fs::write(&runner, script).unwrap();
    let out = run(Command::new("node")
        .arg("--no-warnings")
        .arg(&runner)
        .arg(wasm));
    text(&ok("node", out).stdout)
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
    for src in ["ctors.c", "heap.c", "qsort.c", "weak_main.c"] {
        let mut objs = vec![compile(&dir, src, &[])];
        if src == "weak_main.c" {
            objs.push(compile(&dir, "weak_other.c", &[]));
        }
        let mut args = libc_command(&crt);
        args.extend(objs.iter().map(String::as_str));
        args.extend(["-lc", BUILTINS]);
        let stem = src.trim_end_matches(".c");
        let (kiln, lld) = link_both(&dir, stem, &args);
        let ours = run_wasi(&kiln);
        let theirs = run_wasi(&lld);
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
    let ctors = run_wasi(&dir.join("ctors.kiln.wasm"));
    assert_eq!(
        ctors,
        "ctor order: 1 2 3 9\natexit 2\natexit 1\ndestructor\n"
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
    assert_eq!(run_wasi(&kiln), "base 40\n");

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
