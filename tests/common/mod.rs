//! Helpers shared by the lowering tests: the random program generator and the wasmtime
//! runner. Each test crate uses a part of them.

#![allow(dead_code)]

#[path = "gen.rs"]
pub mod irgen;
pub mod wasm;
