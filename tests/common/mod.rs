//! Helpers shared by the lowering tests: the random program generator, the wasmtime runner,
//! and the build pipeline (lower, link with undefined functions as `env` imports).

#![allow(dead_code)]

#[path = "gen.rs"]
pub mod irgen;
pub mod wasm;

use std::path::{Path, PathBuf};

use kiln::ir::Module;
use kiln::link::{LinkOptions, link};
use kiln::lower::{LowerOptions, lower_module};
use kiln::target::Features;

/// Lowers and links `module` for `features`, undefined functions becoming `env` imports.
pub fn build_with(module: &Module, features: Features) -> Result<Vec<u8>, String> {
    build_lowered(
        module,
        &LowerOptions {
            features,
            ..LowerOptions::default()
        },
    )
}

/// Lowers `module` with `lopts` and links it as [`build_with`] does.
pub fn build_lowered(module: &Module, lopts: &LowerOptions) -> Result<Vec<u8>, String> {
    let features = lopts.features;
    let object = lower_module(module, lopts).map_err(|e| format!("lower: {e}"))?;
    let opts = LinkOptions {
        import_undefined: true,
        features,
        ..LinkOptions::default()
    };
    link(&[object], &opts).map_err(|e| format!("link: {e}"))
}

/// [`build_with`] the default features.
pub fn build(module: &Module) -> Result<Vec<u8>, String> {
    build_with(module, Features::default())
}

/// The corpus directory `ir/`.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("ir")
}

/// The `.ir` files of `ir/`, sorted.
pub fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("ir/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ir"))
        .collect();
    files.sort();
    files
}

/// Parses and verifies a corpus source; the error names the file.
pub fn load(name: &str, source: &str) -> Result<Module, String> {
    let module = kiln::ir::parse(source).map_err(|d| d.render(name))?;
    kiln::verify::verify(&module).map_err(|d| d.render(name))?;
    Ok(module)
}
