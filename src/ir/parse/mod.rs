//! The IR text format, read side: `.ir` text to a [`Module`].
//!
//! The lexer ([`lexer`]) turns the whole text into a token vector once; the parser then
//! reads item headers first (phase 1, `parser.rs`) and function bodies second (phase 2,
//! `body.rs`), so that any item may refer to one declared later. Comments are attached to
//! anchors (items, slots, blocks, instructions, closing braces, the ends of the file) for the
//! printer in [`super::write`], which is this parser's inverse: for every text `T` that parses,
//! `print(parse(print(parse(T)))) == print(parse(T))`.
//!
//! Errors: the first syntax error stops parsing and is the only one reported. Problems that
//! leave the text readable (unknown names, duplicate definitions, blocks used but never
//! defined, numbers that do not fit) are collected and all reported, sorted by location.
//! Nothing recurses on the input, so deep or long inputs cannot overflow the stack.

mod body;
mod comments;
mod inst;
mod items;
mod lexer;
mod parser;

#[cfg(test)]
mod tests;

use crate::error::Diagnostics;
use crate::ir::Module;

use body::BodyScratch;
use parser::Parser;

/// Parses IR text into a module.
///
/// On failure, returns the first syntax error, or every name-resolution and range problem
/// found, with their locations.
pub fn parse(text: &str) -> Result<Module, Diagnostics> {
    let lexed = lexer::lex(text);
    let mut p = Parser::new(text, lexed);
    let mut scratch = BodyScratch::default();
    let headers = p.parse_items();
    let bodies = std::mem::take(&mut p.bodies);
    if let Err(e) = headers {
        // A syntax error in a body before the header error comes first in the text.
        for &(f, start) in &bodies {
            p.parse_body(f, start, &mut scratch)?;
        }
        return Err(e.into());
    }
    for &(f, start) in &bodies {
        p.parse_body(f, start, &mut scratch)?;
    }
    if !p.errors.is_empty() {
        let mut errors = std::mem::take(&mut p.errors);
        errors.sort_by_key(|d| d.loc);
        return Err(Diagnostics(errors));
    }
    p.attach_comments();
    Ok(p.module)
}
