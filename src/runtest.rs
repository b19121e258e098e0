//! The corpus conventions: `; run:` lines that state what a program computes, and
//! `; error:` markers that state which diagnostic a bad program gets on which line.
//!
//! Both are read from the source text, not from the parsed module, so that a file that does
//! not parse can still be checked against its markers. `kiln test` and the test suite use
//! [`test_source`]; later stages run the same run lines against compiled wasm through
//! [`RunLine`] and [`parse_val`].

use crate::error::{Diagnostic, Diagnostics};
use crate::interp::{Instance, Val};
use crate::ir::{Linkage, Loc, Module, Type};

/// One `; run:` line.
#[derive(Clone, PartialEq, Debug)]
pub struct RunLine {
    /// 1-based line in the file.
    pub line: u32,
    /// The line's text after `run:`, trimmed, for reports.
    pub text: String,
    /// Function to call.
    pub func: String,
    /// Arguments, as written.
    pub args: Vec<String>,
    /// What the call must do.
    pub expect: Expect,
}

/// The expected outcome of a run line.
#[derive(Clone, PartialEq, Debug)]
pub enum Expect {
    /// Return these results (as written).
    Results(Vec<String>),
    /// Trap.
    Traps,
    /// Return nothing.
    Returns,
}

/// One `; error:` marker: a diagnostic containing `text` must be reported on `line`.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ErrorMarker {
    /// 1-based line.
    pub line: u32,
    /// Substring of the expected message.
    pub text: String,
}

