//! Comment attachment: every `;` comment goes to an anchor for the printer.
//!
//! Own-line comments lead the next anchor (item, stack slot, block header, instruction,
//! closing brace of a function, or the end of the file); end-of-line comments trail the last
//! anchor that starts before them, which is the one starting on their line except inside
//! items that span lines. Comments before the first item and before the last blank line
//! preceding it go to the head of the file.

use crate::ir::*;

use super::parser::Parser;

impl Parser<'_> {
    pub fn attach_comments(&mut self) {
        if self.comments.is_empty() {
            return;
        }
        let eof = self
            .toks
            .last()
            .map_or((self.text.len() as u32, 0), |t| (t.start, t.line));
        self.anchors.push((eof.0, eof.1, Anchor::FileEnd));
        self.anchors.sort_by_key(|a| a.0);
        // Comments before the first item and before the last blank line preceding it go to
        // the head of the file.
        let head_limit = match self.anchors.first() {
            Some(&(_, line, Anchor::Item(_))) => self
                .blank_lines
                .iter()
                .copied()
                .take_while(|&b| b < line)
                .last()
                .unwrap_or(0),
            _ => 0,
        };
        let mut out = Vec::with_capacity(self.comments.len());
        for c in &self.comments {
            let text = self
                .text
                .get(c.text.0 as usize..c.text.1 as usize)
                .unwrap_or("")
                .to_string();
            let (anchor, placement) = if c.own_line {
                let i = self.anchors.partition_point(|a| a.0 <= c.pos);
                let anchor = self.anchors.get(i).map_or(Anchor::FileEnd, |a| a.2);
                if i == 0 && c.line < head_limit {
                    (Anchor::FileStart, Placement::Leading)
                } else {
                    (anchor, Placement::Leading)
                }
            } else {
                let i = self.anchors.partition_point(|a| a.0 < c.pos);
                match i.checked_sub(1).and_then(|i| self.anchors.get(i)) {
                    Some(a) => (a.2, Placement::Trailing),
                    None => (Anchor::FileEnd, Placement::Leading),
                }
            };
            out.push(Comment {
                anchor,
                placement,
                text,
            });
        }
        self.module.comments = out;
    }
}
