//! Symbol resolution, archive loading, comdats and GC on real clang objects: C and C++ files
//! compiled here with `clang --target=wasm32-wasi`, archives built with `llvm-ar`, linked by
//! `kiln::link::link_inputs` and by wasm-ld 22 (`python3 -m ziglang wasm-ld`), compared by
//! their exports and imports; every output validates with wasmparser.
//!
//! These tests need clang 14, llvm-ar, wasi-libc, libc++ and wasm-ld 22; they fail (never
//! skip) when one is missing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use kiln::link::{Input, LinkError, LinkOptions, LinkOutput, link_inputs_with_warnings};
use kiln::object::{is_archive, read_archive, read_object};

const SYSROOT: &str = "/usr/lib/wasm32-wasi";
const BUILTINS: &str = "/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a";

/// A fresh scratch directory for one test, under cargo's per-target temporary directory (one
/// per test name, emptied when the test starts: runs do not pile up directories).
fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("link_resolve_{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles `src` (C, or C++ when `name` ends in `.cpp`) to `dir/name.o`.
fn cc(dir: &Path, name: &str, src: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, src).expect("write source");
    let obj = dir.join(format!("{name}.o"));
    let mut cmd = Command::new("clang");
    cmd.args(["--target=wasm32-wasi", "-c"]);
    if name.ends_with(".cpp") {
        // -O0 keeps the inline functions and templates out of line, in their comdats.
        cmd.args(["-O0", "-fno-exceptions"]);
    } else {
        cmd.arg("-O1");
    }
    cmd.arg(&file).arg("-o").arg(&obj);
    run(&mut cmd);
    obj
}

/// Builds `dir/name` from `objs` with `llvm-ar crs`.
fn ar(dir: &Path, name: &str, objs: &[&Path]) -> PathBuf {
    let lib = dir.join(name);
    let _ = std::fs::remove_file(&lib);
    run(Command::new("llvm-ar").arg("crs").arg(&lib).args(objs));
    lib
}

/// One linker input on disk: a path, with `--whole-archive` for archives.
struct In {
    path: PathBuf,
    whole: bool,
}

fn obj(p: impl AsRef<Path>) -> In {
    In {
        path: p.as_ref().to_path_buf(),
        whole: false,
    }
}

fn whole(p: impl AsRef<Path>) -> In {
    In {
        path: p.as_ref().to_path_buf(),
        whole: true,
    }
}

fn libc_inputs() -> Vec<In> {
    vec![obj(format!("{SYSROOT}/libc.a")), obj(BUILTINS)]
}

/// Links with kiln.
fn kiln_link(inputs: &[In], opts: &LinkOptions) -> Result<LinkOutput, String> {
    let bytes: Vec<Vec<u8>> = inputs
        .iter()
        .map(|i| {
            std::fs::read(&i.path).unwrap_or_else(|e| panic!("read {}: {e}", i.path.display()))
        })
        .collect();
    let mut list = Vec::new();
    for (i, b) in inputs.iter().zip(&bytes) {
        let path = i.path.display().to_string();
        if is_archive(b) {
            list.push(Input::Archive {
                archive: read_archive(&path, b).map_err(|e| e.to_string())?,
                whole: i.whole,
            });
        } else {
            list.push(Input::Object(
                read_object(&path, b).map_err(|e| e.to_string())?,
            ));
        }
    }
    link_inputs_with_warnings(list, opts).map_err(|e: LinkError| e.to_string())
}

/// Links with wasm-ld 22; `extra` are further flags.
fn lld_link(dir: &Path, inputs: &[In], extra: &[&str]) -> Vec<u8> {
    let out = dir.join("lld.wasm");
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "ziglang", "wasm-ld", "-m", "wasm32", "--no-demangle"]);
    cmd.args(extra);
    for i in inputs {
        if i.whole {
            cmd.arg("--whole-archive")
                .arg(&i.path)
                .arg("--no-whole-archive");
        } else {
            cmd.arg(&i.path);
        }
    }
    cmd.arg("-o").arg(&out);
    run(&mut cmd);
    std::fs::read(&out).expect("read wasm-ld output")
}

