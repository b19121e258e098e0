//! The `kiln` command line: argument parsing and diagnostic rendering only; the work is done
//! by the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiln::driver::{
    DriverError, InputArg, Mode, allocator, expand_response_files, link_and_write, parse_args,
};
use kiln::interp::Instance;
use kiln::ir::Module;
use kiln::runtest;

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
    /// Compile an IR file and link it into a wasm module (`kiln build --help`).
    ///
    /// Further inputs (objects, archives, IR files, `-l`/`-L`) and wasm-ld options may follow
    /// the file.
    #[command(disable_help_flag = true)]
    Build {
        /// The IR file, further inputs and link options.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true, required = true)]
        args: Vec<String>,
    },
    /// Link objects, archives and IR files with wasm-ld's command line (`kiln link --help`).
    #[command(disable_help_flag = true)]
    Link {
        /// wasm-ld's arguments.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Print a relocatable object, each member of an archive, or the object an IR file
    /// lowers to, as a listing of its sections, symbols and relocations; a linked module as WAT.
    Dump {
        /// The object, archive or module.
        file: PathBuf,
    },
    /// Check the `; run:` lines and `; error:` markers of IR files or directories.
    Test {
        /// IR files or directories (searched for `*.ir`).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// Writes to standard output. A closed pipe (`kiln dump x.o | head`) ends the process quietly,
/// as it ends C tools, where `print!` would panic.
fn write_out(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(text) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("kiln: error: cannot write to standard output: {e}");
        std::process::exit(1);
    }
}

macro_rules! out {
    ($($arg:tt)*) => { write_out(format_args!($($arg)*)) };
}

macro_rules! outln {
    ($($arg:tt)*) => { write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

fn main() -> ExitCode {
    let mut argv = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let invoked_as = argv.next().and_then(|a| {
        Path::new(&a)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    });
    let as_wasm_ld = invoked_as
        .as_deref()
        .is_some_and(|n| n == "wasm-ld" || n == "kiln-ld" || n.starts_with("wasm-ld-"));
    let subcommand = std::env::args_os().nth(1);
    if as_wasm_ld
        || subcommand
            .as_ref()
            .is_some_and(|a| a == "link" || a == "build")
    {
        allocator::tune();
    }
    if as_wasm_ld {
        let args: Vec<String> = argv.collect();
        return match link_command(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failed) => ExitCode::FAILURE,
        };
    }
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
        Command::Build { args } => build(&args),
        Command::Link { args } => link_command(&args),
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
            out!("{printed}");
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
                outln!("{r}");
            }
            Ok(())
        }
        Err(trap) => {
            eprintln!("{shown}: error: {trap}");
            Err(Failed)
        }
    }
}

/// Prints a driver error: rendered IR diagnostics as they are, anything else as
/// `kiln link: error: ...` (one line each).
fn report(command: &str, e: &DriverError) {
    match e {
        DriverError::Diagnostics(text) => eprint!("{text}"),
        DriverError::FatalWarnings(warnings) => {
            print_warnings(command, warnings);
            eprintln!("kiln {command}: error: {e}");
        }
        _ => {
            for line in e.to_string().lines() {
                // wasm-ld's continuation lines (`>>> defined in a.o`) stay unprefixed.
                if line.starts_with(">>>") {
                    eprintln!("{line}");
                } else {
                    eprintln!("kiln {command}: error: {line}");
                }
            }
        }
    }
}

/// `kiln link ARGS` (also the binary invoked as `wasm-ld` or `kiln-ld`).
fn link_command(argv: &[String]) -> Result<(), Failed> {
    let fail = |e: DriverError| {
        report("link", &e);
        Failed
    };
    let expanded = expand_response_files(argv).map_err(|e| fail(e.into()))?;
    let args = parse_args(&expanded, Mode::Link).map_err(|e| fail(e.into()))?;
    if args.help {
        out!("{}", kiln::driver::args::help_text());
        return Ok(());
    }
    if args.version {
        outln!(
            "kiln {} (compatible with wasm-ld)",
            env!("CARGO_PKG_VERSION")
        );
        if args.version_only || args.inputs.is_empty() {
            return Ok(());
        }
    }
    on_worker_thread(args.threads, || link_and_write(&args))
        .map(|(_, warnings)| print_warnings("link", &warnings))
        .map_err(fail)
}

