//! A tiny frontend: a statement language with integer variables, `while`, `if`/`else` and
//! `return`, parsed by hand and compiled through [`FunctionBuilder`] into a kiln module,
//! which is printed, verified and run in the interpreter.
//!
//! ```text
//! program := stmt*
//! stmt    := NAME '=' expr ';' | 'while' expr block | 'if' expr block ('else' block)?
//!          | 'return' expr ';'
//! block   := '{' stmt* '}'
//! expr    := sum (('<' | '>' | '<=' | '>=' | '==' | '!=') sum)?
//! sum     := term (('+' | '-') term)*
//! term    := atom (('*' | '/' | '%') atom)*
//! atom    := NUMBER | NAME | '(' expr ')'
//! ```
//!
//! Every value is an `i64`; comparisons give 0 or 1. The program is the body of
//! `@calc(i64 n) -> i64`: `n` holds the argument, a variable never assigned reads as 0, and
//! falling off the end returns 0. Run with `cargo run --example calc`.

use std::collections::HashMap;

use kiln::interp::{Instance, Val};
use kiln::ir::builder::{FunctionBuilder, Variable};
use kiln::ir::{BinaryOp, ConvertOp, FuncDecl, Linkage, Loc, Module, Signature, Type};

const PROGRAM: &str = "
    a = 0; b = 1; i = 0;
    while i < n {       # Fibonacci
        t = a + b; a = b; b = t;
        i = i + 1;
    }
    if a % 2 == 0 { parity = 0; } else { parity = 1; }
    if n > 90 { return 0 - 1; }
    return a * 10 + parity;
";

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Sym(&'static str),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    const SYMS: [&str; 17] = [
        "<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "{", "}", "=", ";",
    ];
    let mut toks = Vec::new();
    let mut rest = src;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if c == '#' {
            rest = rest.find('\n').map_or("", |i| &rest[i..]);
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            toks.push(if c.is_ascii_digit() {
                Tok::Num(word.parse().map_err(|_| format!("bad number `{word}`"))?)
            } else {
                Tok::Name(word.to_string())
            });
            rest = &rest[end..];
        } else if let Some(s) = SYMS.iter().find(|s| rest.starts_with(**s)) {
            toks.push(Tok::Sym(s));
            rest = &rest[s.len()..];
        } else {
            return Err(format!("unexpected character `{c}`"));
        }
    }
    Ok(toks)
}

/// Parses and compiles in one pass: each statement is emitted as soon as it is read.
struct Compiler<'a> {
    toks: Vec<Tok>,
    pos: usize,
    b: FunctionBuilder<'a>,
    vars: HashMap<String, Variable>,
}

