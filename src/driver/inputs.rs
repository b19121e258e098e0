//! Input loading: every input file is memory-mapped once and stays mapped while the link
//! borrows it; the kind is decided by content, not by name.
//!
//! [`open_inputs`] resolves `-l` names and maps the files ([`InputFile`] owns the mapping);
//! [`load_inputs`] reads each mapping as an archive, a relocatable object or (for `.ir`
//! files) IR text that is parsed, verified and lowered into an object, and builds the
//! [`Input`] list in command-line order. The objects and archives borrow the mappings, so
//! the files outlive the link by construction. A linked module or any other file is an
//! error naming it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use super::DriverError;
use super::args::{InputArg, LinkArgs, find_library};
use crate::link::Input;
use crate::lower::{LowerOptions, lower_module};
use crate::object::{is_archive, is_relocatable, read_archive, read_object};

/// An input file, mapped into memory.
pub struct InputFile {
    /// The path as shown in diagnostics.
    pub path: String,
    /// `--whole-archive` was in force where the file was named.
    pub whole_archive: bool,
    data: Data,
}

enum Data {
    Mapped(memmap2::Mmap),
    /// An empty file (mapping zero bytes is not portable).
    Empty,
}

impl InputFile {
    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Mapped(m) => m,
            Data::Empty => &[],
        }
    }

    /// Maps the file at `path`.
    pub fn open(path: &Path, whole_archive: bool) -> Result<InputFile, DriverError> {
        let shown = path.display().to_string();
        let io = |e: std::io::Error| DriverError::Input(format!("cannot open {shown}: {e}"));
        let file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if meta.is_dir() {
            return Err(DriverError::Input(format!("{shown} is a directory")));
        }
        let data = if meta.len() == 0 {
            Data::Empty
        } else {
            // An archive is mostly members the link never reads: fault in only what is used.
            // A small object is faulted in as it is read (each fault maps the 64 KiB around
            // it, most of such a file, and faults run in parallel where mapping does not).
            let mut magic = [0u8; 8];
            let n = (&file).read(&mut magic).map_err(io)?;
            let populate = !is_archive(&magic[..n]) && meta.len() >= POPULATE_FROM;
            Data::Mapped(map(&file, populate).map_err(io)?)
        };
        Ok(InputFile {
            path: shown,
            whole_archive,
            data,
        })
    }
}

/// Objects of at least this many bytes are faulted in as they are mapped.
const POPULATE_FROM: u64 = 1 << 20;

/// Maps a file read-only; with `populate`, all of its pages at once.
#[allow(unsafe_code)]
fn map(file: &File, populate: bool) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is read-only and private to this process; the only hazard is
    // another process truncating or rewriting the file while the link reads it, which
    // every linker that maps its inputs (lld, mold, wild) accepts. The output is written
    // to a temporary file and renamed, so linking over one of the inputs does not modify
    // the mapped file in place.
    // `populate` faults the pages in with the mapping, one system call instead of a fault
    // per page as the readers touch them.
    let mut options = memmap2::MmapOptions::new();
    if populate {
        options.populate();
    }
    unsafe { options.map(file) }
}

/// Resolves `-l` names against the `-L` directories and maps every input, in order. The
/// files are opened in parallel (mapping faults in every page of a large object); the first
/// error in command-line order is reported.
pub fn open_inputs(args: &LinkArgs) -> Result<Vec<InputFile>, DriverError> {
    args.inputs
        .par_iter()
        .map(|input| match input {
            InputArg::File {
                path,
                whole_archive,
            } => InputFile::open(path, *whole_archive),
            InputArg::Library {
                name,
                whole_archive,
            } => InputFile::open(&find_library(name, &args.search_dirs)?, *whole_archive),
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// Reads every mapped file into a link input, in parallel. `.ir` files are lowered with
/// `lower` (each with its own path).
pub fn load_inputs<'a>(
    files: &'a [InputFile],
    lower: &LowerOptions,
) -> Result<Vec<Input<'a>>, DriverError> {
    // Files are read in parallel; the first error in command-line order is reported.
    files
        .par_iter()
        .map(|file| load_one(file, lower))
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

fn load_one<'a>(file: &'a InputFile, lower: &LowerOptions) -> Result<Input<'a>, DriverError> {
    let bytes = file.bytes();
    let path = file.path.as_str();
    if is_archive(bytes) {
        let archive = read_archive(path, bytes)?;
        return Ok(Input::Archive {
            archive,
            whole: file.whole_archive,
        });
    }
    if bytes.starts_with(b"\0asm") {
        // A well-formed module without a `linking` section was linked already; anything
        // else (a cut-short object, say) goes to the reader, which says where it breaks.
        let well_formed = || {
            wasmparser::Parser::new(0)
                .parse_all(bytes)
                .all(|p| p.is_ok())
        };
        if !is_relocatable(bytes) && well_formed() {
            return Err(DriverError::Input(format!(
                "{path} is a linked module, not a relocatable object"
            )));
        }
        return Ok(Input::Object(read_object(path, bytes)?));
    }
    if Path::new(path).extension().is_some_and(|e| e == "ir") {
        let Ok(source) = std::str::from_utf8(bytes) else {
            return Err(DriverError::Input(format!(
                "{path}: IR file is not UTF-8 text"
            )));
        };
        let module =
            crate::ir::parse(source).map_err(|d| DriverError::Diagnostics(d.render(path)))?;
        crate::verify::verify(&module).map_err(|d| DriverError::Diagnostics(d.render(path)))?;
        let lower = LowerOptions {
            path: path.to_string(),
            ..lower.clone()
        };
        let object = lower_module(&module, &lower)
            .map_err(|e| DriverError::Input(format!("{path}: {e}")))?;
        return Ok(Input::Object(object));
    }
    Err(DriverError::Input(format!(
        "{path}: unknown file type (not a wasm object, an archive or an .ir file)"
    )))
}
