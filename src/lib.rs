//! kiln compiles a small typed IR to WebAssembly and links it with the wasm object files
//! that clang/LLVM make.

#![deny(missing_docs)]

pub mod driver;
pub mod error;
pub mod interp;
pub mod ir;
pub mod link;
pub mod lower;
pub mod object;
pub mod runtest;
pub mod target;
#[cfg(test)]
mod testing;
pub mod timing;
pub mod verify;

pub use error::{Diagnostic, Diagnostics};
