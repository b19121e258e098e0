//! The IR text format, read side: `.ir` text to a [`Module`].
//!
//! The lexer ([`lexer`]) turns the whole text into a token vector once; the parser then
//! reads item headers first (phase 1, `parser.rs`) and function bodies second (phase 2,
//! `body.rs`), so that any item may refer to one declared later. Comments are attached to
//! anchors (items, slots, blocks, instructions, closing braces, the ends of the file) for the
//! printer in [`super::write`], which is this parser's inverse: for every text `T` that parses,
//! `print(parse(print(parse(T)))) == print(parse(T))`.
//!
//! Errors: the first syntax error stops parsing. Problems that leave the text readable
//! (unknown names, duplicate definitions, blocks used but never defined, numbers that do not
//! fit) are collected and all reported, sorted by location; when a syntax error stops
//! parsing, those found before it are reported with it.
//! Nothing recurses on the input, so deep or long inputs cannot overflow the stack.

mod body;
mod comments;
mod inst;
mod items;
mod lexer;
mod parser;

#[cfg(test)]
mod tests;

use crate::error::{Diagnostic, Diagnostics};
use crate::ir::Module;

use body::BodyScratch;
use parser::Parser;

/// Parses IR text into a module.
///
/// On failure, returns every name-resolution and range problem found, with their
/// locations, up to and including the first syntax error if there is one.
pub fn parse(text: &str) -> Result<Module, Diagnostics> {
    let lexed = lexer::lex(text);
    let mut p = Parser::new(text, lexed);
    let mut scratch = BodyScratch::default();
    let headers = p.parse_items();
    let bodies = std::mem::take(&mut p.bodies);
    if let Err(e) = headers {
        // A syntax error in a body before the header error comes first in the text. Names in
        // those bodies cannot be resolved reliably (later items are unknown), so only the
        // problems phase 1 found are kept.
        let kept = p.errors.len();
        for &(f, start) in &bodies {
            if let Err(e2) = p.parse_body(f, start, &mut scratch) {
                p.errors.truncate(kept);
                return Err(fail(p.errors, e2));
            }
        }
        p.errors.truncate(kept);
        return Err(fail(p.errors, e));
    }
    for &(f, start) in &bodies {
        if let Err(e) = p.parse_body(f, start, &mut scratch) {
            return Err(fail(p.errors, e));
        }
    }
    if !p.errors.is_empty() {
        let mut errors = std::mem::take(&mut p.errors);
        errors.sort_by_key(|d| d.loc);
        return Err(Diagnostics(errors));
    }
    p.attach_comments();
    Ok(p.module)
}

/// The diagnostics when parsing stopped at `syntax`: the problems collected before it, in
/// order, then the syntax error.
fn fail(mut collected: Vec<Diagnostic>, syntax: Diagnostic) -> Diagnostics {
    collected.retain(|d| d.loc < syntax.loc);
    collected.sort_by_key(|d| d.loc);
    collected.push(syntax);
    Diagnostics(collected)
}
