//! The `kiln` command line: argument parsing and diagnostic rendering only; the work is done
//! by the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiln::interp::Instance;
use kiln::ir::Module;
use kiln::link::{LinkOptions, link};
use kiln::lower::{LowerOptions, lower_module};
use kiln::runtest;
use kiln::target::Features;

#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    about = "Compile kiln IR to WebAssembly and link it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and verify IR files.
    Check {
        /// IR files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print IR files in canonical form.
    Fmt {
        /// IR files or directories.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print nothing; exit non-zero if a file is not canonical.
        #[arg(long, conflicts_with = "write")]
        check: bool,
        /// Rewrite the files in place.
        #[arg(short, long)]
        write: bool,
    },
    /// Interpret a function of an IR file and print each result on its own line.
    Run {
        /// The IR file.
        file: PathBuf,
        /// The function to call.
        #[arg(long)]
        invoke: String,
        /// Arguments, typed by the function's signature.
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Compile an IR file and link it into a wasm module.
    Build {
        /// The IR file.
        file: PathBuf,
        /// The output (default: FILE with the extension `.wasm`).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Target features: `mvp` or `generic` base, then `+name`/`-name`, comma-separated.
        #[arg(long, short = 'm', value_name = "SPEC")]
        features: Option<String>,
        /// Import undefined functions and globals instead of failing.
        #[arg(long)]
        import_undefined: bool,
        /// Export a further symbol.
        #[arg(long = "export", value_name = "NAME")]
        exports: Vec<String>,
        /// The entry function (exported; the constructors are then not the start function).
        #[arg(long)]
        entry: Option<String>,
        /// Free bytes after `__heap_base` in the initial memory.
        #[arg(long, value_name = "N", default_value_t = 65536)]
        initial_heap: u64,
        /// Linker options: `stack-size=N`.
        #[arg(short = 'z', value_name = "OPTION")]
        z: Vec<String>,
    },
    /// Print a wasm module as WAT.
    Dump {
        /// The wasm file.
        file: PathBuf,
    },
    /// Check the `; run:` lines and `; error:` markers of IR files or directories.
    Test {
        /// IR files or directories (searched for `*.ir`).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { files } => check(&files),
        Command::Fmt {
            files,
            check,
            write,
        } => fmt(&files, check, write),
        Command::Run { file, invoke, args } => run(&file, &invoke, &args),
        Command::Test { paths } => test(&paths),
        Command::Build {
            file,
            output,
            features,
            import_undefined,
            exports,
            entry,
            initial_heap,
            z,
        } => {
            let opts = BuildArgs {
                output,
                features,
                import_undefined,
                exports,
                entry,
                initial_heap,
                z,
            };
            build(&file, opts)
        }
        Command::Dump { file } => dump(&file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failed) => ExitCode::FAILURE,
    }
}

/// The command failed; what went wrong has been printed.
struct Failed;

fn read(path: &Path) -> Result<String, Failed> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("{}: error: cannot read: {e}", path.display());
        Failed
    })
}

/// Reads, parses and verifies a file, printing diagnostics on failure.
fn load(path: &Path) -> Result<(String, Module), Failed> {
    let source = read(path)?;
    let shown = path.display().to_string();
    let module = kiln::ir::parse(&source).map_err(|d| {
        eprint!("{}", d.render(&shown));
        Failed
    })?;
    kiln::verify::verify(&module).map_err(|d| {
        eprint!("{}", d.render(&shown));
        Failed
    })?;
    Ok((source, module))
}

fn check(files: &[PathBuf]) -> Result<(), Failed> {
    let mut ok = true;
    for f in files {
        ok &= load(f).is_ok();
    }
    if ok { Ok(()) } else { Err(Failed) }
}

fn fmt(paths: &[PathBuf], check: bool, write: bool) -> Result<(), Failed> {
    let mut ok = true;
    for path in ir_files(paths)? {
        let source = read(&path)?;
        let shown = path.display().to_string();
        let module = match kiln::ir::parse(&source) {
            Ok(m) => m,
            Err(d) => {
                eprint!("{}", d.render(&shown));
                ok = false;
                continue;
            }
        };
        let printed = kiln::ir::print(&module);
        if check {
            if printed != source {
                eprintln!("{shown}: not in canonical form (run `kiln fmt -w {shown}`)");
                ok = false;
            }
        } else if !write {
            print!("{printed}");
        } else if printed != source
            && let Err(e) = std::fs::write(&path, printed)
        {
            eprintln!("{shown}: error: cannot write: {e}");
            ok = false;
        }
    }
    if ok { Ok(()) } else { Err(Failed) }
}

