//! The lexer: source text to a vector of tokens, with comments kept aside.
//!
//! Tokens borrow nothing: each holds its byte range in the source, its line and its column
//! (1-based, counted in characters). Comments are not tokens; they go to a separate list with
//! their position and whether they stand on a line of their own, for the parser to attach to
//! anchors. A lexical error (a stray character, an unterminated string, a malformed number)
//! ends lexing with an [`TokKind::Error`] token, whose message the parser reports when it
//! reaches that token; a syntax error earlier in the text is thus still reported first.
//!
//! Words cover keywords, opcodes (`i32.add`), values (`v3`), blocks and slots: a word starts
//! with a letter, `_`, `$` or `.` and continues with letters, digits and `_ . $`. Numbers are
//! unsigned (`-` is its own token): decimal, `0x` hexadecimal, or a decimal float with a
//! fraction and/or exponent.

use crate::ir::Loc;

/// What a token is.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(super) enum TokKind {
    /// A keyword, opcode, type, value, block or slot name.
    Word,
    /// An integer literal without sign: decimal or `0x` hex.
    Int,
    /// A decimal float literal without sign, with a fraction or an exponent.
    Float,
    /// A string literal, quotes included in the range.
    Str,
    /// `@name` or `@"name"`.
    Sym,
    /// `%name` or `%"name"`.
    Enum,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `=`
    Eq,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `->`
    Arrow,
    /// A lexical error; its message is [`Lexed::error`]. Always the last token but `Eof`.
    Error,
    /// The end of the current line, where the parser reads a one-line construct; never
    /// produced by the lexer.
    Eol,
    /// The end of the input.
    Eof,
}

/// One token.
#[derive(Copy, Clone, Debug)]
pub(super) struct Token {
    /// The kind.
    pub kind: TokKind,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset after the last byte.
    pub end: u32,
    /// Line, from 1.
    pub line: u32,
    /// Column of the first character, from 1.
    pub col: u32,
}

impl Token {
    /// The token's location.
    pub fn loc(&self) -> Loc {
        Loc {
            line: self.line,
            col: self.col,
        }
    }
}

/// A `;` comment.
#[derive(Copy, Clone, Debug)]
pub(super) struct CommentTok {
    /// Byte offset of the `;`.
    pub pos: u32,
    /// Line of the comment.
    pub line: u32,
    /// Byte range of the text after the `;`, without the line end.
    pub text: (u32, u32),
    /// Whether nothing but blanks precedes it on its line.
    pub own_line: bool,
}

/// The lexer's output.
pub(super) struct Lexed {
    /// Tokens; the last is `Eof`.
    pub tokens: Vec<Token>,
    /// Comments in source order.
    pub comments: Vec<CommentTok>,
    /// Lines (1-based) that are empty or hold only blanks.
    pub blank_lines: Vec<u32>,
    /// The message of the `Error` token, if there is one.
    pub error: Option<String>,
}

/// Whether `c` may continue a word or a name.
pub(super) fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'$')
}

/// Whether `c` may start a word.
fn is_word_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || matches!(c, b'_' | b'.' | b'$')
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    col: u32,
    /// Whether a token has been seen on the current line.
    line_has_token: bool,
    out: Lexed,
}

/// Splits `text` into tokens and comments.
pub(super) fn lex(text: &str) -> Lexed {
    let mut lx = Lexer {
        src: text.as_bytes(),
        pos: 0,
        line: 1,
        col: 1,
        line_has_token: false,
        out: Lexed {
            tokens: Vec::with_capacity(text.len() / 4 + 16),
            comments: Vec::new(),
            blank_lines: Vec::new(),
            error: None,
        },
    };
    lx.run();
    lx.out
}

