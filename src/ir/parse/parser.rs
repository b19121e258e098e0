//! The parser's core: its state, token access, and literals (integers, floats, strings,
//! names, types) shared by the item headers (`items.rs`, phase 1) and the function bodies
//! (`body.rs` and `inst.rs`, phase 2).
//!
//! Errors: a syntax error stops parsing (`Err` through `?`); problems that do not hinder
//! parsing (unresolved names, duplicate definitions, out-of-range numbers) are collected in
//! `errors` and parsing goes on.

use std::collections::HashMap;

use crate::error::Diagnostic;
use crate::ir::*;

use super::items::DataFixup;
use super::lexer::{CommentTok, Lexed, TokKind, Token};

/// A result whose error is a syntax error that stops parsing.
pub(super) type PResult<T> = Result<T, Diagnostic>;

/// The largest value, block or slot number the text may use (2^24 - 1).
pub(super) const MAX_ENTITY: u64 = (1 << 24) - 1;

/// Parser state for one module.
pub(super) struct Parser<'a> {
    pub text: &'a str,
    pub toks: Vec<Token>,
    /// Index of the next token.
    pub pos: usize,
    /// While reading a one-line construct (instruction, block header, stack slot), its line:
    /// tokens of later lines then look like [`TokKind::Eol`]. 0 otherwise.
    pub line_limit: u32,
    pub lex_error: Option<String>,
    pub comments: Vec<CommentTok>,
    pub blank_lines: Vec<u32>,
    pub module: Module,
    /// The first item of each symbol name.
    pub symbols: HashMap<String, Item>,
    /// Enums by name.
    pub enums: HashMap<String, EnumRef>,
    /// Collected (non-fatal) problems.
    pub errors: Vec<Diagnostic>,
    /// Comment anchors: byte offset and line of their first token.
    pub anchors: Vec<(u32, u32, Anchor)>,
    /// Function bodies to parse in phase 2: the function and the index of its `{` token.
    pub bodies: Vec<(FuncRef, usize)>,
    pub fixups: Vec<DataFixup>,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str, lexed: Lexed) -> Parser<'a> {
        Parser {
            text,
            toks: lexed.tokens,
            pos: 0,
            line_limit: 0,
            lex_error: lexed.error,
            comments: lexed.comments,
            blank_lines: lexed.blank_lines,
            module: Module::default(),
            symbols: HashMap::new(),
            enums: HashMap::new(),
            errors: Vec::new(),
            anchors: Vec::new(),
            bodies: Vec::new(),
            fixups: Vec::new(),
        }
    }

    // ----- tokens -----

    pub fn peek(&self) -> Token {
        self.peek_at(0)
    }

    pub fn peek_at(&self, ahead: usize) -> Token {
        let last = self.toks.len().saturating_sub(1);
        let i = (self.pos + ahead).min(last);
        let Some(&t) = self.toks.get(i) else {
            return Token {
                kind: TokKind::Eof,
                start: self.text.len() as u32,
                end: self.text.len() as u32,
                line: 0,
                col: 0,
            };
        };
        if self.line_limit == 0 || t.line == self.line_limit || t.kind == TokKind::Eof {
            return t;
        }
        // The end of the limiting line, just after the last token on it.
        match i.checked_sub(1).and_then(|j| self.toks.get(j)) {
            Some(&prev) => Token {
                kind: TokKind::Eol,
                start: prev.end,
                end: prev.end,
                line: prev.line,
                col: prev.col + self.tok_text(prev).chars().count() as u32,
            },
            None => Token {
                kind: TokKind::Eol,
                ..t
            },
        }
    }

    pub fn next(&mut self) -> Token {
        let t = self.peek();
        if !matches!(t.kind, TokKind::Eof | TokKind::Error | TokKind::Eol) {
            self.pos += 1;
        }
        t
    }

    pub fn tok_text(&self, t: Token) -> &'a str {
        self.text
            .get(t.start as usize..t.end as usize)
            .unwrap_or("")
    }

    pub fn describe(&self, t: Token) -> String {
        match t.kind {
            TokKind::Eof => "end of file".to_string(),
            TokKind::Eol => "end of line".to_string(),
            _ => format!("'{}'", self.tok_text(t)),
        }
    }

    /// A syntax error at `t`: `expected WHAT, found 'TOKEN'`, or the lexer's message if `t`
    /// is where lexing failed.
    pub fn unexpected(&self, t: Token, what: &str) -> Diagnostic {
        if t.kind == TokKind::Error {
            let msg = self
                .lex_error
                .clone()
                .unwrap_or_else(|| "invalid token".into());
            return Diagnostic::new(t.loc(), msg);
        }
        Diagnostic::new(
            t.loc(),
            format!("expected {what}, found {}", self.describe(t)),
        )
    }

    pub fn expect(&mut self, kind: TokKind, what: &str) -> PResult<Token> {
        let t = self.peek();
        if t.kind == kind {
            self.pos += 1;
            Ok(t)
        } else {
            Err(self.unexpected(t, what))
        }
    }

    pub fn eat(&mut self, kind: TokKind) -> bool {
        if self.peek().kind == kind {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn is_word(&self, t: Token, w: &str) -> bool {
        t.kind == TokKind::Word && self.tok_text(t) == w
    }

    pub fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(self.peek(), w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub fn expect_word(&mut self, w: &str, what: &str) -> PResult<Token> {
        let t = self.peek();
        if self.is_word(t, w) {
            self.pos += 1;
            Ok(t)
        } else {
            Err(self.unexpected(t, what))
        }
    }

    pub fn error(&mut self, loc: Loc, msg: impl Into<String>) {
        self.errors.push(Diagnostic::new(loc, msg));
    }

    pub fn anchor(&mut self, t: Token, anchor: Anchor) {
        if !self.comments.is_empty() {
            self.anchors.push((t.start, t.line, anchor));
        }
    }

    // ----- literals -----

    /// The bytes of a string literal token, escapes decoded.
    pub fn string_bytes(&self, t: Token) -> PResult<Vec<u8>> {
        let raw = self.tok_text(t);
        let inner = raw
            .strip_prefix(['@', '%'])
            .unwrap_or(raw)
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .unwrap_or("");
        let b = inner.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'\\' {
                out.push(b[i]);
                i += 1;
                continue;
            }
            let esc = b.get(i + 1).copied().unwrap_or(0);
            let byte = match esc {
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'\\' => Some(b'\\'),
                b'"' => Some(b'"'),
                b'\'' => Some(b'\''),
                _ => None,
            };
            if let Some(byte) = byte {
                out.push(byte);
                i += 2;
                continue;
            }
            let hex = |c: u8| (c as char).to_digit(16);
            match (hex(esc), b.get(i + 2).and_then(|&c| hex(c))) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    let prefix = raw.len() - inner.len() - 1 + i;
                    let col = t.col + raw.get(..prefix).map_or(0, |s| s.chars().count()) as u32;
                    let shown: String = inner.get(i..).unwrap_or("").chars().take(2).collect();
                    return Err(Diagnostic::new(
                        Loc { line: t.line, col },
                        format!("invalid escape '{shown}' in string"),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// A string literal as UTF-8 text (names, import fields, section names).
    pub fn string_text(&self, t: Token) -> PResult<String> {
        String::from_utf8(self.string_bytes(t)?)
            .map_err(|_| Diagnostic::new(t.loc(), "name is not valid UTF-8"))
    }

    /// The name of a `@name` or `%name` token, unquoted.
    pub fn sym_name(&self, t: Token) -> PResult<String> {
        let text = self.tok_text(t);
        match text.get(1..) {
            Some(rest) if rest.starts_with('"') => self.string_text(t),
            Some(rest) => Ok(rest.to_string()),
            None => Ok(String::new()),
        }
    }

    /// An integer: optional `-`, then decimal or hex digits. Returns the value and the
    /// location of its first token.
    pub fn parse_int(&mut self, what: &str) -> PResult<(i128, Loc)> {
        let first = self.peek();
        let neg = self.eat(TokKind::Minus);
        let t = self.expect(TokKind::Int, what)?;
        let text = self.tok_text(t);
        let mag = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u128::from_str_radix(hex, 16).ok(),
            None => text.parse::<u128>().ok(),
        };
        let mag = mag
            .and_then(|m| i128::try_from(m).ok())
            .ok_or_else(|| Diagnostic::new(first.loc(), format!("integer {text} is too large")))?;
        Ok((if neg { -mag } else { mag }, first.loc()))
    }

    /// Reports `v` unless `lo <= v <= hi`; returns `v` either way.
    pub fn check_fit(&mut self, v: i128, lo: i128, hi: i128, ty: &str, loc: Loc) -> i128 {
        if v < lo || v > hi {
            self.error(loc, format!("integer {v} does not fit in {ty}"));
        }
        v
    }

    /// An integer of `bits` bits in signed or unsigned form, as a zero-extended bit pattern.
    pub fn parse_int_bits(&mut self, bits: u32, ty: &str, what: &str) -> PResult<u64> {
        let (v, loc) = self.parse_int(what)?;
        let lo = -(1i128 << (bits - 1));
        let hi = (1i128 << bits) - 1;
        let v = self.check_fit(v, lo, hi, ty, loc);
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        Ok((v as u64) & mask)
    }

    /// An unsigned 32-bit number (sizes, offsets, priorities).
    pub fn parse_u32(&mut self, what: &str) -> PResult<u32> {
        let (v, loc) = self.parse_int(what)?;
        Ok(self.check_fit(v, 0, u32::MAX.into(), "u32", loc) as u32)
    }

    /// An alignment: a power of two.
    pub fn parse_align(&mut self, what: &str) -> PResult<u32> {
        let loc = self.peek().loc();
        let a = self.parse_u32(what)?;
        if !a.is_power_of_two() {
            self.error(loc, format!("alignment {a} is not a power of two"));
        }
        Ok(a)
    }

    /// A float of type `ty` (`F32` or `F64`), as a bit pattern (`f32` in the low bits).
    pub fn parse_float(&mut self, ty: Type) -> PResult<u64> {
        let first = self.peek();
        let neg = self.eat(TokKind::Minus);
        let t = self.next();
        let text = self.tok_text(t);
        let f32 = ty == Type::F32;
        let (sign, mant_bits, quiet) = if f32 {
            (1u64 << 31, 23u32, 1u64 << 22)
        } else {
            (1u64 << 63, 52u32, 1u64 << 51)
        };
        let exp_all = if f32 { 0xffu64 << 23 } else { 0x7ffu64 << 52 };
        let bits = match t.kind {
            TokKind::Int | TokKind::Float if !text.starts_with("0x") && !text.starts_with("0X") => {
                let bad = || Diagnostic::new(t.loc(), format!("invalid float '{text}'"));
                if f32 {
                    u64::from(text.parse::<f32>().map_err(|_| bad())?.to_bits())
                } else {
                    text.parse::<f64>().map_err(|_| bad())?.to_bits()
                }
            }
            TokKind::Word if text == "inf" => exp_all,
            TokKind::Word if text == "nan" => {
                let mut payload = quiet;
                if self.peek().kind == TokKind::Colon {
                    self.pos += 1;
                    let ploc = self.peek().loc();
                    let p = self.expect(TokKind::Int, "a NaN payload")?;
                    let ptext = self.tok_text(p);
                    let v = ptext
                        .strip_prefix("0x")
                        .and_then(|h| u64::from_str_radix(h, 16).ok())
                        .filter(|&v| v != 0 && v < (1u64 << mant_bits));
                    payload = v.ok_or_else(|| {
                        Diagnostic::new(ploc, format!("invalid NaN payload '{ptext}' for {ty}"))
                    })?;
                }
                exp_all | payload
            }
            _ => return Err(self.unexpected(t, &format!("a {ty} constant"))),
        };
        let _ = first;
        Ok(if neg { bits ^ sign } else { bits })
    }

    /// A value type.
    pub fn parse_type(&mut self, what: &str) -> PResult<Type> {
        let t = self.peek();
        if t.kind == TokKind::Word
            && let Some(ty) = Type::from_name(self.tok_text(t))
        {
            self.pos += 1;
            return Ok(ty);
        }
        Err(self.unexpected(t, what))
    }

    /// `( TYPE, ... )`.
    pub fn parse_type_list_parens(&mut self, out: &mut Vec<Type>) -> PResult<()> {
        self.expect(TokKind::LParen, "'('")?;
        if self.eat(TokKind::RParen) {
            return Ok(());
        }
        loop {
            out.push(self.parse_type("a type")?);
            let t = self.next();
            match t.kind {
                TokKind::Comma => {}
                TokKind::RParen => return Ok(()),
                _ => return Err(self.unexpected(t, "',' or ')' after parameter type")),
            }
        }
    }

    /// `-> TYPE, ...` if present.
    pub fn parse_results(&mut self, out: &mut Vec<Type>) -> PResult<()> {
        if self.eat(TokKind::Arrow) {
            out.push(self.parse_type("a result type")?);
            while self.eat(TokKind::Comma) {
                out.push(self.parse_type("a result type")?);
            }
        }
        Ok(())
    }
}