/// The module's exports as `kind name` and imports as `module.field kind`, after validating it.
fn interface(wasm: &[u8]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut v = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all());
    if let Err(e) = v.validate_all(wasm) {
        panic!("invalid module: {e}");
    }
    let mut exports = BTreeSet::new();
    let mut imports = BTreeSet::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload.expect("parse") {
            wasmparser::Payload::ExportSection(s) => {
                for e in s {
                    let e = e.expect("export");
                    exports.insert(format!("{:?} {}", e.kind, e.name));
                }
            }
            wasmparser::Payload::ImportSection(s) => {
                for i in s.into_imports() {
                    let i = i.expect("import");
                    let kind = match i.ty {
                        wasmparser::TypeRef::Func(_) => "func",
                        wasmparser::TypeRef::Global(_) => "global",
                        wasmparser::TypeRef::Memory(_) => "memory",
                        wasmparser::TypeRef::Table(_) => "table",
                        _ => "other",
                    };
                    imports.insert(format!("{}.{} {kind}", i.module, i.name));
                }
            }
            _ => {}
        }
    }
    (exports, imports)
}

/// Names of the functions in the `name` section.
fn func_names(wasm: &[u8]) -> BTreeSet<String> {
    func_name_list(wasm).into_iter().collect()
}

/// Names of the functions in the `name` section, in index order, with repeats.
fn func_name_list(wasm: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = payload
            && let wasmparser::KnownCustom::Name(reader) = c.as_known()
        {
            for sub in reader {
                if let Ok(wasmparser::Name::Function(map)) = sub {
                    for n in map.into_iter().flatten() {
                        names.push(n.name.to_string());
                    }
                }
            }
        }
    }
    names
}

/// Both modules define the same functions by name (archive members loaded and GC'd alike);
/// wasm-ld's command-export wrappers aside, and `main`, which clang defines under two names
/// (`main` and `__main_argc_argv`) that the linkers pick differently for the name section.
fn same_functions(ours: &[u8], theirs: &[u8]) {
    let keep =
        |n: &String| !n.ends_with(".command_export") && n != "main" && n != "__main_argc_argv";
    let ours: BTreeSet<String> = func_names(ours).into_iter().filter(keep).collect();
    let theirs: BTreeSet<String> = func_names(theirs).into_iter().filter(keep).collect();
    assert_eq!(
        ours,
        theirs,
        "only kiln: {:?}\nonly wasm-ld: {:?}",
        ours.difference(&theirs).collect::<Vec<_>>(),
        theirs.difference(&ours).collect::<Vec<_>>()
    );
}

fn command_opts() -> LinkOptions {
    LinkOptions {
        entry: Some("_start".into()),
        // As wasm-ld without --features: the output has the features the inputs use.
        infer_features: true,
        ..LinkOptions::default()
    }
}

const HELLO: &str = r#"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static int counter;
static volatile int seed = 41;
__attribute__((constructor)) static void init(void) { counter = seed; }
int main(int argc, char **argv) {
    char *p = malloc(32);
    strcpy(p, "world");
    printf("hello %s %d %f\n", p, counter + 1, argc * 1.5);
    free(p);
    return 0;
}
"#;

#[test]
fn hello_printf_against_libc_matches_wasm_ld() {
    let dir = scratch("hello");
    let hello = cc(&dir, "hello.c", HELLO);
    let mut inputs = vec![obj(format!("{SYSROOT}/crt1-command.o")), obj(&hello)];
    inputs.extend(libc_inputs());
    let ours = kiln_link(&inputs, &command_opts()).expect("kiln link");
    assert!(ours.warnings.is_empty(), "{:?}", ours.warnings);
    // Kept next to wasm-ld's output for running by hand.
    std::fs::write(dir.join("kiln.wasm"), &ours.wasm).expect("write kiln.wasm");
    let theirs = lld_link(&dir, &inputs, &[]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));
    let names = func_names(&ours.wasm);
    for f in [
        "_start",
        "__main_argc_argv",
        "printf",
        "malloc",
        "__wasm_call_ctors",
    ] {
        assert!(names.contains(f), "{f} missing from {names:?}");
    }
    // Only the members hello needs are loaded: nothing pulls in `qsort`.
    assert!(!names.contains("qsort"), "{names:?}");
    same_functions(&ours.wasm, &theirs);
}

