//! The structured form of a function's control flow: what the structurer produces and the
//! code emitter consumes.
//!
//! A [`Node`] sequence is wasm's control structure over the IR blocks, in emission order.
//! It nests properly (`Block`/`Loop`/`If` each matched by one `End`, `Else` only inside an
//! `If`), every branch depth refers to an enclosing construct, and every IR block in the
//! layout that is reachable from the entry appears in exactly one [`Node::Code`]. The
//! emitter turns each node into instructions; it adds nothing but the function's final `end`
//! (and an `unreachable` before it when control could fall off a function with results).
//! All wasm `block`, `loop` and `if` constructs are typed `[] -> []`: values cross them in
//! locals.
//!
//! The structurer also guarantees: `Code(x)` is immediately followed by `If(x)` or
//! `BrTable { from: x, .. }` when `x` ends in a `br_if` or `br_table` (so the condition or
//! index can stay on the operand stack); an `Edge` appears only when the target has
//! parameters; every `Block` and `Loop` is the target of some branch.

use crate::ir::Block;

/// One step of the structured control flow.
///
/// With an explicit tag byte (`repr(u8)`), telling the variants apart is a byte compare
/// instead of decoding the niche in the `BrTable`'s vector: every pass over the nodes
/// (structuring, value analysis, encoding) matches each one.
#[derive(Clone, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Node {
    /// Open a wasm `block`.
    Block,
    /// Open a wasm `loop` whose start is the given IR block's code (a loop header).
    Loop(Block),
    /// Push the condition of the given block's `br_if` terminator, then open a wasm `if`.
    If(Block),
    /// The `else` of the innermost `If`.
    Else,
    /// Close the innermost `Block`, `Loop` or `If`.
    End,
    /// The instructions of the IR block, without its terminator.
    Code(Block),
    /// The block-argument copies of one edge: the terminator of `from`, its destination
    /// number `dest` (in `DataFlowGraph::for_each_dest` order). Emitted right before control
    /// leaves along that edge (before the `Br`, the fallthrough, or the inlined target).
    Edge {
        /// The branching block.
        from: Block,
        /// Which destination of its terminator.
        dest: u32,
    },
    /// `br` to the construct `depth` levels out (0 is the innermost).
    Br(u32),
    /// Push the index of the given block's `br_table` terminator, then `br_table` with these
    /// depths for the table entries and the default.
    BrTable {
        /// The block whose terminator is the `br_table`.
        from: Block,
        /// Depth for each table entry.
        depths: Vec<u32>,
        /// Depth for the default.
        default: u32,
    },
    /// Push the operands of the given block's `return` terminator, then `return`.
    Return(Block),
    /// `unreachable`.
    Unreachable,
}
