//! The `kiln` command line: exit codes, output formats and diagnostics as a user sees them.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .output()
        .expect("kiln runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

const ADD: &str = "\
; run: add(2, 3) == 5
; run: add(-1, 1) == 0

func @add(i32, i32) -> i32 export {
block0(v0: i32, v1: i32):
    v2 = i32.add v0, v1
    return v2
}
";

#[test]
fn run_prints_each_result() {
    let dir = scratch("run");
    let file = dir.join("add.ir");
    fs::write(&file, ADD).unwrap();
    let out = kiln(&["run", file.to_str().unwrap(), "--invoke", "add", "40", "-2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "38\n");

    let out = kiln(&["run", file.to_str().unwrap(), "--invoke", "add", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("takes 2 arguments, 1 given"));

    let out = kiln(&["run", file.to_str().unwrap(), "--invoke", "sub"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no function @sub"));
}

#[test]
fn check_reports_file_line_and_column() {
    let dir = scratch("check");
    let good = dir.join("good.ir");
    fs::write(&good, ADD).unwrap();
    assert!(kiln(&["check", good.to_str().unwrap()]).status.success());

    let bad = dir.join("bad.ir");
    fs::write(&bad, ADD.replace("i32.add v0, v1", "i32.add v0, v9")).unwrap();
    let out = kiln(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.starts_with(&format!("{}:6:", bad.display())), "{err}");
    assert!(err.contains(": error: "), "{err}");

    let missing = dir.join("missing.ir");
    let out = kiln(&["check", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("cannot read"));
}

#[test]
fn fmt_check_and_write() {
    let dir = scratch("fmt");
    let file = dir.join("messy.ir");
    fs::write(&file, ADD.replace("    v2 = i32.add", "  v2 =   i32.add")).unwrap();
    let path = file.to_str().unwrap();
    let out = kiln(&["fmt", "--check", path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not in canonical form"));

    let out = kiln(&["fmt", path]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), ADD);

    assert!(kiln(&["fmt", "-w", path]).status.success());
    assert_eq!(fs::read_to_string(&file).unwrap(), ADD);
    assert!(kiln(&["fmt", "--check", path]).status.success());
}

#[test]
fn test_reports_each_run_line() {
    let dir = scratch("test");
    fs::write(dir.join("ok.ir"), ADD).unwrap();
    let out = kiln(&["test", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).ends_with("2 passed, 0 failed\n"));

    fs::write(dir.join("wrong.ir"), ADD.replace("== 5", "== 6")).unwrap();
    let out = kiln(&["test", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("wrong.ir:1 add(2, 3) == 6: expected 6, got 5"),
        "{stdout}"
    );
    assert!(stdout.ends_with("3 passed, 1 failed\n"), "{stdout}");
}

#[test]
fn unknown_subcommand_is_an_error() {
    let out = kiln(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unrecognized subcommand"));
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // `kiln dump x.o | head`: the reader is gone before kiln writes anything.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/ir/collatz.ir");
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["dump", file])
        .stdout(writer)
        .output()
        .expect("kiln runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}
