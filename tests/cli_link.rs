//! `kiln link` (wasm-ld's command line), `kiln build FILE.ir INPUTS...`, the binary invoked
//! as `wasm-ld`, and `kiln dump` on objects, as a user runs them. C inputs are compiled from
//! `tests/driver/*.c` by clang 14 against Debian's wasi-libc and run under wasmtime with WASI;
//! every tool these tests need must be installed: they fail, never skip, without it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "common/wasi.rs"]
mod wasi;

const SYSROOT_LIB: &str = "/usr/lib/wasm32-wasi";
const BUILTINS: &str = "/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a";

fn kiln_exe() -> &'static str {
    env!("CARGO_BIN_EXE_kiln")
}

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {shown} (is it installed?): {e}"))
}

fn kiln(args: &[&str]) -> Output {
    run(Command::new(kiln_exe()).args(args))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "failed ({:?}):\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli_link_{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn source(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/driver")
        .join(name)
}

/// Compiles `tests/driver/NAME.c` into `dir/NAME.o`.
fn compile(dir: &Path, name: &str) -> String {
    let out = dir.join(format!("{name}.o"));
    ok(&run(Command::new("clang")
        .args(["--target=wasm32-wasi", "-O1", "-c"])
        .arg(source(&format!("{name}.c")))
        .arg("-o")
        .arg(&out)));
    out.display().to_string()
}

fn libc_args(crt: &str) -> Vec<&str> {
    vec!["-m", "wasm32", "-L", SYSROOT_LIB, crt]
}

#[test]
fn links_two_clang_objects_and_libc_and_runs() {
    let dir = scratch("two");
    let main = compile(&dir, "main");
    let twice = compile(&dir, "twice");
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    let out = dir.join("hello.wasm");
    let mut args = libc_args(&crt);
    let out_s = out.display().to_string();
    args.extend([main.as_str(), twice.as_str(), "-lc", BUILTINS, "-o", &out_s]);
    ok(&kiln(&[&["link"], &args[..]].concat()));
    assert_eq!(wasi::run_file(&out), "twice(21) = 42\n");
    // Executable, as wasm-ld's output (mode 0777 minus the umask).
    use std::os::unix::fs::PermissionsExt;
    assert_ne!(fs::metadata(&out).unwrap().permissions().mode() & 0o100, 0);
}

