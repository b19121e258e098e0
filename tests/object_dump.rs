//! `dump_object` on an object clang compiles from `tests/driver/dump_sample.c`, as an insta
//! snapshot. Needs clang with the wasm32 target; fails (does not skip) without it.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn dump_of_a_clang_object() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/driver/dump_sample.c");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dump_sample.o");
    let status = Command::new("clang")
        .args(["--target=wasm32-wasi", "-O1", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("clang is needed for this test (apt install clang): {e}"));
    assert!(status.success(), "clang failed on {}", src.display());
    let bytes = std::fs::read(&out).unwrap();
    let obj = kiln::object::read_object("dump_sample.o", &bytes).unwrap();
    let text = kiln::object::dump_object(&obj);
    // The listing names every symbol a relocation points at, so a change of indices shows.
    assert!(text.contains("symbol") && text.contains("R_WASM_"));
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("dump_sample_o", text);
    });
}

/// A kiln-lowered object: enum descriptions, exports and the data kiln writes.
#[test]
fn dump_of_a_lowered_ir_object() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ir/enum_quoted.ir");
    let source = std::fs::read_to_string(path).unwrap();
    let module = kiln::ir::parse(&source).unwrap();
    kiln::verify::verify(&module).unwrap();
    let opts = kiln::lower::LowerOptions {
        path: "enum_quoted.ir".into(),
        ..kiln::lower::LowerOptions::default()
    };
    let obj = kiln::lower::lower_module(&module, &opts).unwrap();
    let text = kiln::object::dump_object(&obj);
    assert!(
        text.contains("enums (") && !text.contains("enums (0)"),
        "{text}"
    );
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("dump_enum_quoted_ir", text);
    });
}
