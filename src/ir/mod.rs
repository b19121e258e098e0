//! The typed IR: module, functions, instructions, types, and their text format.
//!
//! See `ir/README.md` in the repository for the language reference.

pub mod builder;
mod entities;
mod function;
mod instructions;
mod intrinsics;
mod module;
mod parse;
mod types;
mod write;

pub use entities::*;
pub use function::*;
pub use instructions::*;
pub use intrinsics::Intrinsic;
pub use module::*;
pub use parse::parse;
pub use types::{TagType, Type};
pub use write::{print, print_function, print_inst};
