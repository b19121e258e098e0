//! The typed IR: module, functions, instructions, types, and their text format.
//!
//! See `ir/README.md` in the repository for the language reference.

pub mod builder;
mod entities;
mod function;
mod instructions;
mod intrinsics;
mod module;
mod types;

pub use entities::*;
pub use function::*;
pub use instructions::*;
pub use intrinsics::Intrinsic;
pub use module::*;
pub use types::{TagType, Type};
