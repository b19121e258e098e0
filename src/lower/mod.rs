//! Lowering: IR functions to wasm code with relocations, collected into an
//! [`Object`](crate::object::Object).
//!
//! Per function, independently of the others: make the CFG reducible, structure it
//! ([`structured::Node`]), assign values to the operand stack or to locals, and encode.

pub mod structured;