impl Compiler<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, sym: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym);
        self.pos += usize::from(hit);
        hit
    }

    fn expect(&mut self, sym: &str) -> Result<(), String> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err(format!("expected `{sym}`, found {:?}", self.peek()))
        }
    }

    fn var(&mut self, name: &str) -> Variable {
        if let Some(&v) = self.vars.get(name) {
            return v;
        }
        let v = self.b.declare_var(Type::I64);
        self.vars.insert(name.to_string(), v);
        v
    }

    /// After `return`, later statements go to a fresh block that nothing branches to.
    fn ensure_open_block(&mut self) {
        if self.b.is_filled() {
            let dead = self.b.create_block();
            self.b.switch_to_block(dead);
            self.b.seal_block(dead);
        }
    }

    fn block(&mut self) -> Result<(), String> {
        self.expect("{")?;
        while !self.eat("}") {
            self.stmt()?;
        }
        Ok(())
    }

    fn stmt(&mut self) -> Result<(), String> {
        self.ensure_open_block();
        match self.peek().cloned() {
            Some(Tok::Name(kw)) if kw == "while" => {
                self.pos += 1;
                let (header, body, exit) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                self.b.jump(header, &[]);
                self.b.switch_to_block(header);
                let c = self.cond()?;
                self.b.br_if(c, body, &[], exit, &[]);
                self.b.switch_to_block(body);
                self.b.seal_block(body);
                self.block()?;
                if !self.b.is_filled() {
                    self.b.jump(header, &[]);
                }
                self.b.seal_block(header); // the back edges are in
                self.b.switch_to_block(exit);
                self.b.seal_block(exit);
            }
            Some(Tok::Name(kw)) if kw == "if" => {
                self.pos += 1;
                let (then_b, else_b, merge) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                let c = self.cond()?;
                self.b.br_if(c, then_b, &[], else_b, &[]);
                for (arm, block) in [(0, then_b), (1, else_b)] {
                    self.b.switch_to_block(block);
                    self.b.seal_block(block);
                    if arm == 0 || self.eat_keyword("else") {
                        self.block()?;
                    }
                    if !self.b.is_filled() {
                        self.b.jump(merge, &[]);
                    }
                }
                self.b.switch_to_block(merge);
                self.b.seal_block(merge);
            }
            Some(Tok::Name(kw)) if kw == "return" => {
                self.pos += 1;
                let v = self.expr()?;
                self.expect(";")?;
                self.b.ret(&[v]);
            }
            Some(Tok::Name(name)) => {
                self.pos += 1;
                self.expect("=")?;
                let v = self.expr()?;
                self.expect(";")?;
                let var = self.var(&name);
                self.b.def_var(var, v);
            }
            other => return Err(format!("expected a statement, found {other:?}")),
        }
        Ok(())
    }

    fn eat_keyword(&mut self, kw: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Name(n)) if n == kw);
        self.pos += usize::from(hit);
        hit
    }

    /// An expression as a branch condition: non-zero is true.
    fn cond(&mut self) -> Result<kiln::ir::Value, String> {
        let v = self.expr()?;
        let zero = self.b.iconst(Type::I64, 0);
        Ok(self.b.binary(BinaryOp::Ne, Type::I64, v, zero))
    }

    fn expr(&mut self) -> Result<kiln::ir::Value, String> {
        let lhs = self.sum()?;
        let ops = [
            ("<=", BinaryOp::LeS),
            (">=", BinaryOp::GeS),
            ("==", BinaryOp::Eq),
            ("!=", BinaryOp::Ne),
            ("<", BinaryOp::LtS),
            (">", BinaryOp::GtS),
        ];
        for (sym, op) in ops {
            if self.eat(sym) {
                let rhs = self.sum()?;
                let flag = self.b.binary(op, Type::I64, lhs, rhs);
                return Ok(self.b.convert(ConvertOp::I64ExtendI32U, flag));
            }
        }
        Ok(lhs)
    }

    fn binary_chain(
        &mut self,
        ops: &[(&str, BinaryOp)],
        next: fn(&mut Self) -> Result<kiln::ir::Value, String>,
    ) -> Result<kiln::ir::Value, String> {
        let mut lhs = next(self)?;
        'outer: loop {
            for &(sym, op) in ops {
                if self.eat(sym) {
                    let rhs = next(self)?;
                    lhs = self.b.binary(op, Type::I64, lhs, rhs);
                    continue 'outer;
                }
            }
            return Ok(lhs);
        }
    }

    fn sum(&mut self) -> Result<kiln::ir::Value, String> {
        self.binary_chain(&[("+", BinaryOp::Add), ("-", BinaryOp::Sub)], Self::term)
    }

    fn term(&mut self) -> Result<kiln::ir::Value, String> {
        let ops = [
            ("*", BinaryOp::Mul),
            ("/", BinaryOp::DivS),
            ("%", BinaryOp::RemS),
        ];
        self.binary_chain(&ops, Self::atom)
    }

    fn atom(&mut self) -> Result<kiln::ir::Value, String> {
        let tok = self.peek().cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Num(n)) => Ok(self.b.iconst(Type::I64, n)),
            Some(Tok::Name(name)) => {
                let var = self.var(&name);
                Ok(self.b.use_var(var))
            }
            Some(Tok::Sym("(")) => {
                let v = self.expr()?;
                self.expect(")")?;
                Ok(v)
            }
            other => Err(format!("expected an expression, found {other:?}")),
        }
    }
}

/// Compiles `src` into a module with one function, `@calc(i64 n) -> i64`.
fn compile(src: &str) -> Result<Module, String> {
    let mut module = Module::default();
    let func = module.declare_func(FuncDecl {
        name: "calc".into(),
        sig: Signature {
            params: vec![Type::I64],
            results: vec![Type::I64],
        },
        linkage: Linkage::Export,
        ctor: None,
        loc: Loc::default(),
    });
    let mut c = Compiler {
        toks: lex(src)?,
        pos: 0,
        b: FunctionBuilder::new(&mut module, func),
        vars: HashMap::new(),
    };
    let entry = c.b.entry_block_with_params();
    c.b.seal_block(entry);
    let n = c.var("n");
    let arg = c.b.block_params(entry)[0];
    c.b.def_var(n, arg);
    while c.pos < c.toks.len() {
        c.stmt()?;
    }
    if !c.b.is_filled() {
        let zero = c.b.iconst(Type::I64, 0);
        c.b.ret(&[zero]);
    }
    c.b.finalize().map_err(|e| e.to_string())?;
    Ok(module)
}

fn main() {
    let module = match compile(PROGRAM) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("calc: {e}");
            std::process::exit(1);
        }
    };
    print!("{}", kiln::ir::print(&module));
    if let Err(e) = kiln::verify::verify(&module) {
        eprintln!("calc: invalid IR:\n{}", e.render("calc"));
        std::process::exit(1);
    }
    for n in [0, 1, 10, 20, 91] {
        let mut instance = Instance::new(&module).expect("no constructors to trap");
        match instance.call("calc", &[Val::I64(n)]) {
            Ok(results) => {
                let shown: Vec<String> = results.iter().map(Val::to_string).collect();
                println!("; calc({n}) = {}", shown.join(", "));
            }
            Err(trap) => println!("; calc({n}) trapped: {}", trap.message),
        }
    }
}
