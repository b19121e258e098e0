//! The IR verifier: checks that a [`Module`] is well formed before anything lowers or runs it.
//!
//! [`verify`] accepts any module at all, whether the parser made it or a frontend assembled it
//! through the public fields, and never panics: every entity reference is looked up with
//! `get` and reported when it points nowhere, value lists are bounds-checked against their
//! pool (see `func`), and the control-flow analysis is iterative. It reports every problem it
//! finds, not just the first, sorted by source location; each names the entity involved in a
//! note (`in function @f, block2`, the printed instruction).
//!
//! What it checks:
//! - module level (`items`): one symbol namespace for functions, globals and data and one for
//!   enums, the item list, globals (initial value width), data objects (section, alignment,
//!   items and their references), enums (tag type, value ranges, duplicates), function
//!   declarations (constructors, extern functions without bodies, defined ones with);
//! - function level (`func`): layout and block structure, terminators, definitions and
//!   result counts, operand types of every instruction, references to module and function
//!   entities, block arguments, the entry block against the signature, memory alignment, and
//!   that every use is defined and dominated by its definition (`dom`).
//!
//! Choices where `ir/README.md` is silent: alignments of data objects and stack slots are at
//! most 64 KiB; `stack_addr ssN + N` may point one past the end of the slot but no further;
//! an integer data item's value has no bits above its width (the parser truncates); extern
//! data carries no thread-locality, so both `data_addr` and `tls_addr` may name it.
//!
//! Time is linear in the size of the module, apart from the dominator fixed point, which is
//! near-linear on real control flow.

mod dom;
mod func;
mod items;
#[cfg(test)]
mod tests;

use crate::error::{Diagnostic, Diagnostics};
use crate::ir::{Loc, Module};

/// Checks `module` and returns every problem found, sorted by location (problems without a
/// location, from builder-made IR, come first, in the order found).
pub fn verify(module: &Module) -> Result<(), Diagnostics> {
    let mut errors = Vec::new();
    items::check(module, &mut errors);
    func::check_all(module, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by_key(|d: &Diagnostic| d.loc);
        Err(Diagnostics(errors))
    }
}

/// The largest alignment the verifier accepts for data objects and stack slots (64 KiB, a
/// wasm page).
const MAX_ALIGN: u32 = 1 << 16;

/// Checks an alignment of a data object or stack slot; returns the message if it is bad.
fn check_align(align: u32) -> Option<String> {
    if !align.is_power_of_two() {
        Some(format!("alignment {align} is not a power of two"))
    } else if align > MAX_ALIGN {
        Some(format!(
            "alignment {align} is too large (at most {MAX_ALIGN})"
        ))
    } else {
        None
    }
}

/// Formats a location for a note: `line:col`, or `an unknown location`.
fn describe_loc(loc: Loc) -> String {
    if loc.is_known() {
        format!("{}:{}", loc.line, loc.col)
    } else {
        "an unknown location".to_string()
    }
}