/// Runs `f` on a thread of a rayon pool of `threads` threads (by default `RAYON_NUM_THREADS`,
/// or one per core): the serial parts of a link then run where its parallel parts start, so
/// each parallel part wakes the other workers only, not this thread as well, and finds its
/// data in this worker's cache. Each worker tunes its heap as it starts
/// ([`allocator::on_worker_start`]). If the pool cannot start, `f` runs here.
fn on_worker_thread<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> T {
    let mut pool = rayon::ThreadPoolBuilder::new().start_handler(|_| allocator::on_worker_start());
    if let Some(n) = threads {
        pool = pool.num_threads(n);
    }
    match pool.build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

fn print_warnings(command: &str, warnings: &[String]) {
    for w in warnings {
        eprintln!("kiln {command}: warning: {w}");
    }
}

const BUILD_HELP: &str = "\
Usage: kiln build FILE.ir [INPUTS...] [OPTIONS...]
Compiles FILE.ir and links it with the further inputs. The options are `kiln link`'s, with
other defaults: no entry function, --initial-heap=65536, -o FILE.wasm; --features=SPEC and
-m SPEC take kiln's feature spec (`mvp,+bulk-memory`, `-multivalue`).

";

/// `kiln build FILE.ir [INPUTS/OPTIONS...]`: the first input must be an IR file; options
/// may come before or after it.
fn build(argv: &[String]) -> Result<(), Failed> {
    let fail = |e: DriverError| {
        report("build", &e);
        Failed
    };
    if argv.first().is_some_and(|a| a == "-h") {
        out!("{BUILD_HELP}{}", kiln::driver::args::help_text());
        return Ok(());
    }
    let expanded = expand_response_files(argv).map_err(|e| fail(e.into()))?;
    let mut args = parse_args(&expanded, Mode::Build).map_err(|e| fail(e.into()))?;
    if args.help {
        out!("{BUILD_HELP}{}", kiln::driver::args::help_text());
        return Ok(());
    }
    let ir = match args.inputs.first() {
        Some(InputArg::File { path, .. }) if path.extension().is_some_and(|e| e == "ir") => {
            path.clone()
        }
        _ => {
            return Err(fail(DriverError::Input(
                "the first input must be an IR file (kiln build FILE.ir [INPUTS...])".into(),
            )));
        }
    };
    if args.output.is_none() {
        args.output = Some(ir.with_extension("wasm"));
    }
    on_worker_thread(args.threads, || link_and_write(&args))
        .map(|(_, warnings)| print_warnings("build", &warnings))
        .map_err(fail)
}

fn dump(file: &Path) -> Result<(), Failed> {
    let shown = file.display().to_string();
    if file.extension().is_some_and(|e| e == "ir") {
        let (_, module) = load(file)?;
        let opts = kiln::lower::LowerOptions {
            path: shown.clone(),
            ..kiln::lower::LowerOptions::default()
        };
        let obj = kiln::lower::lower_module(&module, &opts).map_err(|e| {
            eprintln!("{shown}: error: {e}");
            Failed
        })?;
        out!("{}", kiln::object::dump_object(&obj));
        return Ok(());
    }
    let bytes = std::fs::read(file).map_err(|e| {
        eprintln!("{shown}: error: cannot read: {e}");
        Failed
    })?;
    let object_error = |e: kiln::object::ObjectError| {
        eprintln!("error: {e}");
        Failed
    };
    if kiln::object::is_archive(&bytes) {
        let archive = kiln::object::read_archive(&shown, &bytes).map_err(object_error)?;
        for (i, member) in archive.members.iter().enumerate() {
            let path = archive.member_path(i);
            outln!("member {}:", member.name);
            let obj = kiln::object::read_object(&path, member.data).map_err(object_error)?;
            out!("{}", kiln::object::dump_object(&obj));
        }
        return Ok(());
    }
    if kiln::object::is_relocatable(&bytes) {
        let obj = kiln::object::read_object(&shown, &bytes).map_err(object_error)?;
        out!("{}", kiln::object::dump_object(&obj));
        return Ok(());
    }
    match wasmprinter::print_bytes(&bytes) {
        Ok(text) => {
            out!("{text}");
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
                    outln!("PASS {shown}:{} {}", case.line, case.what);
                }
                Some(why) => {
                    failed += 1;
                    outln!("FAIL {shown}:{} {}: {why}", case.line, case.what);
                }
            }
        }
    }
    outln!("{passed} passed, {failed} failed");
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