/// `kiln link` starts itself again with glibc's allocator tuned unless `GLIBC_TUNABLES` is
/// set: both ways give the same module (and it runs).
#[test]
fn allocator_tuning_does_not_change_the_output() {
    let dir = scratch("tunables");
    let main = compile(&dir, "main");
    let twice = compile(&dir, "twice");
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    let mut modules = Vec::new();
    for tunables in [None, Some(""), Some("glibc.malloc.hugetlb=0")] {
        let out = dir.join(format!("hello{}.wasm", modules.len()));
        let out_s = out.display().to_string();
        let mut args = vec!["link"];
        args.extend(libc_args(&crt));
        args.extend([main.as_str(), twice.as_str(), "-lc", BUILTINS, "-o", &out_s]);
        let mut cmd = Command::new(kiln_exe());
        cmd.args(&args);
        match tunables {
            None => cmd.env_remove("GLIBC_TUNABLES"),
            Some(t) => cmd.env("GLIBC_TUNABLES", t),
        };
        ok(&run(&mut cmd));
        assert_eq!(wasi::run_file(&out), "twice(21) = 42\n");
        modules.push(fs::read(&out).unwrap());
    }
    assert!(modules.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn response_file_carries_the_command_line() {
    let dir = scratch("rsp");
    let main = compile(&dir, "main");
    let twice = compile(&dir, "twice");
    let out = dir.join("out dir");
    fs::create_dir_all(&out).unwrap();
    let wasm = out.join("hello.wasm");
    let inner = dir.join("inner.rsp");
    fs::write(&inner, format!("'{twice}' -lc\n{BUILTINS}\n")).unwrap();
    let outer = dir.join("outer.rsp");
    fs::write(
        &outer,
        format!(
            "-m wasm32 -L{SYSROOT_LIB} {SYSROOT_LIB}/crt1-command.o \"{main}\" @{} -o \"{}\"",
            inner.display(),
            wasm.display()
        ),
    )
    .unwrap();
    ok(&kiln(&["link", &format!("@{}", outer.display())]));
    assert_eq!(wasi::run_file(&wasm), "twice(21) = 42\n");
    let missing = kiln(&["link", &format!("@{}", dir.join("nope.rsp").display())]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("kiln link: error: cannot read response file"));
}

#[test]
fn ir_file_links_with_a_c_object() {
    let dir = scratch("ir");
    let main = compile(&dir, "main");
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    let out = dir.join("mixed.wasm");
    let ir = source("twice.ir").display().to_string();
    let out_s = out.display().to_string();
    let mut args = vec!["link"];
    args.extend(libc_args(&crt));
    args.extend([main.as_str(), ir.as_str(), "-lc", BUILTINS, "-o", &out_s]);
    ok(&kiln(&args));
    assert_eq!(wasi::run_file(&out), "twice(21) = 42\n");
}

#[test]
fn build_takes_further_inputs_and_options() {
    let dir = scratch("build");
    let main = compile(&dir, "main");
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    let out = dir.join("built.wasm");
    let ir = source("twice.ir").display().to_string();
    let out_s = out.display().to_string();
    let lib = format!("-L{SYSROOT_LIB}");
    ok(&kiln(&[
        "build",
        &ir,
        "-o",
        &out_s,
        &crt,
        &main,
        &lib,
        "-lc",
        BUILTINS,
        "--entry=_start",
        "--initial-heap=0",
    ]));
    assert_eq!(wasi::run_file(&out), "twice(21) = 42\n");
}

#[test]
fn archive_members_load_on_demand_or_whole() {
    let dir = scratch("archive");
    let main = compile(&dir, "main");
    let twice = compile(&dir, "twice");
    let ctor = compile(&dir, "ctor");
    let lib = dir.join("libextra.a");
    ok(&run(Command::new("llvm-ar-14")
        .arg("rcs")
        .arg(&lib)
        .args([&twice, &ctor])));
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    let lazy = dir.join("lazy.wasm");
    let whole = dir.join("whole.wasm");
    let forced = dir.join("forced.wasm");
    let dir_s = format!("-L{}", dir.display());
    for (out, extra) in [
        (&lazy, vec![]),
        (&whole, vec!["--whole-archive"]),
        // -u loads the member that defines a name nothing references (and a name nothing
        // defines is no error), as wasm-ld.
        (
            &forced,
            vec![
                "-u",
                "unreferenced_helper",
                "--undefined=symboldoesnotexist",
            ],
        ),
    ] {
        let out_s = out.display().to_string();
        let mut args = vec![
            "link",
            "--no-gc-sections",
            "-L",
            SYSROOT_LIB,
            &dir_s,
            &crt,
            &main,
        ];
        args.extend(extra);
        args.extend([
            "-lextra",
            "--no-whole-archive",
            "-lc",
            BUILTINS,
            "-o",
            &out_s,
        ]);
        ok(&kiln(&args));
    }
    assert_eq!(wasi::run_file(&lazy), "twice(21) = 42\n");
    // The whole archive brings ctor.o, whose constructor runs through the command-export
    // wrapper of `_start` (as with wasm-ld).
    assert_eq!(wasi::run_file(&whole), "ctor ran\ntwice(21) = 42\n");
    // Without gc, what was loaded is in the output: ctor.o only from the whole archive.
    let wat = |p: &Path| text(&kiln(&["dump", &p.display().to_string()]).stdout);
    assert!(!wat(&lazy).contains("$unreferenced_helper"));
    assert!(wat(&whole).contains("$unreferenced_helper"));
    assert!(wat(&forced).contains("$unreferenced_helper"));
    let missing = kiln(&[
        "link",
        &main,
        "-lnothere",
        "-L",
        &dir.display().to_string(),
        "-o",
        "-",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        text(&missing.stderr),
        format!(
            "kiln link: error: unable to find library -lnothere (libnothere.a) in: {}\n",
            dir.display()
        )
    );
}

#[test]
fn failed_link_leaves_the_old_output_alone() {
    let dir = scratch("atomic");
    let main = compile(&dir, "main");
    let out = dir.join("keep.wasm");
    fs::write(&out, "old contents").unwrap();
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    let out_s = out.display().to_string();
    let r = kiln(&[
        "link",
        "-L",
        SYSROOT_LIB,
        &crt,
        &main,
        "-lc",
        BUILTINS,
        "-o",
        &out_s,
    ]);
    assert_eq!(r.status.code(), Some(1));
    let err = text(&r.stderr);
    assert!(
        err.starts_with("kiln link: error: undefined symbol `twice`"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&out).unwrap(), "old contents");
    let fresh = dir.join("fresh.wasm");
    let fresh_s = fresh.display().to_string();
    let r = kiln(&["link", &crt, &main, "-o", &fresh_s]);
    assert_eq!(r.status.code(), Some(1));
    assert!(!fresh.exists());
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn bad_command_lines_and_inputs_are_clear_errors() {
    let dir = scratch("bad");
    let twice = compile(&dir, "twice");
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--frobnicate".into()],
            "unknown option: --frobnicate".into(),
        ),
        (
            vec!["-m".into(), "wasm64".into(), twice.clone()],
            "-m wasm64: 64-bit wasm is not supported (only wasm32)".into(),
        ),
        (
            vec!["-z".into(), "stack-size=big".into()],
            "-z stack-size: `big` is not a number".into(),
        ),
        (vec![], "no input files".into()),
        (vec!["-o".into(), "x.wasm".into()], "no input files".into()),
        (vec![twice.clone()], "no output file specified".into()),
        (
            vec![source("main.c").display().to_string()],
            format!(
                "{}: unknown file type (not a wasm object, an archive or an .ir file)",
                source("main.c").display()
            ),
        ),
        (
            vec![dir.join("missing.o").display().to_string()],
            format!(
                "cannot open {}: No such file",
                dir.join("missing.o").display()
            ),
        ),
    ];
    for (args, want) in cases {
        let mut full = vec!["link".to_string()];
        full.extend(args.iter().cloned());
        if args.len() == 1 && !args[0].ends_with("twice.o") {
            full.extend([
                "-o".to_string(),
                dir.join("never.wasm").display().to_string(),
            ]);
        }
        let r = run(Command::new(kiln_exe()).args(&full));
        assert_eq!(r.status.code(), Some(1), "{full:?}");
        let err = text(&r.stderr);
        assert!(
            err.starts_with(&format!("kiln link: error: {want}")),
            "{full:?}: {err}"
        );
    }
    // A linked module is not an input.
    let linked = dir.join("linked.wasm");
    let linked_s = linked.display().to_string();
    ok(&kiln(&[
        "link",
        "--no-entry",
        "--export=twice",
        &twice,
        "-o",
        &linked_s,
    ]));
    let r = kiln(&["link", &linked_s, "-o", "-"]);
    assert_eq!(
        text(&r.stderr),
        format!("kiln link: error: {linked_s} is a linked module, not a relocatable object\n")
    );
    // A cut-short object is reported where it breaks, not as a linked module.
    let cut = dir.join("cut.o");
    let cut_s = cut.display().to_string();
    fs::write(&cut, &fs::read(&twice).unwrap()[..40]).unwrap();
    let r = kiln(&["link", "--no-entry", &cut_s, "-o", "-"]);
    let err = text(&r.stderr);
    assert!(
        err.starts_with(&format!(
            "kiln link: error: {cut_s}: error at byte offset 0x"
        )) && err.contains("unexpected end-of-file"),
        "{err}"
    );
    // IR inputs report their diagnostics with line and column.
    let bad_ir = dir.join("bad.ir");
    fs::write(&bad_ir, "func @f() -> i32 {\nblock0:\n    return\n}\n").unwrap();
    let r = kiln(&[
        "link",
        "--no-entry",
        &bad_ir.display().to_string(),
        "-o",
        "-",
    ]);
    assert_eq!(r.status.code(), Some(1));
    let err = text(&r.stderr);
    assert!(
        err.starts_with(&format!("{}:3:", bad_ir.display())) && err.contains(": error: "),
        "{err}"
    );
    // A corrupt object names the file and the offset.
    let corrupt = dir.join("corrupt.o");
    let mut bytes = fs::read(&twice).unwrap();
    bytes.truncate(bytes.len() / 2);
    fs::write(&corrupt, bytes).unwrap();
    let r = kiln(&[
        "link",
        "--no-entry",
        &corrupt.display().to_string(),
        "-o",
        "-",
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(text(&r.stderr).contains("corrupt.o"), "{}", text(&r.stderr));
}

#[test]
fn help_lists_the_options() {
    let r = kiln(&["link", "--help"]);
    ok(&r);
    let help = text(&r.stdout);
    for opt in [
        "--export-if-defined=SYM",
        "--whole-archive",
        "--import-memory[=MODULE,NAME]",
        "--unresolved-symbols=report-all|ignore-all|import-dynamic",
        "-z stack-size=N",
        "-O2",
    ] {
        assert!(help.contains(opt), "--help lacks {opt}:\n{help}");
    }
}

#[test]
fn invoked_as_wasm_ld_it_links_and_clang_can_use_it() {
    let dir = scratch("argv0");
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let wasm_ld = bin.join("wasm-ld");
    std::os::unix::fs::symlink(kiln_exe(), &wasm_ld).unwrap();
    let r = run(Command::new(&wasm_ld).arg("--frobnicate"));
    assert_eq!(
        text(&r.stderr),
        "kiln link: error: unknown option: --frobnicate\n"
    );
    let out = dir.join("viaclang.wasm");
    ok(&run(Command::new("clang")
        .arg("--target=wasm32-wasi")
        .arg(format!("-fuse-ld={}", wasm_ld.display()))
        .arg(source("main.c"))
        .arg(source("twice.c"))
        .arg("-o")
        .arg(&out)));
    assert_eq!(wasi::run_file(&out), "twice(21) = 42\n");
}

#[test]
fn dump_lists_a_relocatable_object() {
    let dir = scratch("dump");
    let main = compile(&dir, "main");
    let r = kiln(&["dump", &main]);
    ok(&r);
    let listing = text(&r.stdout);
    assert!(
        listing.contains("R_WASM_FUNCTION_INDEX_LEB")
            && listing.contains("symbol")
            && listing.contains("`twice` function 0 [UNDEFINED]"),
        "{listing}"
    );
    // An IR file dumps as the object it lowers to.
    let r = kiln(&["dump", &source("twice.ir").display().to_string()]);
    ok(&r);
    assert!(
        text(&r.stdout).contains("`twice` function 0 [EXPORTED|NO_STRIP]"),
        "{}",
        text(&r.stdout)
    );
}

#[test]
fn fatal_warnings_fail_the_link() {
    let dir = scratch("fatal");
    let main = compile(&dir, "main");
    let wrong = compile(&dir, "twice_i64");
    let crt = format!("{SYSROOT_LIB}/crt1-command.o");
    let out = dir.join("w.wasm");
    let out_s = out.display().to_string();
    let base = [
        "link",
        "-L",
        SYSROOT_LIB,
        crt.as_str(),
        &main,
        &wrong,
        "-lc",
        "-o",
        &out_s,
    ];
    let r = kiln(&base);
    ok(&r);
    assert!(
        text(&r.stderr).starts_with("kiln link: warning: function signature mismatch: twice\n>>> "),
        "{}",
        text(&r.stderr)
    );
    fs::remove_file(&out).unwrap();
    let r = kiln(&[&base[..], &["--fatal-warnings"]].concat());
    assert_eq!(r.status.code(), Some(1));
    assert!(
        text(&r.stderr)
            .ends_with("kiln link: error: 1 warning(s) and --fatal-warnings: no output written\n"),
        "{}",
        text(&r.stderr)
    );
    assert!(!out.exists());
}

#[test]
fn features_follow_the_objects_unless_given() {
    let dir = scratch("features");
    let obj = dir.join("simd.o");
    ok(&run(Command::new("clang")
        .args(["--target=wasm32-wasi", "-msimd128", "-O1", "-c"])
        .arg(source("simd.c"))
        .arg("-o")
        .arg(&obj)));
    let obj_s = obj.display().to_string();
    let out = dir.join("simd.wasm").display().to_string();
    let base = [
        "link",
        "--no-entry",
        "--export=vsum",
        obj_s.as_str(),
        "-o",
        &out,
    ];
    ok(&kiln(&base));
    let r = kiln(&[&base[..], &["--features=bulk-memory"]].concat());
    assert_eq!(r.status.code(), Some(1));
    assert!(
        text(&r.stderr).contains("Target feature 'simd128' used by ")
            && text(&r.stderr).contains("simd.o is not allowed."),
        "{}",
        text(&r.stderr)
    );
}

#[test]
fn output_to_stdout_and_to_dev_null() {
    let dir = scratch("stdout");
    let twice = compile(&dir, "twice");
    let file = dir.join("twice.wasm").display().to_string();
    let base = ["link", "--no-entry", "--export=twice", twice.as_str()];
    ok(&kiln(&[&base[..], &["-o", &file]].concat()));
    for dash in [&["-o", "-"][..], &["-o-"][..]] {
        let r = kiln(&[&base[..], dash].concat());
        ok(&r);
        assert_eq!(r.stdout, fs::read(&file).unwrap(), "{dash:?}");
    }
    // An output that is not a regular file (a device such as /dev/null, a pipe) is written
    // in place, not replaced by a rename. Tested on a FIFO of our own, read by a thread.
    let fifo = dir.join("out.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read(fifo).unwrap())
    };
    ok(&kiln(
        &[&base[..], &["-o", fifo.to_str().unwrap()]].concat(),
    ));
    assert_eq!(reader.join().unwrap(), fs::read(&file).unwrap());
    assert!(
        !fs::metadata(&fifo).unwrap().is_file(),
        "the FIFO was replaced"
    );
}

#[test]
fn build_defaults_and_argument_order() {
    let dir = scratch("build_defaults");
    let ir = dir.join("twice.ir");
    fs::copy(source("twice.ir"), &ir).unwrap();
    let ir_s = ir.display().to_string();
    // Options may precede the file; the output defaults to FILE.wasm; no entry needed.
    ok(&kiln(&["build", "-z", "stack-size=1024", &ir_s]));
    assert!(dir.join("twice.wasm").is_file());
    let r = kiln(&["build", "--help"]);
    ok(&r);
    assert!(text(&r.stdout).starts_with("Usage: kiln build FILE.ir"));
    let twice = compile(&dir, "twice");
    let r = kiln(&["build", &twice]);
    assert_eq!(r.status.code(), Some(1));
    assert_eq!(
        text(&r.stderr),
        "kiln build: error: the first input must be an IR file (kiln build FILE.ir [INPUTS...])\n"
    );
}

/// `--split-budget=N` copies a loop's secondary entry instead of dispatching: the corpus's
/// two-entry loop loses its `br_table` (exec.rs runs the whole corpus so built).
#[test]
fn split_budget_replaces_the_dispatch() {
    let dir = scratch("split_budget");
    let ir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ir/irreducible_two_entries.ir");
    let ir_s = ir.display().to_string();
    let wat = |budget: &str| {
        let out = dir
            .join(format!("split-{budget}.wasm"))
            .display()
            .to_string();
        ok(&kiln(&[
            "build",
            &ir_s,
            "--split-budget",
            budget,
            "-o",
            &out,
        ]));
        let r = kiln(&["dump", &out]);
        ok(&r);
        text(&r.stdout)
    };
    assert_eq!(wat("0").matches("br_table").count(), 1);
    assert_eq!(wat("64").matches("br_table").count(), 0);
    // Below the entry's size, nothing is copied.
    assert_eq!(wat("2").matches("br_table").count(), 1);
    let out = dir.join("bad.wasm").display().to_string();
    for (value, message) in [
        ("x", "--split-budget: `x` is not a number"),
        ("4294967296", "--split-budget: 4294967296 is too large"),
    ] {
        let r = kiln(&[
            "build",
            &ir_s,
            &format!("--split-budget={value}"),
            "-o",
            &out,
        ]);
        assert_eq!(r.status.code(), Some(1));
        assert_eq!(text(&r.stderr), format!("kiln build: error: {message}\n"));
    }
    assert!(!dir.join("bad.wasm").exists());
}

#[test]
fn missing_intrinsic_runtime_names_the_intrinsic_and_its_caller() {
    let dir = scratch("intrinsic");
    let ir = dir.join("wide.ir");
    fs::write(
        &ir,
        "func @square(i64, i64) -> i64, i64 export {\n\
         block0(v0: i64, v1: i64):\n    \
             v2, v3 = intrinsic i128.mul(v0, v1, v0, v1)\n    \
             return v2, v3\n\
         }\n\n\
         func @rem(f64, f64) -> f64 export {\n\
         block0(v0: f64, v1: f64):\n    \
             v2 = intrinsic fmod(v0, v1)\n    \
             return v2\n\
         }\n",
    )
    .unwrap();
    let ir_s = ir.display().to_string();
    let out = dir.join("wide.wasm").display().to_string();
    let r = kiln(&["build", &ir_s, "-o", &out]);
    assert_eq!(r.status.code(), Some(1));
    assert_eq!(
        text(&r.stderr),
        format!(
            "kiln build: error: undefined symbol `__multi3`: intrinsic `i128.mul`, used by \
             @square in {ir_s}, is lowered to a call of `__multi3`, which no input defines; \
             link compiler-rt's builtins (libclang_rt.builtins-wasm32.a)\n\
             kiln build: error: undefined symbol `fmod`: intrinsic `fmod`, used by @rem in \
             {ir_s}, is lowered to a call of `fmod`, which no input defines; link libc (-lc)\n"
        )
    );
    assert!(!Path::new(&out).exists(), "a failed build writes nothing");
    // With compiler-rt and libc the same build links.
    let lib = format!("-L{SYSROOT_LIB}");
    ok(&kiln(&["build", &ir_s, "-o", &out, BUILTINS, &lib, "-lc"]));
}

#[test]
fn unknown_z_values_warn_as_in_wasm_ld() {
    let dir = scratch("zfoo");
    let twice = compile(&dir, "twice");
    let out = dir.join("z.wasm").display().to_string();
    let base = [
        "link",
        "--no-entry",
        "--export=twice",
        twice.as_str(),
        "-z",
        "foo",
        "-o",
        &out,
    ];
    let r = kiln(&base);
    ok(&r);
    assert_eq!(
        text(&r.stderr),
        "kiln link: warning: unknown -z value: foo\n"
    );
    fs::remove_file(&out).unwrap();
    let r = kiln(&[&base[..], &["--fatal-warnings"]].concat());
    assert_eq!(r.status.code(), Some(1));
    assert!(!Path::new(&out).exists());
}

#[test]
fn comdat_custom_sections_are_deduplicated() {
    // Two objects with the same comdat groups holding custom sections (wasm-ld's
    // comdat-sections test): comdat section members name sections by their index in the
    // file, which the reader maps to the object's custom sections.
    let dir = scratch("comdat_sections");
    let asm = dir.join("c.s");
    fs::write(
        &asm,
        ".section .text.foo,\"G\",@,foo,comdat\n.globl foo\n.type foo,@function\nfoo:\n\
         .functype foo () -> ()\nreturn\nend_function\n\
         .section .debug_foo,\"G\",@,foo,comdat\n.int32 2\n\
         .section .debug_foo,\"G\",@,duplicate,comdat\n.int64 234\n",
    )
    .unwrap();
    let mut objs = Vec::new();
    for n in ["a", "b"] {
        let o = dir.join(format!("{n}.o"));
        ok(&run(Command::new("llvm-mc-14")
            .args(["-triple=wasm32", "-filetype=obj"])
            .arg(&asm)
            .arg("-o")
            .arg(&o)));
        objs.push(o.display().to_string());
    }
    let dump = text(&kiln(&["dump", &objs[0]]).stdout);
    assert!(
        dump.contains("  duplicate: section 1\n  foo: section 0, function 0\n"),
        "{dump}"
    );
    let out = dir.join("c.wasm").display().to_string();
    ok(&kiln(&[
        "link",
        "--no-entry",
        "--export=foo",
        &objs[0],
        &objs[1],
        "-o",
        &out,
    ]));
    let bytes = fs::read(&out).unwrap();
    let mut debug_foo = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = payload
            && c.name() == ".debug_foo"
        {
            debug_foo.push(c.data().len());
        }
    }
    // One copy of each group's piece, merged into one section as wasm-ld does.
    assert_eq!(debug_foo, [12]);
}