/// Reads every `; run:` line of a source file.
pub fn parse_run_lines(source: &str) -> Result<Vec<RunLine>, Diagnostics> {
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (i, text) in source.lines().enumerate() {
        let line = i as u32 + 1;
        let Some(spec) = comment_directive(text, "run:") else {
            continue;
        };
        match parse_run_spec(spec) {
            Some((func, args, expect)) => lines.push(RunLine {
                line,
                text: spec.to_string(),
                func,
                args,
                expect,
            }),
            None => errors.push(Diagnostic::new(
                Loc { line, col: 1 },
                format!(
                    "malformed run line `{spec}`: expected `NAME(ARGS) == RESULTS`, \
                     `NAME(ARGS) traps` or `NAME(ARGS)`"
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(lines)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Reads every `; error:` marker of a source file.
pub fn parse_error_markers(source: &str) -> Vec<ErrorMarker> {
    source
        .lines()
        .enumerate()
        .filter_map(|(i, text)| {
            let at = text.find("; error:")?;
            Some(ErrorMarker {
                line: i as u32 + 1,
                text: text[at + "; error:".len()..].trim().to_string(),
            })
        })
        .collect()
}

/// The text after `; KEY` when `text` is a comment line starting with it.
fn comment_directive<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let rest = text.trim_start().strip_prefix(';')?.trim_start();
    Some(rest.strip_prefix(key)?.trim())
}

fn parse_run_spec(spec: &str) -> Option<(String, Vec<String>, Expect)> {
    let open = spec.find('(')?;
    let close = spec.rfind(')')?;
    if close < open {
        return None;
    }
    let func = spec[..open].trim();
    if func.is_empty() || func.contains(char::is_whitespace) {
        return None;
    }
    let inside = spec[open + 1..close].trim();
    let args = if inside.is_empty() {
        Vec::new()
    } else {
        inside.split(',').map(|a| a.trim().to_string()).collect()
    };
    if args.iter().any(String::is_empty) {
        return None;
    }
    let tail = spec[close + 1..].trim();
    let expect = if tail.is_empty() {
        Expect::Returns
    } else if tail == "traps" {
        Expect::Traps
    } else {
        let results = tail.strip_prefix("==")?.trim();
        let results: Vec<String> = results.split(',').map(|r| r.trim().to_string()).collect();
        if results.iter().any(String::is_empty) {
            return None;
        }
        Expect::Results(results)
    };
    Some((func.to_string(), args, expect))
}

/// Parses a run-line value of type `ty`: integers in decimal or `0x` hex with an optional
/// sign (either the signed or the unsigned range of the width), floats in decimal, `inf`,
/// `-inf`, `nan`.
pub fn parse_val(text: &str, ty: Type) -> Option<Val> {
    match ty.canonical() {
        Type::I32 => {
            let v = parse_int(text)?;
            (-(1i128 << 31)..(1i128 << 32))
                .contains(&v)
                .then_some(Val::I32(v as u32 as i32))
        }
        Type::I64 => {
            let v = parse_int(text)?;
            (-(1i128 << 63)..(1i128 << 64))
                .contains(&v)
                .then_some(Val::I64(v as u64 as i64))
        }
        Type::F32 => parse_float(text).map(|f| Val::F32(f as f32)),
        _ => parse_float(text).map(Val::F64),
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None if digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok()?,
        None => return None,
    };
    Some(if neg { -magnitude } else { magnitude })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        _ if text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
        {
            text.parse().ok()
        }
        _ => None,
    }
}

/// Whether a result matches the expected text: the same value of its type, any NaN for `nan`.
pub fn val_matches(expected: &str, got: Val) -> bool {
    let ty = match got {
        Val::I32(_) => Type::I32,
        Val::I64(_) => Type::I64,
        Val::F32(_) => Type::F32,
        Val::F64(_) => Type::F64,
    };
    match (parse_val(expected, ty), got) {
        (Some(Val::F32(e)), Val::F32(g)) => (e.is_nan() && g.is_nan()) || e == g,
        (Some(Val::F64(e)), Val::F64(g)) => (e.is_nan() && g.is_nan()) || e == g,
        (Some(e), g) => e == g,
        (None, _) => false,
    }
}

/// The outcome of checking one run line or error marker.
#[derive(Clone, PartialEq, Debug)]
pub struct CaseResult {
    /// 1-based line of the run line or marker.
    pub line: u32,
    /// What was checked, for the report.
    pub what: String,
    /// `None` when it passed, else why it failed.
    pub failure: Option<String>,
}

/// Checks a source file against its conventions: if it has `; error:` markers, each must be
/// matched by a diagnostic on its line and no diagnostic may be left unmatched; otherwise
/// the file must parse and verify, and every run line must give its expected outcome under
/// the interpreter.
pub fn test_source(source: &str) -> Vec<CaseResult> {
    let markers = parse_error_markers(source);
    if !markers.is_empty() {
        return check_error_markers(source, &markers);
    }
    let fail_all = |line: u32, what: &str, why: String| {
        vec![CaseResult {
            line,
            what: what.to_string(),
            failure: Some(why),
        }]
    };
    let run_lines = match parse_run_lines(source) {
        Ok(lines) => lines,
        Err(diags) => return fail_all(1, "run lines", diags.to_string()),
    };
    let module = match crate::ir::parse(source) {
        Ok(m) => m,
        Err(diags) => return fail_all(1, "parse", diags.to_string()),
    };
    if let Err(diags) = crate::verify::verify(&module) {
        return fail_all(1, "verify", diags.to_string());
    }
    run_lines
        .iter()
        .map(|rl| CaseResult {
            line: rl.line,
            what: rl.text.clone(),
            failure: run_line(&module, rl).err(),
        })
        .collect()
}

/// Runs one run line in a fresh interpreter instance.
pub fn run_line(module: &Module, rl: &RunLine) -> Result<(), String> {
    let func = module
        .func_by_name(&rl.func)
        .ok_or_else(|| format!("no function @{}", rl.func))?;
    let decl = &module.decls.funcs[func];
    if decl.linkage != Linkage::Export {
        return Err(format!(
            "@{} is named in a run line but not exported",
            rl.func
        ));
    }
    if decl.sig.params.len() != rl.args.len() {
        return Err(format!(
            "@{} takes {} arguments, the run line gives {}",
            rl.func,
            decl.sig.params.len(),
            rl.args.len()
        ));
    }
    let args = rl
        .args
        .iter()
        .zip(&decl.sig.params)
        .map(|(text, &ty)| {
            parse_val(text, ty).ok_or_else(|| format!("`{text}` is not a valid {ty}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = Instance::new(module).and_then(|mut inst| inst.call_func(func, &args));
    match (&rl.expect, outcome) {
        (Expect::Traps, Err(_)) => Ok(()),
        (Expect::Traps, Ok(vals)) => Err(format!("expected a trap, got {}", show(&vals))),
        (_, Err(trap)) => Err(format!("unexpected {trap}")),
        (Expect::Returns, Ok(vals)) if vals.is_empty() => Ok(()),
        (Expect::Returns, Ok(vals)) => Err(format!("expected no results, got {}", show(&vals))),
        (Expect::Results(want), Ok(vals)) => {
            if want.len() == vals.len() && want.iter().zip(&vals).all(|(w, &g)| val_matches(w, g)) {
                Ok(())
            } else {
                Err(format!("expected {}, got {}", want.join(", "), show(&vals)))
            }
        }
    }
}

fn show(vals: &[Val]) -> String {
    if vals.is_empty() {
        return "no results".to_string();
    }
    vals.iter()
        .map(Val::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The diagnostics kiln reports for a source file: the parser's, or else the verifier's.
pub fn diagnose(source: &str) -> Vec<Diagnostic> {
    match crate::ir::parse(source) {
        Err(diags) => diags.0,
        Ok(module) => crate::verify::verify(&module)
            .err()
            .map(|d| d.0)
            .unwrap_or_default(),
    }
}

fn check_error_markers(source: &str, markers: &[ErrorMarker]) -> Vec<CaseResult> {
    let diags = diagnose(source);
    let mut results: Vec<CaseResult> = markers
        .iter()
        .map(|m| {
            let on_line: Vec<&Diagnostic> = diags.iter().filter(|d| d.loc.line == m.line).collect();
            let failure = if on_line.iter().any(|d| d.message.contains(&m.text)) {
                None
            } else if on_line.is_empty() {
                Some("no error reported on this line".to_string())
            } else {
                let msgs: Vec<&str> = on_line.iter().map(|d| d.message.as_str()).collect();
                Some(format!("reported instead: {}", msgs.join("; ")))
            };
            CaseResult {
                line: m.line,
                what: format!("error: {}", m.text),
                failure,
            }
        })
        .collect();
    for d in &diags {
        if !markers.iter().any(|m| m.line == d.loc.line) {
            results.push(CaseResult {
                line: d.loc.line,
                what: format!("unexpected error: {}", d.message),
                failure: Some("no `; error:` marker on this line".to_string()),
            });
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_line_forms() {
        let src = "; run: f(1, -2) == 3, 0x10\n; run: g() traps\n;run: h(1.5)\nfunc @f() {}\n";
        let lines = parse_run_lines(src).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].args, ["1", "-2"]);
        assert_eq!(
            lines[0].expect,
            Expect::Results(vec!["3".into(), "0x10".into()])
        );
        assert_eq!(lines[1].expect, Expect::Traps);
        assert_eq!(lines[2].expect, Expect::Returns);
        assert!(parse_run_lines("; run: f(1) = 2").is_err());
        assert!(parse_run_lines("; run: f(1,) == 2").is_err());
    }

    #[test]
    fn values() {
        assert_eq!(parse_val("0xffffffff", Type::I32), Some(Val::I32(-1)));
        assert_eq!(
            parse_val("-2147483648", Type::Ptr),
            Some(Val::I32(i32::MIN))
        );
        assert_eq!(parse_val("4294967296", Type::I32), None);
        assert_eq!(
            parse_val("-0x8000000000000000", Type::I64),
            Some(Val::I64(i64::MIN))
        );
        assert!(val_matches("nan", Val::F32(f32::NAN)));
        assert!(val_matches("0.1", Val::F32(0.1)));
        assert!(!val_matches("0.1", Val::F64(0.1f32 as f64)));
        assert!(val_matches("-inf", Val::F64(f64::NEG_INFINITY)));
        assert!(!val_matches("1", Val::I32(2)));
        assert!(!val_matches("x", Val::I32(2)));
    }

    #[test]
    fn markers() {
        let m = parse_error_markers("func @f() {\n  v1 = i32.ad v0 ; error: unknown opcode\n}");
        assert_eq!(
            m,
            [ErrorMarker {
                line: 2,
                text: "unknown opcode".into()
            }]
        );
    }
}
