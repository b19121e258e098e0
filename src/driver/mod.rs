//! The wasm-ld-compatible driver: command line in, module file out.
//!
//! [`args`] parses wasm-ld's command line into [`LinkOptions`](crate::link::LinkOptions)
//! and an ordered input list; [`inputs`] maps the files and reads them as objects, archives
//! or IR; [`link_files`] runs the link stage over them; [`write_atomically`] writes the
//! result so that a failed link never leaves a partial file or touches an existing one.
//! The `kiln link` and `kiln build` commands, and the binary invoked as `wasm-ld` or
//! `kiln-ld`, are thin wrappers over these, with the memory allocation of [`allocator`].

pub mod allocator;
pub mod args;
pub mod inputs;

use std::fs::File;
use std::path::{Path, PathBuf};

pub use args::{ArgError, InputArg, LinkArgs, Mode, expand_response_files, parse_args};
pub use inputs::{InputFile, load_inputs, open_inputs};

use crate::link::{LinkError, LinkOutput, link_inputs_into_before_exit, link_inputs_with_warnings};
use crate::object::ObjectError;
use crate::timing::phase;

/// Why the driver failed.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// A bad command line.
    #[error("{0}")]
    Args(#[from] ArgError),
    /// An input cannot be opened or is of the wrong kind.
    #[error("{0}")]
    Input(String),
    /// An input object or archive is malformed.
    #[error("{0}")]
    Object(Box<ObjectError>),
    /// The link failed.
    #[error("{0}")]
    Link(Box<LinkError>),
    /// Diagnostics of an IR input, already rendered with `path:line:col: error:`.
    #[error("{0}")]
    Diagnostics(String),
    /// The link had warnings and `--fatal-warnings` was given; nothing was written.
    #[error("{} warning(s) and --fatal-warnings: no output written", .0.len())]
    FatalWarnings(Vec<String>),
    /// The output cannot be written.
    #[error("cannot write {path}: {error}")]
    Write {
        /// The output path.
        path: String,
        /// The I/O error.
        error: String,
    },
}

impl From<ObjectError> for DriverError {
    fn from(e: ObjectError) -> DriverError {
        DriverError::Object(Box::new(e))
    }
}

impl From<LinkError> for DriverError {
    fn from(e: LinkError) -> DriverError {
        DriverError::Link(Box::new(e))
    }
}

/// Opens, reads and links every input of `args`; returns the module and the warnings.
///
/// Without `--features=`, the output's features are those the inputs use (wasm-ld's rule,
/// archive members loaded included; `LinkOptions::infer_features`), and `.ir` inputs are
/// lowered with the default set.
pub fn link_files(args: &LinkArgs) -> Result<LinkOutput, DriverError> {
    let files = phase("open", || open_inputs(args))?;
    let inputs = phase("read", || load_inputs(&files, &args.lower_options()))?;
    Ok(link_inputs_with_warnings(inputs, &args.options)?)
}

/// Links and writes the output (`-o -`: standard output); returns the output path and the
/// link's warnings (one line each, no prefix) for the caller to print. Without inputs:
/// "no input files"; without `-o`: "no output file specified", as wasm-ld.
///
/// A regular output file is written by the link itself into a temporary file beside it
/// ([`link_inputs_into`](crate::link::link_inputs_into)), which replaces the output only
/// once the link succeeded. Made for a process that exits afterwards: the objects read from
/// the inputs are not freed and the inputs stay mapped; the exit reclaims them at once
/// (unmapping hundreds of files one at a time costs milliseconds).
pub fn link_and_write(args: &LinkArgs) -> Result<(PathBuf, Vec<String>), DriverError> {
    if args.inputs.is_empty() {
        return Err(DriverError::Input("no input files".into()));
    }
    let Some(out) = args.output.clone() else {
        return Err(DriverError::Input("no output file specified".into()));
    };
    let write_error = |e: std::io::Error| DriverError::Write {
        path: out.display().to_string(),
        error: e.to_string(),
    };
    let to_file = out.as_os_str() != "-"
        && std::fs::metadata(&out).map_or(true, |m| m.is_file() || m.is_dir());
    let files = std::mem::ManuallyDrop::new(phase("open", || open_inputs(args))?);
    let inputs = phase("read", || load_inputs(&files, &args.lower_options()))?;
    let (temp, linked) = if to_file {
        let temp = TempFile::create(&out).map_err(write_error)?;
        let linked = link_inputs_into_before_exit(inputs, &args.options, &temp.file)?;
        (Some(temp), linked)
    } else {
        (None, link_inputs_with_warnings(inputs, &args.options)?)
    };
    // `--print-gc-sections`: on standard output, as wasm-ld prints it (a reader that has gone
    // away ends the listing, not the link).
    if !linked.removed.is_empty() {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        for line in &linked.removed {
            if writeln!(stdout, "{line}").is_err() {
                break;
            }
        }
    }
    let mut warnings = args.warnings.clone();
    warnings.extend(linked.warnings);
    if args.fatal_warnings && !warnings.is_empty() {
        return Err(DriverError::FatalWarnings(warnings));
    }
    phase("write", || match temp {
        Some(temp) => temp.commit(),
        None => write_output(&out, &linked.wasm),
    })
    .map_err(write_error)?;
    Ok((out, warnings))
}

