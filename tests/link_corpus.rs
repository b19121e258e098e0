//! Every corpus program lowers, links and validates with wasmparser (with the default
//! features); runtime symbols (`__multi3`, `fmod`, ...) are imported.

use std::path::Path;

use kiln::link::{LinkOptions, link};
use kiln::lower::{LowerOptions, lower_module};

#[test]
fn corpus_builds_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ir");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("ir/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "ir"))
        .collect();
    files.sort();
    let mut built = 0;
    for path in files {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let source = std::fs::read_to_string(&path).expect("read");
        let module = kiln::ir::parse(&source).expect("parse");
        kiln::verify::verify(&module).expect("verify");
        let opts = LowerOptions {
            path: name.clone(),
            ..LowerOptions::default()
        };
        let object = lower_module(&module, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        let link_opts = LinkOptions {
            import_undefined: true,
            initial_heap: 65536,
            ..LinkOptions::default()
        };
        let inputs = [object];
        let bytes = link(&inputs, &link_opts).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Err(e) = wasmparser::Validator::new().validate_all(&bytes) {
            panic!(
                "{name}: invalid: {e}\n{}",
                wasmprinter::print_bytes(&bytes).unwrap_or_default()
            );
        }
        assert_eq!(
            bytes,
            link(&inputs, &link_opts).expect("relink"),
            "{name}: not deterministic"
        );
        built += 1;
    }
    eprintln!("{built} corpus programs built and validated");
    assert!(built >= 60, "only {built} programs built");
}
