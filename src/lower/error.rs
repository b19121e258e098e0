//! Why a verified module cannot be lowered: a feature the target lacks, a frame too large
//! for 32-bit addresses, a name that collides with a runtime symbol lowering needs, or a
//! control-flow structure the emitter cannot follow.
//!
//! Every error names the function (or symbol) it is about.

/// An error of the lowering stage.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum LowerError {
    /// The function needs a wasm feature the target does not have.
    #[error("function @{func} {what}, which needs the {feature} feature")]
    MissingFeature {
        /// The function.
        func: String,
        /// What it does, e.g. "returns 2 values".
        what: String,
        /// The feature's name.
        feature: &'static str,
    },
    /// The function's stack slots do not fit a 32-bit frame.
    #[error("function @{func} has a stack frame of {size} bytes, more than 2 GiB")]
    FrameTooLarge {
        /// The function.
        func: String,
        /// Frame size in bytes.
        size: u64,
    },
    /// An IR item has the name of a symbol lowering defines or imports itself, with another
    /// kind or type.
    #[error("@{name} {reason}")]
    SymbolConflict {
        /// The item's name.
        name: String,
        /// What lowering needs the name for.
        reason: String,
    },
    /// The structurer failed, or produced nodes the emitter cannot follow.
    #[error("function @{func}: cannot structure its control flow: {message}")]
    Structure {
        /// The function.
        func: String,
        /// What went wrong.
        message: String,
    },
    /// A limit of wasm engines (more than 50,000 locals).
    #[error("function @{func}: {message}")]
    Limit {
        /// The function.
        func: String,
        /// What overflowed.
        message: String,
    },
}