fn run(file: &Path, name: &str, args: &[String]) -> Result<(), Failed> {
    let (_, module) = load(file)?;
    let shown = file.display();
    let Some(func) = module.func_by_name(name) else {
        eprintln!("{shown}: error: no function @{name}");
        return Err(Failed);
    };
    let params = &module.decls.funcs[func].sig.params;
    if params.len() != args.len() {
        eprintln!(
            "{shown}: error: @{name} takes {} arguments, {} given",
            params.len(),
            args.len()
        );
        return Err(Failed);
    }
    let mut vals = Vec::with_capacity(args.len());
    for (text, &ty) in args.iter().zip(params) {
        match runtest::parse_val(text, ty) {
            Some(v) => vals.push(v),
            None => {
                eprintln!("{shown}: error: argument `{text}` is not a valid {ty}");
                return Err(Failed);
            }
        }
    }
    let results = Instance::new(&module).and_then(|mut inst| inst.call_func(func, &vals));
    match results {
        Ok(results) => {
            for r in results {
                println!("{r}");
            }
            Ok(())
        }
        Err(trap) => {
            eprintln!("{shown}: error: {trap}");
            Err(Failed)
        }
    }
}

/// `kiln build` options besides the file.
struct BuildArgs {
    output: Option<PathBuf>,
    features: Option<String>,
    import_undefined: bool,
    exports: Vec<String>,
    entry: Option<String>,
    initial_heap: u64,
    z: Vec<String>,
}

fn build(file: &Path, args: BuildArgs) -> Result<(), Failed> {
    let shown = file.display().to_string();
    let features = match &args.features {
        Some(spec) => Features::parse(spec).map_err(|e| {
            eprintln!("error: --features: {e}");
            Failed
        })?,
        None => Features::default(),
    };
    let mut link_opts = LinkOptions {
        entry: args.entry,
        exports: args.exports,
        import_undefined: args.import_undefined,
        initial_heap: args.initial_heap,
        features,
        ..LinkOptions::default()
    };
    for z in &args.z {
        let parsed = z
            .strip_prefix("stack-size=")
            .and_then(|n| n.parse::<u64>().ok());
        match parsed {
            Some(n) => link_opts.stack_size = n,
            None => {
                eprintln!("error: unknown or malformed -z option `{z}` (known: stack-size=N)");
                return Err(Failed);
            }
        }
    }
    let out = args.output.unwrap_or_else(|| file.with_extension("wasm"));
    let (_, module) = load(file)?;
    let lower_opts = LowerOptions {
        features,
        path: shown.clone(),
    };
    let object = lower_module(&module, &lower_opts).map_err(|e| {
        eprintln!("{shown}: error: {e}");
        Failed
    })?;
    let bytes = link(std::slice::from_ref(&object), &link_opts).map_err(|e| {
        for line in e.to_string().lines() {
            eprintln!("error: {line}");
        }
        Failed
    })?;
    write_atomically(&out, &bytes).map_err(|e| {
        eprintln!("{}: error: cannot write: {e}", out.display());
        Failed
    })
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`: a failed
/// write leaves no partial output and does not touch an existing file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out.wasm".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn dump(file: &Path) -> Result<(), Failed> {
    let shown = file.display();
    let bytes = std::fs::read(file).map_err(|e| {
        eprintln!("{shown}: error: cannot read: {e}");
        Failed
    })?;
    match wasmprinter::print_bytes(&bytes) {
        Ok(text) => {
            print!("{text}");
            Ok(())
        }
        Err(e) => {
            eprintln!("{shown}: error: not a valid wasm module: {e}");
            Err(Failed)
        }
    }
}

fn test(paths: &[PathBuf]) -> Result<(), Failed> {
    let (mut passed, mut failed) = (0usize, 0usize);
    for path in ir_files(paths)? {
        let source = read(&path)?;
        let shown = path.display();
        for case in runtest::test_source(&source) {
            match case.failure {
                None => {
                    passed += 1;
                    println!("PASS {shown}:{} {}", case.line, case.what);
                }
                Some(why) => {
                    failed += 1;
                    println!("FAIL {shown}:{} {}: {why}", case.line, case.what);
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 { Ok(()) } else { Err(Failed) }
}

/// Expands directories into the `*.ir` files under them, sorted; keeps files as given.
fn ir_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failed> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut stack = vec![path.clone()];
            let mut found = Vec::new();
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir).map_err(|e| {
                    eprintln!("{}: error: cannot read directory: {e}", dir.display());
                    Failed
                })?;
                for entry in entries.flatten() {
                    let p = entry.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|e| e == "ir") {
                        found.push(p);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}
