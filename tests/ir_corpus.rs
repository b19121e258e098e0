//! The corpus in `ir/` is the specification of the IR front end: every valid program is
//! canonical text (`print(parse(text)) == text`), verifies, and passes its `; run:` lines
//! under the interpreter; every program in `ir/errors/` gets the diagnostics its `; error:`
//! markers name, and the rendered diagnostics are snapshotted.

use std::fs;
use std::path::{Path, PathBuf};

use kiln::runtest;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ir")
}

fn ir_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("corpus directory exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "ir"))
        .collect();
    files.sort();
    files
}

#[test]
fn valid_programs_are_canonical_verify_and_run() {
    let files = ir_files(&corpus_dir());
    assert!(
        files.len() >= 40,
        "the corpus has only {} programs",
        files.len()
    );
    let mut failures = Vec::new();
    let mut run_lines = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let source = fs::read_to_string(path).unwrap();
        match kiln::ir::parse(&source) {
            Ok(module) => {
                let printed = kiln::ir::print(&module);
                if printed != source {
                    failures.push(format!("{name}: not canonical (run `kiln fmt -w`)"));
                }
                let reparsed = kiln::ir::parse(&printed).map(|m| kiln::ir::print(&m));
                if reparsed.as_deref() != Ok(printed.as_str()) {
                    failures.push(format!(
                        "{name}: print(parse(print(x))) is not a fixed point"
                    ));
                }
            }
            Err(d) => failures.push(d.render(&name)),
        }
        let lines = runtest::parse_run_lines(&source).unwrap_or_default();
        run_lines += lines.len();
        for case in runtest::test_source(&source) {
            if let Some(why) = case.failure {
                failures.push(format!("{name}:{}: {}: {why}", case.line, case.what));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(run_lines >= 100, "only {run_lines} run lines in the corpus");
}

#[test]
fn invalid_programs_report_the_marked_errors() {
    let files = ir_files(&corpus_dir().join("errors"));
    assert!(
        files.len() >= 25,
        "ir/errors has only {} programs",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy();
        let source = fs::read_to_string(path).unwrap();
        if runtest::parse_error_markers(&source).is_empty() {
            failures.push(format!("{name}: no `; error:` marker"));
        }
        for case in runtest::test_source(&source) {
            if let Some(why) = case.failure {
                failures.push(format!("{name}:{}: {}: {why}", case.line, case.what));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_program_diagnostics() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::glob!("../ir/errors", "*.ir", |path| {
            let source = fs::read_to_string(path).unwrap();
            let name = format!("ir/errors/{}", path.file_name().unwrap().to_string_lossy());
            let rendered: String = runtest::diagnose(&source)
                .iter()
                .map(|d| d.render(&name))
                .collect();
            insta::assert_snapshot!(rendered);
        });
    });
}
