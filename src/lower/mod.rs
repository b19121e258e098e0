//! Lowering: IR functions to wasm code with relocations, collected into an
//! [`Object`](crate::object::Object).
//!
//! Per function, independently of the others: make the CFG reducible, structure it
//! ([`structured::Node`]), assign values to the operand stack or to locals, and encode.
//! [`lower_module`] does this for every defined function in parallel and assembles the
//! object (types, imports, symbols, segments) around the bodies; the conventions it follows
//! are those the link stage relies on (see `module.rs`).

pub mod cfg;
mod emit;
mod error;
mod module;
pub mod reducible;
pub mod structure;
pub mod structured;
mod values;

#[cfg(test)]
mod tests;

pub use error::LowerError;
pub use module::lower_module;

use crate::target::Features;

/// Options of [`lower_module`].
#[derive(Clone, Debug, Default)]
pub struct LowerOptions {
    /// What the output may use.
    pub features: Features,
    /// The module's file, for diagnostics and [`Object::path`](crate::object::Object::path).
    pub path: String,
    /// Node splitting for irreducible functions: how many instructions each may copy
    /// before what stays irreducible gets dispatch blocks (0, the default: dispatch only).
    /// Copying a loop's secondary entry for the edges from outside saves the dispatch's
    /// label local and `br_table`, at the cost of code size
    /// ([`reducible::make_reducible_with`]).
    pub split_budget: u32,
}
