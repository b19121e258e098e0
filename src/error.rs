//! Diagnostics and the crate's error type.
//!
//! Every stage reports problems in input as [`Diagnostic`]s: a location, a message and
//! optional notes. They render in one format, `path:line:col: error: message`, followed by
//! `note:` lines, which the CLI prints and the tests snapshot.

use std::fmt;

use crate::ir::Loc;

/// One problem found in the input.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Diagnostic {
    /// Where; unknown for IR made by the builder.
    pub loc: Loc,
    /// What is wrong.
    pub message: String,
    /// Context: the entity, the instruction, the other places involved.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic without notes.
    pub fn new(loc: Loc, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            loc,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Renders as `path:line:col: error: message` plus `  note: ...` lines, each line ending
    /// in a newline.
    pub fn render(&self, path: &str) -> String {
        let mut out = if self.loc.is_known() {
            format!(
                "{path}:{}:{}: error: {}\n",
                self.loc.line, self.loc.col, self.message
            )
        } else {
            format!("{path}: error: {}\n", self.message)
        };
        for note in &self.notes {
            out.push_str("  note: ");
            out.push_str(note);
            out.push('\n');
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loc.is_known() {
            write!(f, "{}:{}: ", self.loc.line, self.loc.col)?;
        }
        f.write_str(&self.message)
    }
}

/// The problems a stage found, in source order where locations are known.
#[derive(Clone, PartialEq, Eq, Debug, Default, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Renders every diagnostic for the file at `path`.
    pub fn render(&self, path: &str) -> String {
        self.0.iter().map(|d| d.render(path)).collect()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}