#[test]
fn export_options_against_libc_match_wasm_ld() {
    let dir = scratch("exports");
    let hello = cc(&dir, "hello.c", HELLO);
    let mut inputs = vec![obj(format!("{SYSROOT}/crt1-command.o")), obj(&hello)];
    inputs.extend(libc_inputs());
    let cases: [(&[&str], LinkOptions); 5] = [
        (
            &["--export-all"],
            LinkOptions {
                export_all: true,
                ..command_opts()
            },
        ),
        (
            &["--no-gc-sections"],
            LinkOptions {
                gc: false,
                ..command_opts()
            },
        ),
        (
            &["--export-if-defined=strlen", "--export-if-defined=no_such"],
            LinkOptions {
                export_if_defined: vec!["strlen".into(), "no_such".into()],
                ..command_opts()
            },
        ),
        (
            &["--export-dynamic"],
            LinkOptions {
                export_dynamic: true,
                ..command_opts()
            },
        ),
        (
            &["--export=qsort"],
            LinkOptions {
                exports: vec!["qsort".into()],
                ..command_opts()
            },
        ),
    ];
    for (flags, opts) in cases {
        let ours = kiln_link(&inputs, &opts).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        let theirs = lld_link(&dir, &inputs, flags);
        assert_eq!(interface(&ours.wasm), interface(&theirs), "{flags:?}");
        same_functions(&ours.wasm, &theirs);
    }
}

const CXX_HEADER: &str = r#"
#include <cstdio>
struct Shape {
    virtual ~Shape() {}
    virtual int area() const = 0;
};
template <int N> struct Square : Shape {
    int area() const override { return N * N; }
};
inline int twice(int x) { static int calls; calls++; return 2 * x + calls - calls; }
template <typename T> T biggest(T a, T b) { return a > b ? a : b; }
int from_b();
"#;