/// Writes the output: `-` to standard output; an existing path that is not a regular file
/// (`/dev/null`, a pipe) directly; anything else with [`write_atomically`].
pub fn write_output(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if path.as_os_str() == "-" {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(bytes)?;
        return stdout.flush();
    }
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() && !meta.is_dir() => std::fs::write(path, bytes),
        _ => write_atomically(path, bytes),
    }
}

/// Writes `bytes` to a temporary file next to `path`, then renames it over `path`: a failed
/// write leaves no partial output and does not touch an existing file. On Unix the file is
/// created with mode 0777 minus the umask, executable as wasm-ld's output is.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut temp = TempFile::create(path)?;
    temp.file.write_all(bytes)?;
    temp.commit()
}

/// A new file beside the output, `.NAME.PID.tmp`, that becomes the output with
/// [`TempFile::commit`] and is removed if dropped before.
struct TempFile {
    file: File,
    temp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl TempFile {
    fn create(path: &Path) -> std::io::Result<TempFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out.wasm".into());
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        Ok(TempFile {
            file: create_new(&temp)?,
            temp,
            path: path.to_path_buf(),
            committed: false,
        })
    }

    /// Renames the file to the output. An existing regular file there is first moved
    /// aside and removed only once the new one is in place (moved back if that fails).
    /// Renaming straight over it would cost more than writing the output: the file system
    /// frees the old file's pages and, on ext4, starts writing the new file back (its
    /// `auto_da_alloc` rule) inside the rename (11 ms for a 15 MB output, against 0.1 ms
    /// this way). The old file stays open while it is unlinked, so its pages are freed at
    /// the close rather than by the unlink.
    fn commit(mut self) -> std::io::Result<()> {
        let old = match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.is_file() => File::open(&self.path).ok(),
            _ => None,
        };
        let mut aside = self.temp.clone();
        aside.set_extension("old");
        if old.is_none() || std::fs::rename(&self.path, &aside).is_err() {
            std::fs::rename(&self.temp, &self.path)?;
            self.committed = true;
            return Ok(());
        }
        if let Err(e) = std::fs::rename(&self.temp, &self.path) {
            let _ = std::fs::rename(&aside, &self.path);
            return Err(e);
        }
        self.committed = true;
        let _ = std::fs::remove_file(&aside);
        drop(old);
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o777);
    // No fsync: like wasm-ld, the rename protects against failed links, not power loss.
    options.open(path)
}

#[cfg(test)]
mod write_tests {
    use super::write_atomically;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kiln-write-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_an_existing_output_and_leaves_nothing_else() {
        let dir = scratch("replace");
        let out = dir.join("a.wasm");
        let other = dir.join("hard-link.wasm");
        std::fs::write(&out, b"old").unwrap();
        std::fs::hard_link(&out, &other).unwrap();
        write_atomically(&out, b"new contents").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new contents");
        // A new file took the name; the old one (seen through its other link) is unchanged.
        assert_eq!(std::fs::read(&other).unwrap(), b"old");
        assert_eq!(entries(&dir), ["a.wasm", "hard-link.wasm"]);
        write_atomically(&dir.join("b.wasm"), b"fresh").unwrap();
        assert_eq!(entries(&dir), ["a.wasm", "b.wasm", "hard-link.wasm"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