impl Lexer<'_> {
    fn peek_at(&self, i: usize) -> u8 {
        self.src.get(self.pos + i).copied().unwrap_or(0)
    }

    /// Advances over one byte, counting columns in characters.
    fn bump(&mut self) {
        if let Some(&c) = self.src.get(self.pos) {
            self.pos += 1;
            if c == b'\n' {
                if !self.line_has_token && !self.line_has_comment() {
                    self.out.blank_lines.push(self.line);
                }
                self.line += 1;
                self.col = 1;
                self.line_has_token = false;
            } else if c & 0xc0 != 0x80 {
                self.col += 1;
            }
        }
    }

    fn line_has_comment(&self) -> bool {
        self.out
            .comments
            .last()
            .is_some_and(|c| c.line == self.line)
    }

    fn push(&mut self, kind: TokKind, start: usize, line: u32, col: u32) {
        self.out.tokens.push(Token {
            kind,
            start: start as u32,
            end: self.pos as u32,
            line,
            col,
        });
    }

    fn run(&mut self) {
        loop {
            let c = self.peek_at(0);
            if self.pos >= self.src.len() {
                let (line, col) = (self.line, self.col);
                self.push(TokKind::Eof, self.pos, line, col);
                return;
            }
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    self.bump();
                    continue;
                }
                b';' => {
                    self.comment();
                    continue;
                }
                _ => {}
            }
            let (start, line, col) = (self.pos, self.line, self.col);
            self.line_has_token = true;
            let kind = match c {
                b'(' => self.single(TokKind::LParen),
                b')' => self.single(TokKind::RParen),
                b'{' => self.single(TokKind::LBrace),
                b'}' => self.single(TokKind::RBrace),
                b'[' => self.single(TokKind::LBracket),
                b']' => self.single(TokKind::RBracket),
                b',' => self.single(TokKind::Comma),
                b':' => self.single(TokKind::Colon),
                b'=' => self.single(TokKind::Eq),
                b'+' => self.single(TokKind::Plus),
                b'-' => {
                    self.bump();
                    if self.peek_at(0) == b'>' {
                        self.bump();
                        Ok(TokKind::Arrow)
                    } else {
                        Ok(TokKind::Minus)
                    }
                }
                b'"' => self.string().map(|()| TokKind::Str),
                b'@' => self.name("'@'").map(|()| TokKind::Sym),
                b'%' => self.name("'%'").map(|()| TokKind::Enum),
                b'0'..=b'9' => self.number(),
                c if is_word_start(c) => {
                    while is_name_byte(self.peek_at(0)) {
                        self.bump();
                    }
                    Ok(TokKind::Word)
                }
                _ => {
                    let ch = std::str::from_utf8(&self.src[self.pos..])
                        .ok()
                        .and_then(|s| s.chars().next())
                        .unwrap_or('?');
                    Err(format!("unexpected character '{}'", ch.escape_debug()))
                }
            };
            match kind {
                Ok(kind) => self.push(kind, start, line, col),
                Err(msg) => {
                    self.pos = start;
                    self.push(TokKind::Error, start, line, col);
                    self.out.error = Some(msg);
                    self.pos = self.src.len();
                    self.push(TokKind::Eof, self.src.len(), line, col);
                    return;
                }
            }
        }
    }

    fn single(&mut self, kind: TokKind) -> Result<TokKind, String> {
        self.bump();
        Ok(kind)
    }

    fn comment(&mut self) {
        let pos = self.pos;
        let own_line = !self.line_has_token;
        self.bump();
        let text_start = self.pos;
        while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
            self.pos += 1;
        }
        let mut text_end = self.pos;
        if text_end > text_start && self.src[text_end - 1] == b'\r' {
            text_end -= 1;
        }
        self.out.comments.push(CommentTok {
            pos: pos as u32,
            line: self.line,
            text: (text_start as u32, text_end as u32),
            own_line,
        });
    }

    /// A string literal starting at the current `"`; escapes are checked by the parser.
    fn string(&mut self) -> Result<(), String> {
        self.bump();
        loop {
            match self.peek_at(0) {
                b'"' => {
                    self.bump();
                    return Ok(());
                }
                b'\\' => {
                    self.bump();
                    if self.pos < self.src.len() && self.peek_at(0) != b'\n' {
                        self.bump();
                    }
                }
                b'\n' => return Err("unterminated string".into()),
                _ if self.pos >= self.src.len() => return Err("unterminated string".into()),
                _ => self.bump(),
            }
        }
    }

    /// A name after `@` or `%`: a quoted string or name characters.
    fn name(&mut self, what: &str) -> Result<(), String> {
        self.bump();
        let c = self.peek_at(0);
        if c == b'"' {
            self.string()
        } else if is_name_byte(c) {
            while is_name_byte(self.peek_at(0)) {
                self.bump();
            }
            Ok(())
        } else {
            Err(format!("expected a name after {what}"))
        }
    }

    fn number(&mut self) -> Result<TokKind, String> {
        let start = self.pos;
        let mut kind = TokKind::Int;
        if self.peek_at(0) == b'0' && matches!(self.peek_at(1), b'x' | b'X') {
            self.bump();
            self.bump();
            let digits = self.pos;
            while self.peek_at(0).is_ascii_hexdigit() {
                self.bump();
            }
            if self.pos == digits {
                return Err(self.bad_number(start));
            }
        } else {
            while self.peek_at(0).is_ascii_digit() {
                self.bump();
            }
            if self.peek_at(0) == b'.' && self.peek_at(1).is_ascii_digit() {
                kind = TokKind::Float;
                self.bump();
                while self.peek_at(0).is_ascii_digit() {
                    self.bump();
                }
            }
            if matches!(self.peek_at(0), b'e' | b'E') {
                let sign = usize::from(matches!(self.peek_at(1), b'+' | b'-'));
                if self.peek_at(1 + sign).is_ascii_digit() {
                    kind = TokKind::Float;
                    for _ in 0..=sign {
                        self.bump();
                    }
                    while self.peek_at(0).is_ascii_digit() {
                        self.bump();
                    }
                }
            }
        }
        if is_name_byte(self.peek_at(0)) {
            return Err(self.bad_number(start));
        }
        Ok(kind)
    }

    fn bad_number(&self, start: usize) -> String {
        let mut end = self.pos;
        while self.src.get(end).is_some_and(|&c| is_name_byte(c)) {
            end += 1;
        }
        let text = String::from_utf8_lossy(self.src.get(start..end).unwrap_or_default());
        format!("invalid number '{text}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokKind> {
        lex(text).tokens.iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tokens() {
        use TokKind::*;
        assert_eq!(
            kinds("v1 = i32.const -0x1f ; hi\n@f(%E.A, \"s\\\"\") -> 1.5e-3 2e3 3"),
            vec![
                Word, Eq, Word, Minus, Int, Sym, LParen, Enum, Comma, Str, RParen, Arrow, Float,
                Float, Int, Eof
            ]
        );
        let l = lex("a ; x\n  ; own\n\n b");
        assert_eq!(l.comments.len(), 2);
        assert!(!l.comments[0].own_line);
        assert!(l.comments[1].own_line);
        assert_eq!(l.blank_lines, vec![3]);
        assert_eq!((l.tokens[1].line, l.tokens[1].col), (4, 2));
    }

    #[test]
    fn columns_count_chars() {
        let l = lex("\"é\" x");
        assert_eq!(l.tokens[1].col, 5);
    }

    #[test]
    fn errors_end_the_stream() {
        let l = lex("a \"abc\nb");
        assert_eq!(l.tokens[1].kind, TokKind::Error);
        assert_eq!(l.error.as_deref(), Some("unterminated string"));
        assert_eq!(lex("12ab").error.as_deref(), Some("invalid number '12ab'"));
        assert_eq!(
            lex("a # b").error.as_deref(),
            Some("unexpected character '#'")
        );
        assert_eq!(
            lex("@ x").error.as_deref(),
            Some("expected a name after '@'")
        );
    }
}