#[test]
fn cxx_comdats_against_libcxx_match_wasm_ld() {
    let dir = scratch("cxx");
    let a = cc(
        &dir,
        "a.cpp",
        &format!(
            "{CXX_HEADER}
struct Greeter {{ Greeter() {{ std::printf(\"ctor\\n\"); }} }};
static Greeter greeter;
int main() {{
    Square<3> s;
    Shape *p = &s;
    std::printf(\"%d %d %d\\n\", p->area(), twice(4), biggest(from_b(), 7));
    return 0;
}}"
        ),
    );
    let b = cc(
        &dir,
        "b.cpp",
        &format!(
            "{CXX_HEADER}
int from_b() {{ Square<3> s; Shape *p = &s; return p->area() + twice(1) + biggest(2, 3); }}"
        ),
    );
    let mut inputs = vec![obj(format!("{SYSROOT}/crt1-command.o")), obj(&a), obj(&b)];
    inputs.push(obj(format!("{SYSROOT}/libc++.a")));
    inputs.push(obj(format!("{SYSROOT}/libc++abi.a")));
    inputs.extend(libc_inputs());
    let ours = kiln_link(&inputs, &command_opts()).expect("kiln link");
    assert!(ours.warnings.is_empty(), "{:?}", ours.warnings);
    // Kept next to wasm-ld's output for running by hand.
    std::fs::write(dir.join("kiln.wasm"), &ours.wasm).expect("write kiln.wasm");
    let theirs = lld_link(&dir, &inputs, &[]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));
    same_functions(&ours.wasm, &theirs);
    let names = func_names(&ours.wasm);
    assert!(names.contains("_Z5twicei"), "{names:?}");
    assert!(names.contains("_ZNK6SquareILi3EE4areaEv"), "{names:?}");

    // Without GC every function stays, so a second copy of a comdat would show. kiln keeps
    // one copy of each group; wasm-ld 22 with --no-gc-sections also emits the discarded
    // copies (its chunks start live and nothing drops discarded ones), a difference kept on
    // purpose: the copies are unreachable.
    let nogc = LinkOptions {
        gc: false,
        ..command_opts()
    };
    let ours = kiln_link(&inputs, &nogc).expect("kiln link --no-gc-sections");
    let theirs = lld_link(&dir, &inputs, &["--no-gc-sections"]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));
    let (ours_names, their_names) = (func_name_list(&ours.wasm), func_name_list(&theirs));
    let (ours_set, their_set) = (multiset(ours_names.clone()), multiset(their_names));
    assert_eq!(ours_set.difference(&their_set).count(), 0);
    let comdat_fns: BTreeSet<String> = [&a, &b]
        .iter()
        .flat_map(|p| {
            let bytes = std::fs::read(p).expect("read object");
            let o = read_object(&p.display().to_string(), &bytes).expect("read object");
            assert!(!o.comdats.is_empty(), "{} has no comdats", p.display());
            o.comdats
                .iter()
                .map(|c| c.name.to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for (name, copy) in their_set.difference(&ours_set) {
        assert!(
            name == "_start.command_export" || (*copy == 2 && comdat_fns.contains(name)),
            "wasm-ld has {name} #{copy}, kiln does not"
        );
    }
    for name in ["_Z5twicei", "_ZNK6SquareILi3EE4areaEv", "_ZN5ShapeD2Ev"] {
        assert_eq!(
            ours_names.iter().filter(|n| *n == name).count(),
            1,
            "{name}"
        );
    }
}

fn multiset(names: Vec<String>) -> BTreeSet<(String, usize)> {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    names
        .into_iter()
        .map(|n| {
            let k = seen.entry(n.clone()).or_insert(0);
            *k += 1;
            (n, *k)
        })
        .collect()
}

#[test]
fn archive_members_load_lazily() {
    let dir = scratch("lazy");
    let main = cc(
        &dir,
        "main.c",
        "int needed(void); __attribute__((weak)) int optional(void);
         int _start_value;
         void _start(void) { _start_value = needed() + (optional ? optional() : 0); }",
    );
    let needed = cc(
        &dir,
        "needed.c",
        "int deep(void); int needed(void) { return deep(); }",
    );
    let deep = cc(&dir, "deep.c", "int deep(void) { return 7; }");
    let optional = cc(&dir, "optional.c", "int optional(void) { return 12345; }");
    // Defines `needed` again: loading this member would be a duplicate-symbol error.
    let unused = cc(
        &dir,
        "unused.c",
        "int needed(void) { return 0; } int unused(void) { return 2; }",
    );
    let bad = dir.join("bad.o");
    std::fs::write(&bad, b"not an object\n").expect("write bad member");
    // `needed` comes before `unused` in archive order; `deep` lives in a second archive that
    // comes first on the command line (a backward reference).
    let lib = ar(&dir, "libx.a", &[&needed, &optional, &unused]);
    let libdeep = ar(&dir, "libdeep.a", &[&deep]);
    let inputs = [obj(&libdeep), obj(&main), obj(&lib)];
    let ours = kiln_link(&inputs, &command_opts()).expect("kiln link");
    let names = func_names(&ours.wasm);
    assert!(
        names.contains("needed") && names.contains("deep"),
        "{names:?}"
    );
    // A weak reference does not load `optional.o` (`optional` is the trapping stub); the
    // unneeded duplicate is never read.
    assert!(!names.contains("unused"), "{names:?}");
    let wat = wasmprinter::print_bytes(&ours.wasm).expect("print");
    assert!(
        !wat.contains("12345") && wat.contains("unreachable"),
        "{wat}"
    );
    let theirs = lld_link(&dir, &inputs, &[]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));

    // --whole-archive loads every member: now the duplicate `needed` is an error naming both.
    let inputs = [obj(&libdeep), obj(&main), whole(&lib)];
    let e = kiln_link(&inputs, &command_opts()).unwrap_err().to_string();
    let lib_name = lib.display().to_string();
    assert_eq!(
        e,
        format!(
            "duplicate symbol `needed`: defined in {lib_name}(needed.c.o) and in {lib_name}(unused.c.o)"
        )
    );

    // The entry and --export load members after all inputs: `_start` from an archive, and
    // `unused` from libx.a...
    let libmain = ar(&dir, "libmain.a", &[&main]);
    let opts = LinkOptions {
        exports: vec!["unused".into()],
        ..command_opts()
    };
    let e = kiln_link(&[obj(&libmain), obj(&lib), obj(&libdeep)], &opts)
        .unwrap_err()
        .to_string();
    // ...which here is the member that defines `needed` a second time.
    assert!(e.starts_with("duplicate symbol `needed`"), "{e}");
    let opts = LinkOptions {
        exports: vec!["deep".into()],
        ..command_opts()
    };
    let inputs = [obj(&libmain), obj(&libdeep), obj(&needed)];
    let ours = kiln_link(&inputs, &opts).expect("entry from an archive");
    let theirs = lld_link(&dir, &inputs, &["--export=deep"]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));
    // A name an input defines is not loaded for --export: `deep.c.o` given directly comes
    // after the archive that also has it, and no duplicate arises.
    let inputs = [obj(&libmain), obj(&libdeep), obj(&deep), obj(&needed)];
    let ours = kiln_link(&inputs, &opts).expect("no member load for a defined export");
    let theirs = lld_link(&dir, &inputs, &["--export=deep"]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));

    // A member that is not an object is an error naming it once it is needed.
    let libbad = ar(&dir, "libbad.a", &[&bad, &deep]);
    let ok = kiln_link(&[obj(&main), obj(&lib), obj(&libbad)], &command_opts());
    assert!(ok.is_ok(), "bad.o is never needed: {ok:?}");
    let e = kiln_link(&[obj(&main), obj(&lib), whole(&libbad)], &command_opts())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{}(bad.o): ", libbad.display())),
        "{e}"
    );
}

#[test]
fn undefined_symbols_report_every_referencing_file() {
    let dir = scratch("undef");
    let a = cc(
        &dir,
        "a.c",
        "int missing(void); extern int missing_data; void _start(void) { missing_data = missing(); }",
    );
    let b = cc(
        &dir,
        "b.c",
        "int missing(void); int b(void) { return missing(); }",
    );
    let inputs = [obj(&a), obj(&b)];
    let opts = LinkOptions {
        exports: vec!["b".into()],
        ..command_opts()
    };
    let e = kiln_link(&inputs, &opts).unwrap_err().to_string();
    let (a, b) = (a.display(), b.display());
    assert_eq!(
        e,
        format!(
            "undefined symbol `missing` (referenced by {a}, {b})\nundefined symbol `missing_data` (referenced by {a})"
        )
    );
    // ignore-all: the function traps, the data is at address 0.
    let ignore = LinkOptions {
        unresolved_symbols: kiln::link::UnresolvedSymbols::IgnoreAll,
        ..opts.clone()
    };
    let out = kiln_link(&inputs, &ignore).expect("ignore-all");
    let (_, imports) = interface(&out.wasm);
    assert!(imports.is_empty(), "{imports:?}");
    // import-dynamic imports the function; the data still cannot be imported.
    let dynamic = LinkOptions {
        unresolved_symbols: kiln::link::UnresolvedSymbols::ImportDynamic,
        ..opts.clone()
    };
    let e = kiln_link(&inputs, &dynamic).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("undefined symbol `missing_data` (referenced by {a})")
    );
}

#[test]
fn constructor_only_objects_are_kept_but_not_unused_members() {
    let dir = scratch("ctors");
    let main = cc(
        &dir,
        "main.c",
        "#include <stdio.h>
         int registry;
         int main(void) { printf(\"%d\\n\", registry); return 0; }",
    );
    let reg = cc(
        &dir,
        "reg.c",
        "extern int registry; __attribute__((constructor)) static void add(void) { registry = 42; }",
    );
    let member = cc(
        &dir,
        "member.c",
        "extern int registry; __attribute__((constructor)) static void add_twice(void) { registry *= 2; }
         int member_fn(void) { return 1; }",
    );
    let lib = ar(&dir, "libm2.a", &[&member]);
    let mut inputs = vec![
        obj(format!("{SYSROOT}/crt1-command.o")),
        obj(&main),
        obj(&reg),
        obj(&lib),
    ];
    inputs.extend(libc_inputs());
    let ours = kiln_link(&inputs, &command_opts()).expect("kiln link");
    let names = func_names(&ours.wasm);
    assert!(names.contains("add"), "{names:?}");
    assert!(!names.contains("add_twice"), "{names:?}");
    let theirs = lld_link(&dir, &inputs, &[]);
    assert_eq!(func_names(&theirs).contains("add"), names.contains("add"));
    assert_eq!(interface(&ours.wasm), interface(&theirs));
    // --whole-archive: the member is loaded and live from the start, so its constructor runs.
    inputs[3] = whole(&lib);
    let ours = kiln_link(&inputs, &command_opts()).expect("kiln link");
    assert!(func_names(&ours.wasm).contains("add_twice"));
}

#[test]
fn signature_mismatch_warns_and_traps_like_wasm_ld() {
    let dir = scratch("sig");
    let a = cc(
        &dir,
        "a.c",
        "int f(int); int _start_result; void _start(void) { _start_result = f(1); }",
    );
    let b = cc(&dir, "b.c", "int f(int x, int y) { return x + y; }");
    let inputs = [obj(&a), obj(&b)];
    let ours = kiln_link(&inputs, &command_opts()).expect("kiln link");
    assert_eq!(
        ours.warnings,
        [format!(
            "function signature mismatch: f\n>>> defined as (i32) -> i32 in {}\n>>> defined as (i32, i32) -> i32 in {}",
            a.display(),
            b.display()
        )]
    );
    let theirs = lld_link(&dir, &inputs, &[]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));
}

#[test]
fn weak_explicit_imports_are_not_imported() {
    let dir = scratch("weakimport");
    let a = cc(
        &dir,
        "a.c",
        r#"__attribute__((import_module("m"), import_name("f"), weak)) int f(void);
           __attribute__((import_module("m"), import_name("g"))) int g(void);
           int _start_r;
           void _start(void) { _start_r = (f ? f() : 0) + g(); }"#,
    );
    let inputs = [obj(&a)];
    let ours = kiln_link(&inputs, &command_opts()).expect("kiln link");
    let theirs = lld_link(&dir, &inputs, &[]);
    let (_, imports) = interface(&ours.wasm);
    assert_eq!(imports.into_iter().collect::<Vec<_>>(), ["m.g func"]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));
}

#[test]
fn cxx_iostream_containers_tls_match_wasm_ld() {
    let dir = scratch("iostream");
    let src = r#"
#include <iostream>
#include <vector>
#include <string>
#include <map>
#include <memory>
struct Base { virtual ~Base() = default; virtual std::string name() const = 0; };
struct D : Base { std::string name() const override { return "derived"; } };
thread_local int tl = 5;
static std::map<std::string, int> table = {{"a", 1}, {"b", 2}};
int main() {
  std::vector<std::unique_ptr<Base>> v;
  v.push_back(std::make_unique<D>());
  for (auto &p : v) std::cout << p->name() << " " << table["b"] << " " << tl << std::endl;
  return 0;
}
"#;
    let main = cc(&dir, "main.cpp", src);
    let mut inputs = vec![obj(format!("{SYSROOT}/crt1-command.o")), obj(&main)];
    inputs.push(obj(format!("{SYSROOT}/libc++.a")));
    inputs.push(obj(format!("{SYSROOT}/libc++abi.a")));
    inputs.extend(libc_inputs());
    let ours = kiln_link(&inputs, &command_opts()).expect("kiln link");
    std::fs::write(dir.join("kiln.wasm"), &ours.wasm).expect("write kiln.wasm");
    // For running by hand with a host that calls `__wasm_call_ctors` before `_start`.
    let with_ctors = LinkOptions {
        exports: vec!["__wasm_call_ctors".into()],
        ..command_opts()
    };
    let ctors = kiln_link(&inputs, &with_ctors).expect("kiln link, ctors exported");
    std::fs::write(dir.join("kiln-ctors.wasm"), &ctors.wasm).expect("write kiln-ctors.wasm");
    let theirs = lld_link(&dir, &inputs, &[]);
    assert_eq!(interface(&ours.wasm), interface(&theirs));
    // libc and libc++ define many functions under two names (`__isdigit_l` and its weak
    // alias `isdigit_l`, C1/C2 constructors), which the linkers pick differently for the
    // name section; the same functions are there when the counts agree.
    let count = |wasm: &[u8]| {
        func_name_list(wasm)
            .iter()
            .filter(|n| !n.ends_with(".command_export"))
            .count()
    };
    let (ours_names, their_names) = (func_names(&ours.wasm), func_names(&theirs));
    assert_eq!(
        count(&ours.wasm),
        count(&theirs),
        "only kiln: {:?}\nonly wasm-ld: {:?}",
        ours_names.difference(&their_names).collect::<Vec<_>>(),
        their_names.difference(&ours_names).collect::<Vec<_>>()
    );
}
