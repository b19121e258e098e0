//! The object reader: a relocatable wasm object file (as clang/LLVM 14 to 22 write it) into
//! an [`Object`] that borrows the file's bytes.
//!
//! The reader checks what the link stage relies on and reports anything else as an
//! [`ObjectError`] with the file, the byte offset and the section: indices in the symbol
//! table, relocations and comdats that point nowhere, relocations that straddle or leave the
//! chunk they patch, unknown relocation or symbol kinds, and the usual malformed-wasm errors
//! wasmparser finds. Function bodies are not validated here (the final module is).
//!
//! Relocation offsets in `reloc.*` sections are relative to the section payload; the reader
//! rebases them onto the function body, data segment or custom section they patch, as the
//! object model wants.

use std::borrow::Cow;
use std::ops::Range;

use wasmparser::{
    BinaryReader, Chunk, CompositeInnerType, DataKind, KnownCustom, Linking, Operator, Parser,
    Payload, RefType, SymbolInfo, TypeRef,
};

use super::*;

/// A problem in an object file.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{path}: error at byte offset {offset:#x}{}: {message}", section.as_ref().map(|s| format!(" (section {s})")).unwrap_or_default())]
pub struct ObjectError {
    /// The file.
    pub path: String,
    /// Byte offset in the file.
    pub offset: u64,
    /// The section the offset is in, when known.
    pub section: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Whether `bytes` look like a relocatable wasm object (a wasm module with a `linking`
/// section). Cheap: walks the section headers only, without parsing any section.
pub fn is_relocatable(bytes: &[u8]) -> bool {
    if bytes.len() < 8 || !bytes.starts_with(b"\0asm") {
        return false;
    }
    let mut pos = 8;
    while pos < bytes.len() {
        let id = bytes[pos];
        pos += 1;
        let Some(size) = uleb32(bytes, &mut pos) else {
            return false;
        };
        let Some(end) = pos.checked_add(size as usize).filter(|&e| e <= bytes.len()) else {
            return false;
        };
        if id == 0 {
            let mut at = pos;
            if let Some(len) = uleb32(bytes, &mut at)
                && bytes.get(at..at + len as usize) == Some(b"linking".as_slice())
            {
                return true;
            }
        }
        pos = end;
    }
    false
}

/// Reads a relocatable object. `path` names the file in errors.
pub fn read_object<'a>(path: &str, bytes: &'a [u8]) -> Result<Object<'a>, ObjectError> {
    Reader::new(path, bytes).read()
}

/// Where each chunk that relocations patch lives, relative to its section's payload.
#[derive(Default)]
struct ChunkRanges {
    /// Index of the code section, its payload start, and each body's range in the payload.
    code: Option<(u32, u64)>,
    funcs: Vec<Range<u64>>,
    /// Index of the data section, its payload start, and each segment's bytes in the payload.
    data: Option<(u32, u64)>,
    segments: Vec<Range<u64>>,
    /// Custom sections by section index: position in `Object::customs` and payload start.
    customs: Vec<(u32, usize, u64)>,
}

impl ChunkRanges {
    /// Whether section `index` is the code section.
    fn is_code(&self, index: u32) -> bool {
        self.code.is_some_and(|(i, _)| i == index)
    }

    /// Whether section `index` is the data section.
    fn is_data(&self, index: u32) -> bool {
        self.data.is_some_and(|(i, _)| i == index)
    }

    /// Whether section `index` is the code or the data section.
    fn is_code_or_data(&self, index: u32) -> bool {
        self.is_code(index) || self.is_data(index)
    }
}

struct Reader<'a, 'p> {
    path: &'p str,
    bytes: &'a [u8],
    obj: Object<'a>,
    chunks: ChunkRanges,
    /// `reloc.*` sections, read after everything else (they may precede nothing they need,
    /// but the symbol table must be known to check them).
    relocs: Vec<RelocSection<'a>>,
    /// Segment info from the linking section, applied to the data segments at the end.
    segment_info: Vec<(Cow<'a, str>, u32, u32)>,
    saw_linking: bool,
    /// Name of the section being read, for errors.
    section: &'static str,
}

impl<'a, 'p> Reader<'a, 'p> {
    fn new(path: &'p str, bytes: &'a [u8]) -> Self {
        Reader {
            path,
            bytes,
            obj: Object {
                path: path.to_string(),
                ..Object::default()
            },
            chunks: ChunkRanges::default(),
            relocs: Vec::new(),
            segment_info: Vec::new(),
            saw_linking: false,
            section: "header",
        }
    }

    fn err(&self, offset: u64, message: impl Into<String>) -> ObjectError {
        ObjectError {
            path: self.path.to_string(),
            offset,
            section: Some(self.section.to_string()),
            message: message.into(),
        }
    }

    fn wasm_err(&self, e: wasmparser::BinaryReaderError) -> ObjectError {
        self.err(e.offset(), e.message().to_string())
    }

    fn read(mut self) -> Result<Object<'a>, ObjectError> {
        let mut section_index = 0u32;
        let mut parser = Parser::new(0);
        let mut rest = self.bytes;
        loop {
            let (payload, consumed) = match parser.parse(rest, true) {
                Ok(Chunk::Parsed { consumed, payload }) => (payload, consumed),
                Ok(Chunk::NeedMoreData(_)) => {
                    return Err(self.err(
                        (self.bytes.len() - rest.len()) as u64,
                        "unexpected end-of-file",
                    ));
                }
                Err(e) => return Err(self.wasm_err(e)),
            };
            rest = &rest[consumed..];
            match payload {
                // The bodies are only located, not decoded: the reader splits the section
                // itself, which is much cheaper than a parser payload per body.
                Payload::CodeSectionStart {
                    count,
                    unchecked_range: range,
                    size,
                } => {
                    parser.skip_section();
                    let Some(after) = rest.get(size as usize..) else {
                        return Err(self.err(range.start, "code section is cut short"));
                    };
                    rest = after;
                    self.section = "code";
                    self.chunks.code = Some((section_index, range.start));
                    self.read_code(count, size, range)?;
                    section_index += 1;
                }
                Payload::End(_) => break,
                payload => {
                    let is_section = !matches!(payload, Payload::Version { .. });
                    self.read_payload(payload, section_index)?;
                    if is_section {
                        section_index += 1;
                    }
                }
            }
        }
        if !self.saw_linking {
            return Err(ObjectError {
                path: self.path.to_string(),
                offset: 0,
                section: None,
                message: "not a relocatable object: no `linking` section (was it linked already, \
                          or compiled without -c?)"
                    .into(),
            });
        }
        self.section = "linking";
        self.apply_segment_info()?;
        self.rebase_section_symbols()?;
        self.check_symbols()?;
        self.section = "reloc";
        let kinds: Vec<u8> = self.obj.symbols.iter().map(|s| kind_bit(s.kind)).collect();
        // The sections are decoded in parallel when there is enough to share (one big
        // object's code and debug info), then moved into their chunks in order; the first
        // error in section order wins either way.
        let sections = std::mem::take(&mut self.relocs);
        let bytes: usize = sections.iter().map(|s| s.entries.len()).sum();
        // Code and data relocations go into one array, `Object::relocs`, in the order of
        // the sections; `runs` says which chunk each run of entries patches.
        let mut relocs = Vec::new();
        let mut runs = Vec::with_capacity(self.obj.funcs.len() + self.obj.segments.len());
        // Room for all of them at once (growing the array would double it, or copy it).
        let is_chunks = |s: &RelocSection<'_>| self.chunks.is_code_or_data(s.target);
        let room: usize = sections
            .iter()
            .filter(|s| is_chunks(s))
            .map(RelocSection::room)
            .sum();
        if sections.len() > 1 && bytes >= PARALLEL_RELOCS {
            use rayon::prelude::*;
            // The first section for chunks decodes into the array itself; the others' are
            // copied after it.
            let first = sections.iter().position(is_chunks);
            let decoded: Vec<_> = sections
                .par_iter()
                .enumerate()
                .map(|(k, s)| {
                    let mut relocs = if Some(k) == first {
                        Vec::with_capacity(room)
                    } else {
                        Vec::new()
                    };
                    let mut runs = Vec::new();
                    let custom = self.decode_relocs(s, &kinds, &mut relocs, &mut runs)?;
                    Ok((relocs, runs, custom))
                })
                .collect();
            let total: usize = decoded.iter().flatten().map(|(r, _, _)| r.len()).sum();
            for d in decoded {
                let (more, more_runs, custom) = d?;
                if runs.is_empty() {
                    (relocs, runs) = (more, more_runs);
                } else {
                    let base = relocs.len() as u32;
                    relocs.reserve_exact(total - relocs.len());
                    relocs.extend_from_slice(&more);
                    runs.extend(more_runs.into_iter().map(|r| Run {
                        start: r.start + base,
                        end: r.end + base,
                        ..r
                    }));
                }
                self.add_custom_relocs(custom);
            }
        } else {
            relocs.reserve_exact(room);
            for s in &sections {
                let custom = self.decode_relocs(s, &kinds, &mut relocs, &mut runs)?;
                self.add_custom_relocs(custom);
            }
        }
        self.obj.relocs = relocs;
        self.place_relocs(&runs);
        Ok(self.obj)
    }

    /// Splits the code section (`range`, its payload in the file, which starts with the
    /// body count; `size` bytes follow the count) into its `count` bodies, each a size and
    /// that many bytes. The caller has checked that the whole section is in the file.
    fn read_code(&mut self, count: u32, size: u32, range: Range<u64>) -> Result<(), ObjectError> {
        if count as usize != self.obj.funcs.len() {
            return Err(self.err(
                range.start,
                format!(
                    "{count} function bodies for {} functions",
                    self.obj.funcs.len()
                ),
            ));
        }
        let payload = &self.bytes[range.start as usize..range.end as usize];
        // The parser read the count: the bodies are the last `size` bytes.
        let mut pos = payload.len() - size as usize;
        // Touching every cache line pays when bodies are small (most lines hold a body's
        // start); for big ones (`-O0` code) it reads far more than the walk needs.
        if (size as usize) < TOUCH_BELOW_AVERAGE_BODY * count as usize {
            touch(payload);
        }
        for i in 0..count as usize {
            let at = pos;
            let Some(len) = uleb32(payload, &mut pos) else {
                let mut r = BinaryReader::new(&payload[at..], range.start + at as u64);
                let e = r.read_var_u32().err();
                return Err(e.map_or_else(
                    || self.err(range.start + at as u64, "malformed function body size"),
                    |e| self.wasm_err(e),
                ));
            };
            let end = pos + len as usize;
            if end > payload.len() {
                return Err(self.err(
                    range.start + at as u64,
                    format!("function body {i} (size {len}) runs past the end of the section"),
                ));
            }
            let func = &mut self.obj.funcs[i];
            func.body = Cow::Borrowed(&payload[pos..end]);
            func.input_offset = pos as u32;
            self.chunks.funcs.push(pos as u64..end as u64);
            pos = end;
        }
        if pos != payload.len() {
            return Err(self.err(range.start + pos as u64, "trailing bytes at end of section"));
        }
        Ok(())
    }

    fn read_payload(
        &mut self,
        payload: Payload<'a>,
        section_index: u32,
    ) -> Result<(), ObjectError> {
        match payload {
            Payload::Version {
                encoding, range, ..
            } => {
                if encoding != wasmparser::Encoding::Module {
                    return Err(self.err(range.start, "a component, not a core wasm object"));
                }
            }
            Payload::TypeSection(reader) => {
                self.section = "type";
                for group in reader {
                    let group = group.map_err(|e| self.wasm_err(e))?;
                    for sub in group.into_types() {
                        let CompositeInnerType::Func(f) = &sub.composite_type.inner else {
                            return Err(self.err(0, "only function types are supported"));
                        };
                        let params = self.val_types(f.params())?;
                        let results = self.val_types(f.results())?;
                        self.obj.types.push(FuncType { params, results });
                    }
                }
            }
            Payload::ImportSection(reader) => {
                self.section = "import";
                // An import takes at least 4 bytes: module, name, kind, type or limits.
                self.obj
                    .imports
                    .reserve_exact(room(reader.count(), reader.range(), 4));
                for import in reader.into_imports_with_offsets() {
                    let (offset, import) = import.map_err(|e| self.wasm_err(e))?;
                    let kind = match import.ty {
                        TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                            self.check_type(t, offset)?;
                            ImportKind::Func(t)
                        }
                        TypeRef::Global(g) => ImportKind::Global {
                            ty: self.val_type(g.content_type, offset)?,
                            mutable: g.mutable,
                        },
                        TypeRef::Table(t) => ImportKind::Table {
                            elem: self.ref_type(t.element_type, offset)?,
                            min: t.initial,
                            max: t.maximum,
                        },
                        TypeRef::Memory(m) => ImportKind::Memory {
                            min: m.initial,
                            max: m.maximum,
                            shared: m.shared,
                            memory64: m.memory64,
                        },
                        TypeRef::Tag(t) => {
                            self.check_type(t.func_type_idx, offset)?;
                            ImportKind::Tag(t.func_type_idx)
                        }
                    };
                    self.obj.imports.push(Import {
                        module: Cow::Borrowed(import.module),
                        name: Cow::Borrowed(import.name),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                self.section = "function";
                let offset = reader.range().start;
                let room = room(reader.count(), reader.range(), 1);
                self.obj.funcs.reserve_exact(room);
                self.chunks.funcs.reserve_exact(room);
                for ty in reader {
                    let ty = ty.map_err(|e| self.wasm_err(e))?;
                    self.check_type(ty, offset)?;
                    self.obj.funcs.push(Func {
                        type_index: ty,
                        body: Cow::Borrowed(&[]),
                        relocs: RelocRange::default(),
                        input_offset: 0,
                        local_names: LocalNames::default(),
                    });
                }
            }
            Payload::GlobalSection(reader) => {
                self.section = "global";
                for global in reader {
                    let global = global.map_err(|e| self.wasm_err(e))?;
                    let offset = global.init_expr.get_binary_reader().original_position();
                    let ty = self.val_type(global.ty.content_type, offset)?;
                    let init = self.const_expr(global.init_expr.get_operators_reader(), offset)?;
                    self.obj.globals.push(Global {
                        ty,
                        mutable: global.ty.mutable,
                        init,
                    });
                }
            }
            Payload::ExportSection(reader) => {
                self.section = "export";
                let offset = reader.range().start;
                for export in reader {
                    let export = export.map_err(|e| self.wasm_err(e))?;
                    if export.kind == wasmparser::ExternalKind::Func {
                        self.obj
                            .exports
                            .push((Cow::Borrowed(export.name), export.index));
                    } else {
                        return Err(self.err(
                            offset,
                            format!("unexpected export `{}` of a non-function", export.name),
                        ));
                    }
                }
            }
            Payload::DataSection(reader) => {
                self.section = "data";
                let start = reader.range().start;
                self.chunks.data = Some((section_index, start));
                // A segment takes at least 2 bytes: its flags and its size (passive, empty).
                let room = room(reader.count(), reader.range(), 2);
                self.obj.segments.reserve_exact(room);
                self.chunks.segments.reserve_exact(room);
                for data in reader {
                    let data = data.map_err(|e| self.wasm_err(e))?;
                    if let DataKind::Active { memory_index, .. } = data.kind
                        && memory_index != 0
                    {
                        return Err(
                            self.err(data.range.start, "data segment for a memory other than 0")
                        );
                    }
                    // The bytes are a sub-slice of the file; their position gives the range.
                    let at = data.data.as_ptr() as usize - self.bytes.as_ptr() as usize;
                    self.chunks
                        .segments
                        .push(at as u64 - start..(at + data.data.len()) as u64 - start);
                    self.obj.segments.push(Segment {
                        // Named from the segment info (or after its index) at the end.
                        name: Cow::Borrowed(""),
                        align_log2: 0,
                        flags: 0,
                        data: SegmentData::Bytes(Cow::Borrowed(data.data)),
                        relocs: RelocRange::default(),
                    });
                }
            }
            Payload::DataCountSection { .. } => {}
            Payload::CustomSection(custom) => self.read_custom(custom, section_index)?,
            Payload::TableSection(reader) => {
                self.section = "table";
                return Err(self.err(
                    reader.range().start,
                    "objects that define tables are not supported",
                ));
            }
            Payload::MemorySection(reader) => {
                self.section = "memory";
                return Err(self.err(reader.range().start, "objects that define a memory are not supported (objects import `env.__linear_memory`)"));
            }
            Payload::TagSection(reader) => {
                self.section = "tag";
                return Err(self.err(reader.range().start, "exception tags are not supported"));
            }
            Payload::StartSection { range, .. } => {
                self.section = "start";
                return Err(self.err(range.start, "objects do not have a start function"));
            }
            // LLVM 14 lists address-taken functions in an element segment; table slots come
            // from the TABLE_INDEX relocations instead, as in wasm-ld, so it is only checked.
            Payload::ElementSection(reader) => {
                self.section = "element";
                for elem in reader {
                    elem.map_err(|e| self.wasm_err(e))?;
                }
            }
            Payload::End(_) => {}
            other => {
                let offset = other.as_section().map_or(0, |(_, r)| r.start);
                return Err(self.err(offset, "unexpected section in an object file"));
            }
        }
        Ok(())
    }

    fn read_custom(
        &mut self,
        custom: wasmparser::CustomSectionReader<'a>,
        section_index: u32,
    ) -> Result<(), ObjectError> {
        let offset = custom.data_offset();
        match custom.name() {
            "linking" => {
                self.section = "linking";
                self.saw_linking = true;
                match custom.as_known() {
                    KnownCustom::Linking(reader) => self.read_linking(reader)?,
                    _ => return Err(self.err(offset, "malformed linking section")),
                }
            }
            name if name.starts_with("reloc.") => {
                self.section = "reloc";
                let mut r = BinaryReader::new(custom.data(), offset);
                let header = r.read_var_u32().and_then(|t| Ok((t, r.read_var_u32()?)));
                let (target, count) = header.map_err(|e| {
                    self.err(
                        e.offset(),
                        format!("malformed relocation section `{name}`: {}", e.message()),
                    )
                })?;
                let start = r.current_position();
                self.relocs.push(RelocSection {
                    target,
                    count,
                    entries: &custom.data()[start..],
                    offset: offset + start as u64,
                });
            }
            "target_features" => {
                self.section = "target_features";
                let mut r = BinaryReader::new(custom.data(), custom.data_offset());
                let count = r.read_var_u32().map_err(|e| self.wasm_err(e))?;
                for _ in 0..count {
                    let prefix = r.read_u8().map_err(|e| self.wasm_err(e))?;
                    let name = r.read_string().map_err(|e| self.wasm_err(e))?;
                    if !matches!(prefix, b'+' | b'-' | b'=') {
                        return Err(self.err(
                            r.original_position(),
                            format!("unknown feature prefix {prefix:#x}"),
                        ));
                    }
                    self.obj.features.push(Feature {
                        prefix,
                        name: name.to_string(),
                    });
                }
            }
            // The linker writes its own; the inputs' are not kept. (`producers` is kept as a
            // custom section: the linker merges the inputs' entries.)
            "name" => {}
            name => {
                let n = self.obj.customs.len();
                self.chunks.customs.push((section_index, n, offset));
                self.obj.customs.push(CustomSection {
                    name: Cow::Borrowed(name),
                    data: Cow::Borrowed(custom.data()),
                    relocs: Vec::new(),
                });
            }
        }
        Ok(())
    }

    fn read_linking(
        &mut self,
        reader: wasmparser::LinkingSectionReader<'a>,
    ) -> Result<(), ObjectError> {
        for sub in reader.subsections() {
            let sub = sub.map_err(|e| self.wasm_err(e))?;
            match sub {
                Linking::SymbolTable(symbols) => {
                    // An entry takes at least 3 bytes: kind, flags, index or name.
                    let room = room(symbols.count(), symbols.range(), 3);
                    self.obj.symbols.reserve_exact(room);
                    let at = symbols.original_position() as usize;
                    if let Some(entries) = self.bytes.get(at..symbols.range().end as usize)
                        && self.read_symbols(entries, symbols.count())?
                    {
                        continue;
                    }
                    // Malformed: read again with wasmparser, which says what is wrong.
                    self.obj.symbols.clear();
                    for info in symbols {
                        let info = info.map_err(|e| self.wasm_err(e))?;
                        let symbol = self.symbol(info)?;
                        self.obj.symbols.push(symbol);
                    }
                }
                Linking::SegmentInfo(segments) => {
                    // Name, alignment, flags.
                    let room = room(segments.count(), segments.range(), 3);
                    self.segment_info.reserve_exact(room);
                    for seg in segments {
                        let seg = seg.map_err(|e| self.wasm_err(e))?;
                        self.segment_info.push((
                            Cow::Borrowed(seg.name),
                            seg.alignment,
                            seg.flags.bits(),
                        ));
                    }
                }
                Linking::InitFuncs(funcs) => {
                    for f in funcs {
                        let f = f.map_err(|e| self.wasm_err(e))?;
                        self.obj.init_funcs.push(InitFunc {
                            priority: f.priority,
                            symbol: f.symbol_index,
                        });
                    }
                }
                Linking::ComdatInfo(comdats) => {
                    for c in comdats {
                        let c = c.map_err(|e| self.wasm_err(e))?;
                        let mut members = Vec::new();
                        for m in c.symbols {
                            let m = m.map_err(|e| self.wasm_err(e))?;
                            use wasmparser::ComdatSymbolKind as K;
                            members.push(match m.kind {
                                K::Data => ComdatMember::Data(m.index),
                                K::Func => ComdatMember::Function(m.index),
                                K::Global => ComdatMember::Global(m.index),
                                K::Event => ComdatMember::Tag(m.index),
                                K::Table => ComdatMember::Table(m.index),
                                K::Section => ComdatMember::Section(m.index),
                            });
                        }
                        self.obj.comdats.push(Comdat {
                            name: Cow::Borrowed(c.name),
                            members,
                        });
                    }
                }
                Linking::TargetArch(arch) => {
                    if arch != "wasm32" {
                        return Err(self.err(
                            0,
                            format!("target architecture `{arch}` is not supported (only wasm32)"),
                        ));
                    }
                }
                Linking::Unknown { ty, range, .. } => {
                    return Err(self.err(range.start, format!("unknown linking subsection {ty}")));
                }
            }
        }
        Ok(())
    }

    /// Reads the symbol table's `count` entries, `entries` (the subsection after the count),
    /// as wasmparser's reader of them would, without its overhead per field. False at the
    /// first malformed entry, or when the subsection does not end after the last; the
    /// caller then reads them with wasmparser, for the error.
    fn read_symbols(&mut self, entries: &'a [u8], count: u32) -> Result<bool, ObjectError> {
        let mut pos = 0;
        for _ in 0..count {
            let Some(info) = symbol_info(entries, &mut pos) else {
                return Ok(false);
            };
            let symbol = self.symbol(info)?;
            self.obj.symbols.push(symbol);
        }
        Ok(pos == entries.len())
    }

    fn symbol(&self, info: SymbolInfo<'a>) -> Result<Symbol<'a>, ObjectError> {
        let (flags, kind, name) = match info {
            SymbolInfo::Func { flags, index, name } => (flags, SymbolKind::Function(index), name),
            SymbolInfo::Global { flags, index, name } => (flags, SymbolKind::Global(index), name),
            SymbolInfo::Table { flags, index, name } => (flags, SymbolKind::Table(index), name),
            SymbolInfo::Event { flags, index, name } => (flags, SymbolKind::Tag(index), name),
            SymbolInfo::Data {
                flags,
                name,
                symbol,
            } => (
                flags,
                SymbolKind::Data(symbol.map(|d| DataDef {
                    segment: d.index,
                    offset: u64::from(d.offset),
                    size: u64::from(d.size),
                })),
                Some(name),
            ),
            SymbolInfo::Section { flags, section } => (flags, SymbolKind::Section(section), None),
        };
        // Undefined symbols without an explicit name take the import's field name; section
        // symbols have none (the reader names them after the section later if needed).
        let name = match name {
            Some(n) => Cow::Borrowed(n),
            None => match kind {
                SymbolKind::Section(_) => Cow::Borrowed(""),
                _ => match self.import_of(kind) {
                    Some(import) => import.name.clone(),
                    None => {
                        return Err(self.err(
                            0,
                            format!(
                                "undefined symbol without a name refers to no import ({kind:?})"
                            ),
                        ));
                    }
                },
            },
        };
        Ok(Symbol {
            name,
            flags: flags.bits(),
            kind,
        })
    }

    /// The import an undefined function, global, table or tag symbol refers to.
    fn import_of(&self, kind: SymbolKind) -> Option<&Import<'a>> {
        let (want, index): (fn(&ImportKind) -> bool, u32) = match kind {
            SymbolKind::Function(i) => (|k| matches!(k, ImportKind::Func(_)), i),
            SymbolKind::Global(i) => (|k| matches!(k, ImportKind::Global { .. }), i),
            SymbolKind::Table(i) => (|k| matches!(k, ImportKind::Table { .. }), i),
            SymbolKind::Tag(i) => (|k| matches!(k, ImportKind::Tag(_)), i),
            _ => return None,
        };
        self.obj
            .imports
            .iter()
            .filter(|i| want(&i.kind))
            .nth(index as usize)
    }

    fn apply_segment_info(&mut self) -> Result<(), ObjectError> {
        if self.segment_info.len() > self.obj.segments.len() {
            return Err(self.err(
                0,
                format!(
                    "segment info names {} segments, the data section has {}",
                    self.segment_info.len(),
                    self.obj.segments.len()
                ),
            ));
        }
        let named = self.segment_info.len();
        for (n, seg) in self.obj.segments.iter_mut().enumerate().skip(named) {
            seg.name = Cow::Owned(format!(".data.segment{n}"));
        }
        for (seg, (name, align, flags)) in self
            .obj
            .segments
            .iter_mut()
            .zip(self.segment_info.drain(..))
        {
            seg.name = name;
            seg.align_log2 = align;
            seg.flags = flags;
            // Objects from before LLVM 14 mark TLS only by name.
            if seg.name.starts_with(".tdata") || seg.name.starts_with(".tbss") {
                seg.flags |= SEG_TLS;
            }
        }
        Ok(())
    }

    /// Section symbols and comdat section members name a section by its index in the file;
    /// the object model names the custom section by its position in `Object::customs`.
    fn rebase_section_symbols(&mut self) -> Result<(), ObjectError> {
        for c in 0..self.obj.comdats.len() {
            for m in 0..self.obj.comdats[c].members.len() {
                if let ComdatMember::Section(section) = self.obj.comdats[c].members[m] {
                    let Some(&(_, n, _)) =
                        self.chunks.customs.iter().find(|(s, _, _)| *s == section)
                    else {
                        return Err(self.err(
                            0,
                            format!(
                                "comdat `{}` names section {section}, which is not a custom section",
                                self.obj.comdats[c].name
                            ),
                        ));
                    };
                    self.obj.comdats[c].members[m] = ComdatMember::Section(n as u32);
                }
            }
        }
        for i in 0..self.obj.symbols.len() {
            if let SymbolKind::Section(section) = self.obj.symbols[i].kind {
                let Some(&(_, n, _)) = self.chunks.customs.iter().find(|(s, _, _)| *s == section)
                else {
                    return Err(self.err(0, format!("section symbol {i} names section {section}, which is not a custom section")));
                };
                let sym = &mut self.obj.symbols[i];
                sym.kind = SymbolKind::Section(n as u32);
                if sym.name.is_empty() {
                    sym.name = self.obj.customs[n].name.clone();
                }
            }
        }
        Ok(())
    }

    /// Checks every symbol's index against the object's index spaces.
    fn check_symbols(&self) -> Result<(), ObjectError> {
        let imported_funcs = self.obj.num_imported_funcs();
        let imported_globals = self.obj.num_imported_globals();
        let funcs = imported_funcs as usize + self.obj.funcs.len();
        let globals = imported_globals as usize + self.obj.globals.len();
        let tables = self
            .obj
            .imports
            .iter()
            .filter(|i| matches!(i.kind, ImportKind::Table { .. }))
            .count();
        let tags = self
            .obj
            .imports
            .iter()
            .filter(|i| matches!(i.kind, ImportKind::Tag(_)))
            .count();
        for (i, sym) in self.obj.symbols.iter().enumerate() {
            let undefined = sym.is_undefined();
            let ok = match sym.kind {
                SymbolKind::Function(idx) => {
                    (idx as usize) < funcs && (undefined == (idx < imported_funcs))
                }
                SymbolKind::Global(idx) => {
                    (idx as usize) < globals && (undefined == (idx < imported_globals))
                }
                SymbolKind::Table(idx) => (idx as usize) < tables && undefined,
                SymbolKind::Tag(idx) => (idx as usize) < tags && undefined,
                SymbolKind::Data(Some(def)) => match self.obj.segments.get(def.segment as usize) {
                    Some(seg) => def
                        .offset
                        .checked_add(def.size)
                        .is_some_and(|end| end <= seg.size()),
                    None => false,
                },
                SymbolKind::Data(None) => undefined,
                SymbolKind::Section(n) => (n as usize) < self.obj.customs.len(),
            };
            if !ok {
                return Err(self.err(
                    0,
                    format!(
                        "symbol {i} `{}` ({:?}) refers to nothing valid",
                        sym.name, sym.kind
                    ),
                ));
            }
        }
        for init in &self.obj.init_funcs {
            match self.obj.symbols.get(init.symbol as usize) {
                Some(Symbol {
                    kind: SymbolKind::Function(_),
                    ..
                }) => {}
                _ => {
                    return Err(self.err(
                        0,
                        format!(
                            "init function refers to symbol {}, which is not a function",
                            init.symbol
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Decodes and checks one `reloc.*` section's entries, each with its offset in the chunk
    /// it patches. `kinds` holds [`kind_bit`] of each symbol. Entries for function bodies
    /// and data segments are appended to `out`, each run of them that patches one chunk
    /// recorded in `runs`; entries for a custom section are returned with its position in
    /// `Object::customs`.
    fn decode_relocs(
        &self,
        section: &RelocSection<'a>,
        kinds: &[u8],
        out: &mut Vec<Reloc>,
        runs: &mut Vec<Run>,
    ) -> Result<Option<(usize, Vec<Reloc>)>, ObjectError> {
        let &RelocSection {
            target,
            count,
            entries: data,
            offset: base,
        } = section;
        // What the section patches: 0 code, 1 data (both split into chunks), or a custom
        // section by its position in `customs`.
        let dest = if self.chunks.is_code(target) {
            Dest::Chunks(0)
        } else if self.chunks.is_data(target) {
            Dest::Chunks(1)
        } else if let Some(&(_, n, _)) = self.chunks.customs.iter().find(|(i, _, _)| *i == target) {
            Dest::Custom(n)
        } else {
            Dest::Nothing
        };
        let chunks: &[Range<u64>] = match dest {
            Dest::Chunks(0) => &self.chunks.funcs,
            Dest::Chunks(_) => &self.chunks.segments,
            _ => &[],
        };
        let num_types = self.obj.types.len();
        let mut custom = Vec::new();
        match dest {
            Dest::Chunks(kind) => {
                out.reserve_exact(section.room());
                let (len, num_runs) = (out.len(), runs.len());
                if decode_chunk_relocs(section, kind, chunks, kinds, num_types, out, runs) {
                    return Ok(None);
                }
                // An entry the quick loop does not take: decode again with every check
                // (for the error, or a wasm64 type's addend).
                out.truncate(len);
                runs.truncate(num_runs);
            }
            Dest::Custom(_) => custom.reserve_exact(section.room()),
            Dest::Nothing => {}
        }
        let mut run = OpenRun::new(out.len());
        let mut pos = 0usize;
        for _ in 0..count {
            let start = pos;
            let entry_offset = base + start as u64;
            let Some((ty, at, index, addend)) = decode_reloc(data, &mut pos) else {
                return Err(self.reloc_entry_err(data, base, start));
            };
            if ty != RelocType::TypeIndexLeb {
                let Some(&kind) = kinds.get(index as usize) else {
                    return Err(self.err(
                        entry_offset,
                        format!(
                            "relocation refers to symbol {index}, but there are {}",
                            kinds.len()
                        ),
                    ));
                };
                if allowed_kinds(ty) & kind == 0 {
                    let sym = &self.obj.symbols[index as usize];
                    return Err(self.err(
                        entry_offset,
                        format!(
                            "relocation {ty:?} cannot refer to {:?} symbol `{}`",
                            sym.kind, sym.name
                        ),
                    ));
                }
            } else if index as usize >= num_types {
                return Err(self.err(
                    entry_offset,
                    format!("relocation refers to type {index}, but there are {num_types}"),
                ));
            }
            // wasm32 objects write addends as 32-bit LEBs; only wasm64's relocation types
            // have 64-bit ones, and kiln links wasm32 only.
            let Ok(addend) = i32::try_from(addend) else {
                return Err(self.err(
                    entry_offset,
                    format!(
                        "relocation {ty:?} has addend {addend}, which does not fit in 32 bits \
                         (64-bit memory is not supported)"
                    ),
                ));
            };
            let at = u64::from(at);
            let end = at + ty.width() as u64;
            let kind = match dest {
                Dest::Chunks(kind) => kind,
                Dest::Custom(n) => {
                    let section = &self.obj.customs[n];
                    if end > section.data.len() as u64 {
                        let name = &section.name;
                        return Err(self.err(
                            entry_offset,
                            format!("relocation at {at:#x} is past the end of section `{name}`"),
                        ));
                    }
                    custom.push(Reloc {
                        ty,
                        offset: at as u32,
                        index,
                        addend,
                    });
                    continue;
                }
                Dest::Nothing => {
                    return Err(self.err(
                        entry_offset,
                        format!("relocations for section {target}, which cannot have any"),
                    ));
                }
            };
            // The chunk that contains the field, the current run's first.
            let current = chunks
                .get(run.chunk)
                .is_some_and(|r| r.start <= at && end <= r.end);
            let Some(i) = (if current {
                Some(run.chunk)
            } else {
                chunk_of(chunks, run.chunk, at, end)
            }) else {
                return Err(self.err(
                    entry_offset,
                    format!(
                        "relocation at {at:#x} (width {}) is not inside one {}",
                        ty.width(),
                        if kind == 0 {
                            "function body"
                        } else {
                            "data segment"
                        }
                    ),
                ));
            };
            if run.chunk != i {
                run.switch(kind, i, out, runs);
            }
            let offset = (at - chunks[i].start) as u32;
            run.push(
                out,
                Reloc {
                    ty,
                    offset,
                    index,
                    addend,
                },
            );
        }
        if let Dest::Chunks(kind) = dest {
            run.close(kind, out.len(), runs);
        }
        if pos != data.len() {
            return Err(self.err(
                base + pos as u64,
                "section size mismatch: unexpected data at the end of the section",
            ));
        }
        Ok(match dest {
            Dest::Custom(n) => Some((n, custom)),
            _ => None,
        })
    }

    /// Adds the relocations [`Reader::decode_relocs`] returned for a custom section to it.
    fn add_custom_relocs(&mut self, custom: Option<(usize, Vec<Reloc>)>) {
        if let Some((n, relocs)) = custom {
            let to = &mut self.obj.customs[n].relocs;
            if to.is_empty() {
                *to = relocs;
            } else {
                to.extend(relocs);
            }
        }
    }

    /// The range of a function body's (`kind` 0) or data segment's (1) relocations.
    fn chunk_relocs(&mut self, kind: u8, chunk: u32) -> Option<&mut RelocRange> {
        if kind == 0 {
            self.obj
                .funcs
                .get_mut(chunk as usize)
                .map(|f| &mut f.relocs)
        } else {
            self.obj
                .segments
                .get_mut(chunk as usize)
                .map(|s| &mut s.relocs)
        }
    }

    /// Gives each chunk the range of `Object::relocs` its run of entries fills, sorting a
    /// run that is out of order in place. A chunk patched by more than one run (entries
    /// out of chunk order, or two sections for one target) needs the array rebuilt.
    fn place_relocs(&mut self, runs: &[Run]) {
        for run in runs {
            let Some(range) = self.chunk_relocs(run.kind, run.chunk) else {
                continue;
            };
            if !range.is_empty() {
                return self.merge_runs(runs);
            }
            *range = RelocRange {
                start: run.start,
                len: run.end - run.start,
            };
            if !run.sorted {
                self.obj.relocs[run.start as usize..run.end as usize].sort_by_key(|r| r.offset);
            }
        }
    }

    /// Rebuilds `Object::relocs` in chunk order, each chunk's runs in the order they were
    /// decoded, stably sorted by offset (the same order as sorting each run first: a
    /// stable sort of sorted runs is their stable merge).
    #[cold]
    fn merge_runs(&mut self, runs: &[Run]) {
        let mut order: Vec<&Run> = runs.iter().collect();
        order.sort_by_key(|r| (r.kind, r.chunk));
        for f in &mut self.obj.funcs {
            f.relocs = RelocRange::default();
        }
        for s in &mut self.obj.segments {
            s.relocs = RelocRange::default();
        }
        let old = std::mem::take(&mut self.obj.relocs);
        let mut relocs = Vec::with_capacity(old.len());
        for group in order.chunk_by(|a, b| (a.kind, a.chunk) == (b.kind, b.chunk)) {
            let start = relocs.len();
            for run in group {
                relocs.extend_from_slice(&old[run.start as usize..run.end as usize]);
            }
            relocs[start..].sort_by_key(|r: &Reloc| r.offset);
            if let Some(range) = self.chunk_relocs(group[0].kind, group[0].chunk) {
                *range = RelocRange {
                    start: start as u32,
                    len: (relocs.len() - start) as u32,
                };
            }
        }
        self.obj.relocs = relocs;
    }

    /// The error for the malformed relocation entry at `start` in `data` (which begins at
    /// file offset `base`): the entry is read again with wasmparser, which says what is wrong.
    fn reloc_entry_err(&self, data: &'a [u8], base: u64, start: usize) -> ObjectError {
        let mut r = BinaryReader::new(&data[start..], base + start as u64);
        let result = (|| {
            let ty_at = r.original_position();
            let ty = r.read_u8()?;
            let Some(ty) = RelocType::from_u32(u32::from(ty)) else {
                return Ok(Some((ty_at, format!("unknown relocation type {ty}"))));
            };
            r.read_var_u32()?;
            r.read_var_u32()?;
            if ty.has_addend() {
                if ty.addend_is_64() {
                    r.read_var_i64()?;
                } else {
                    r.read_var_i32()?;
                }
            }
            Ok(None)
        })();
        match result {
            Ok(Some((at, message))) => self.err(at, message),
            Err(e) => self.wasm_err(e),
            Ok(None) => self.err(base + start as u64, "malformed relocation entry"),
        }
    }

    fn val_types(&self, types: &[wasmparser::ValType]) -> Result<Vec<ValType>, ObjectError> {
        types.iter().map(|&t| self.val_type(t, 0)).collect()
    }

    fn val_type(&self, ty: wasmparser::ValType, offset: u64) -> Result<ValType, ObjectError> {
        Ok(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::V128 => ValType::V128,
            wasmparser::ValType::Ref(r) => self.ref_type(r, offset)?,
        })
    }

    fn ref_type(&self, r: RefType, offset: u64) -> Result<ValType, ObjectError> {
        if r == RefType::FUNCREF {
            Ok(ValType::FuncRef)
        } else if r == RefType::EXTERNREF {
            Ok(ValType::ExternRef)
        } else {
            Err(self.err(offset, format!("unsupported reference type {r}")))
        }
    }

    fn check_type(&self, index: u32, offset: u64) -> Result<(), ObjectError> {
        if (index as usize) < self.obj.types.len() {
            Ok(())
        } else {
            Err(self.err(
                offset,
                format!(
                    "type index {index} out of range ({} types)",
                    self.obj.types.len()
                ),
            ))
        }
    }

    fn const_expr(
        &self,
        mut ops: wasmparser::OperatorsReader<'a>,
        offset: u64,
    ) -> Result<ConstExpr, ObjectError> {
        let op = ops.read().map_err(|e| self.wasm_err(e))?;
        let value = match op {
            Operator::I32Const { value } => ConstExpr::I32(value),
            Operator::I64Const { value } => ConstExpr::I64(value),
            Operator::F32Const { value } => ConstExpr::F32(value.bits()),
            Operator::F64Const { value } => ConstExpr::F64(value.bits()),
            Operator::RefNull { .. } => ConstExpr::RefNull,
            other => {
                return Err(self.err(offset, format!("unsupported global initializer {other:?}")));
            }
        };
        match ops.read().map_err(|e| self.wasm_err(e))? {
            Operator::End => Ok(value),
            other => Err(self.err(
                offset,
                format!("unsupported global initializer: {other:?} after a constant"),
            )),
        }
    }
}

/// Room to reserve for the `count` entries a section or subsection of bytes `range` says it
/// has, each at least `min_entry` bytes: no more than the bytes can hold, as the count may
/// be wrong.
fn room(count: u32, range: Range<u64>, min_entry: usize) -> usize {
    let bytes = usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(usize::MAX);
    (count as usize).min(bytes / min_entry)
}

/// [`Reader::read_code`] touches the code section first when its bodies average fewer bytes
/// than this (large: 1,200-byte bodies, 0.7 ms less to split 6,000 of them).
const TOUCH_BELOW_AVERAGE_BODY: usize = 256;

/// Reads one byte of every cache line of `bytes`. The walk from one body size to the next
/// is a chain of dependent loads, each a cache miss when the section is not cached yet;
/// these loads are independent of each other, so the processor overlaps their misses, and
/// the walk then finds the lines in cache.
fn touch(bytes: &[u8]) {
    let mut sum = 0u8;
    for chunk in bytes.chunks(64) {
        sum ^= chunk[0];
    }
    std::hint::black_box(sum);
}

/// A `reloc.*` section, its header read.
struct RelocSection<'a> {
    /// Index of the section it patches.
    target: u32,
    /// Number of entries.
    count: u32,
    /// The entries' bytes.
    entries: &'a [u8],
    /// File offset of `entries`.
    offset: u64,
}

impl RelocSection<'_> {
    /// Room for its entries: their count, but no more than its bytes can hold (an entry
    /// takes at least 3), as the count may be wrong.
    fn room(&self) -> usize {
        (self.count as usize).min(self.entries.len() / 3)
    }
}

/// Relocation sections with at least this many bytes of entries in all are decoded in
/// parallel.
const PARALLEL_RELOCS: usize = 256 << 10;

/// A run of consecutive relocation entries that patch one chunk, in the array they were
/// decoded into.
#[derive(Clone, Copy)]
struct Run {
    /// Function bodies (0) or data segments (1).
    kind: u8,
    /// The chunk's index.
    chunk: u32,
    /// The entries' range in the array.
    start: u32,
    end: u32,
    /// Whether their offsets are in order.
    sorted: bool,
}

impl Run {
    fn new(kind: u8, chunk: usize, start: usize, end: usize, sorted: bool) -> Run {
        Run {
            kind,
            chunk: chunk as u32,
            start: start as u32,
            end: end as u32,
            sorted,
        }
    }
}

/// The run of relocations being decoded: its chunk (`usize::MAX` before the first), where
/// it starts in the array, and whether its offsets are in order so far (and the last one).
struct OpenRun {
    chunk: usize,
    start: usize,
    sorted: bool,
    last: u32,
}

impl OpenRun {
    fn new(start: usize) -> OpenRun {
        OpenRun {
            chunk: usize::MAX,
            start,
            sorted: true,
            last: 0,
        }
    }

    /// Ends the current run (if any) in `runs` and starts one for chunk `chunk` at the end of
    /// `out`.
    #[inline]
    fn switch(&mut self, kind: u8, chunk: usize, out: &[Reloc], runs: &mut Vec<Run>) {
        self.close(kind, out.len(), runs);
        *self = OpenRun {
            chunk,
            ..OpenRun::new(out.len())
        };
    }

    /// Appends an entry of the current run.
    #[inline]
    fn push(&mut self, out: &mut Vec<Reloc>, reloc: Reloc) {
        self.sorted &= reloc.offset >= self.last;
        self.last = reloc.offset;
        out.push(reloc);
    }

    /// Records the current run (if any), which ends at `end`, in `runs`.
    #[inline]
    fn close(&self, kind: u8, end: usize, runs: &mut Vec<Run>) {
        if self.chunk != usize::MAX {
            runs.push(Run::new(kind, self.chunk, self.start, end, self.sorted));
        }
    }
}

/// Where a relocation section's entries go.
#[derive(Clone, Copy)]
enum Dest {
    /// Into function bodies (0) or data segments (1).
    Chunks(u8),
    /// Into custom section `n` of `Object::customs`.
    Custom(usize),
    /// Nowhere: an entry is an error.
    Nothing,
}

/// The common case of [`Reader::decode_relocs`]: a section that patches function bodies or
/// data segments (`kind` 0 or 1, split into `chunks`), every entry of a wasm32 type and
/// right. False at the first entry that is not, or when the section does not end after the
/// last, leaving what it added to `out` and `runs` for the caller to drop; the caller then
/// decodes the section with every check. Apart from its error messages, this is that loop
/// with the current chunk's bounds kept at hand and the rest out of the way, which makes
/// it about twice as fast.
#[inline(never)]
fn decode_chunk_relocs(
    section: &RelocSection<'_>,
    kind: u8,
    chunks: &[Range<u64>],
    kinds: &[u8],
    num_types: usize,
    out: &mut Vec<Reloc>,
    runs: &mut Vec<Run>,
) -> bool {
    let data = section.entries;
    // The current run, and its chunk's bounds (empty before the first).
    let mut run = OpenRun::new(out.len());
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    let mut pos = 0usize;
    for _ in 0..section.count {
        let Some(ty) = data
            .get(pos)
            .and_then(|&b| RelocType::from_u32(u32::from(b)))
        else {
            return false;
        };
        pos += 1;
        let (Some(at), Some(index)) = (uleb32(data, &mut pos), uleb32(data, &mut pos)) else {
            return false;
        };
        let addend = if !ty.has_addend() {
            0
        } else if ty.addend_is_64() {
            return false;
        } else {
            let Some(addend) = sleb32(data, &mut pos) else {
                return false;
            };
            addend
        };
        let allowed = if ty == RelocType::TypeIndexLeb {
            (index as usize) < num_types
        } else {
            kinds
                .get(index as usize)
                .is_some_and(|&k| allowed_kinds(ty) & k != 0)
        };
        if !allowed {
            return false;
        }
        let at = u64::from(at);
        let end = at + ty.width() as u64;
        if !(lo <= at && end <= hi) {
            let Some(i) = chunk_of(chunks, run.chunk, at, end) else {
                return false;
            };
            run.switch(kind, i, out, runs);
            (lo, hi) = (chunks[i].start, chunks[i].end);
        }
        let offset = (at - lo) as u32;
        run.push(
            out,
            Reloc {
                ty,
                offset,
                index,
                addend,
            },
        );
    }
    run.close(kind, out.len(), runs);
    pos == data.len()
}

/// The chunk that holds the field `at..end`: the one after chunk `run` first (chunks are
/// sorted by start, and LLVM writes relocations in offset order), else by a binary search.
#[cold]
fn chunk_of(chunks: &[Range<u64>], run: usize, at: u64, end: u64) -> Option<usize> {
    let next = run.wrapping_add(1);
    let i = if chunks
        .get(next)
        .is_some_and(|r| r.start <= at && at < r.end)
    {
        next
    } else {
        chunks.partition_point(|r| r.end <= at)
    };
    chunks
        .get(i)
        .is_some_and(|r| r.start <= at && end <= r.end)
        .then_some(i)
}

/// Decodes the symbol table entry at `*pos` as wasmparser's `SymbolInfo` reader does, and
/// moves past it; `None` when it is malformed or cut short.
fn symbol_info<'a>(data: &'a [u8], pos: &mut usize) -> Option<SymbolInfo<'a>> {
    let kind = *data.get(*pos)?;
    *pos += 1;
    let bits = uleb32(data, pos)?;
    let flags = wasmparser::SymbolFlags::from_bits_retain(bits);
    let defined = bits & SYM_UNDEFINED == 0;
    let string = |pos: &mut usize| -> Option<&'a str> {
        let len = uleb32(data, pos)? as usize;
        let bytes = data.get(*pos..pos.checked_add(len)?)?;
        *pos += len;
        std::str::from_utf8(bytes).ok()
    };
    Some(match kind {
        0 | 2 | 4 | 5 => {
            let index = uleb32(data, pos)?;
            let name = if defined || bits & SYM_EXPLICIT_NAME != 0 {
                Some(string(pos)?)
            } else {
                None
            };
            match kind {
                0 => SymbolInfo::Func { flags, index, name },
                2 => SymbolInfo::Global { flags, index, name },
                4 => SymbolInfo::Event { flags, index, name },
                _ => SymbolInfo::Table { flags, index, name },
            }
        }
        1 => {
            let name = string(pos)?;
            let symbol = if defined {
                Some(wasmparser::DefinedDataSymbol {
                    index: uleb32(data, pos)?,
                    offset: uleb32(data, pos)?,
                    size: uleb32(data, pos)?,
                })
            } else {
                None
            };
            SymbolInfo::Data {
                flags,
                name,
                symbol,
            }
        }
        3 => SymbolInfo::Section {
            flags,
            section: uleb32(data, pos)?,
        },
        _ => return None,
    })
}

/// One bit per symbol kind, for [`allowed_kinds`].
fn kind_bit(kind: SymbolKind) -> u8 {
    match kind {
        SymbolKind::Function(_) => 1,
        SymbolKind::Data(_) => 2,
        SymbolKind::Global(_) => 4,
        SymbolKind::Section(_) => 8,
        SymbolKind::Tag(_) => 16,
        SymbolKind::Table(_) => 32,
    }
}

/// The [`kind_bit`]s of the symbols relocation type `ty` may refer to (Linking.md's table;
/// `GlobalIndex*` against data and functions is wasm-ld's GOT access and is allowed).
fn allowed_kinds(ty: RelocType) -> u8 {
    use RelocType::*;
    match ty {
        FunctionIndexLeb | FunctionIndexI32 | TableIndexSleb | TableIndexI32 | TableIndexSleb64
        | TableIndexI64 | TableIndexRelSleb | TableIndexRelSleb64 | FunctionOffsetI32
        | FunctionOffsetI64 => 1,
        MemoryAddrLeb | MemoryAddrSleb | MemoryAddrI32 | MemoryAddrLeb64 | MemoryAddrSleb64
        | MemoryAddrI64 | MemoryAddrRelSleb | MemoryAddrRelSleb64 | MemoryAddrTlsSleb
        | MemoryAddrTlsSleb64 | MemoryAddrLocrelI32 => 2,
        GlobalIndexLeb | GlobalIndexI32 => 4 | 2 | 1,
        SectionOffsetI32 => 8,
        TagIndexLeb => 16,
        TableNumberLeb => 32,
        TypeIndexLeb => 0xff,
    }
}

/// Decodes the relocation entry at `*pos` (type, offset, index, addend) and moves past it;
/// `None` when it is malformed or cut short (the caller reads it again with wasmparser for
/// the error). Accepts exactly what wasmparser's reader does.
#[inline]
fn decode_reloc(data: &[u8], pos: &mut usize) -> Option<(RelocType, u32, u32, i64)> {
    let ty = RelocType::from_u32(u32::from(*data.get(*pos)?))?;
    *pos += 1;
    let offset = uleb32(data, pos)?;
    let index = uleb32(data, pos)?;
    let addend = if !ty.has_addend() {
        0
    } else if ty.addend_is_64() {
        let mut r = BinaryReader::new(data.get(*pos..)?, 0);
        let value = r.read_var_i64().ok()?;
        *pos += r.current_position();
        value
    } else {
        i64::from(sleb32(data, pos)?)
    };
    Some((ty, offset, index, addend))
}

/// Decodes an unsigned 32-bit LEB at `*pos` and moves past it; `None` when it is cut short,
/// longer than 5 bytes, or too large (as wasmparser's `read_var_u32` rejects it).
#[inline]
fn uleb32(data: &[u8], pos: &mut usize) -> Option<u32> {
    let mut result = 0u32;
    let mut shift = 0;
    loop {
        let byte = *data.get(*pos)?;
        *pos += 1;
        if shift == 28 {
            // The fifth byte: no continuation and no bits beyond 32.
            return (byte <= 0x0f).then_some(result | u32::from(byte) << 28);
        }
        result |= u32::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(result);
        }
        shift += 7;
    }
}

/// Decodes a signed 32-bit LEB at `*pos` and moves past it; `None` when it is cut short,
/// longer than 5 bytes, or out of range (as wasmparser's `read_var_i32` rejects it).
#[inline]
fn sleb32(data: &[u8], pos: &mut usize) -> Option<i32> {
    let mut result = 0u32;
    let mut shift = 0;
    loop {
        let byte = *data.get(*pos)?;
        *pos += 1;
        if shift == 28 {
            // The fifth byte: no continuation, and its unused bits copy the sign bit.
            let high = byte & 0x78;
            if byte & 0x80 != 0 || (high != 0 && high != 0x78) {
                return None;
            }
            return Some((result | u32::from(byte) << 28) as i32);
        }
        result |= u32::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            let unused = 32 - shift;
            return Some(((result << unused) as i32) >> unused);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The LEB decoders accept exactly what wasmparser's readers accept, with the same value
    /// and length: edge cases, then pseudo-random byte strings biased to continuation bytes.
    #[test]
    fn lebs_agree_with_wasmparser() {
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x00],
            vec![0x7f],
            vec![0x80],
            vec![0x80, 0x00],
            vec![0xff, 0xff, 0xff, 0xff, 0x0f],
            vec![0xff, 0xff, 0xff, 0xff, 0x1f],
            vec![0xff, 0xff, 0xff, 0xff, 0x7f],
            vec![0xff, 0xff, 0xff, 0xff, 0x77],
            vec![0x80, 0x80, 0x80, 0x80, 0x78],
            vec![0x80, 0x80, 0x80, 0x80, 0x08],
            vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            vec![0xc0, 0xbb, 0x78],
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 7) as usize;
            let mut bytes: Vec<u8> = (0..len)
                .map(|i| {
                    let b = (state >> (8 * i)) as u8;
                    if i + 1 < len && state & (1 << (40 + i)) != 0 {
                        b | 0x80
                    } else {
                        b
                    }
                })
                .collect();
            if state & (1 << 60) != 0
                && let Some(last) = bytes.last_mut()
            {
                *last &= 0x7f;
            }
            cases.push(bytes);
        }
        for bytes in &cases {
            let mut pos = 0;
            let ours = uleb32(bytes, &mut pos).map(|v| (v, pos));
            let mut r = BinaryReader::new(bytes, 0);
            let theirs = r.read_var_u32().ok().map(|v| (v, r.current_position()));
            assert_eq!(ours, theirs, "uleb32 of {bytes:02x?}");
            let mut pos = 0;
            let ours = sleb32(bytes, &mut pos).map(|v| (v, pos));
            let mut r = BinaryReader::new(bytes, 0);
            let theirs = r.read_var_i32().ok().map(|v| (v, r.current_position()));
            assert_eq!(ours, theirs, "sleb32 of {bytes:02x?}");
        }
    }

    #[test]
    fn relocatable_needs_a_linking_section() {
        let mut module = wasm_encoder::Module::new();
        module.section(&wasm_encoder::CustomSection {
            name: "producers".into(),
            data: [0u8][..].into(),
        });
        let plain = module.clone().finish();
        assert!(!is_relocatable(&plain));
        module.section(&wasm_encoder::LinkingSection::new());
        let object = module.finish();
        assert!(is_relocatable(&object));
        // Cut short or not wasm at all: not an object.
        assert!(!is_relocatable(&object[..object.len() - 1]));
        assert!(!is_relocatable(b"\0asm"));
        assert!(!is_relocatable(b"!<arch>\n"));
    }
}

#[cfg(test)]
mod symbol_entry_tests {
    use super::symbol_info;
    use wasmparser::{BinaryReader, FromReader, SymbolInfo};

    /// Symbol table entries of every kind, defined, undefined and explicitly named, then
    /// the same bytes cut short and randomly changed: `symbol_info` reads what
    /// wasmparser's reader reads, to the same position, and fails where it fails.
    #[test]
    fn symbol_entries_decode_as_wasmparser_does() {
        let mut entries: Vec<Vec<u8>> = Vec::new();
        for kind in 0u8..7 {
            for flags in [0u8, 0x10, 0x50, 0x02, 0x7f] {
                // kind, flags, then fields enough for any kind: index or name, more LEBs.
                let mut e = vec![kind, flags, 3, b'a', 0xc3, 0xa9, 5, 6, 7];
                entries.push(e.clone());
                e[3] = 0xff; // not UTF-8 when read as a name
                entries.push(e);
            }
        }
        let mut rng = crate::testing::Rng(0x2545_f491_4f6c_dd1d);
        let mut cases = Vec::new();
        for e in &entries {
            for cut in 0..=e.len() {
                cases.push(e[..cut].to_vec());
            }
            for _ in 0..200 {
                let mut m = e.clone();
                let at = (rng.next() % m.len() as u64) as usize;
                m[at] = rng.next() as u8;
                cases.push(m);
            }
        }
        let mut read = 0;
        for bytes in &cases {
            let mut pos = 0;
            let ours = symbol_info(bytes, &mut pos).map(|s| (format!("{s:?}"), pos));
            let mut r = BinaryReader::new(bytes, 0);
            let theirs = SymbolInfo::from_reader(&mut r)
                .ok()
                .map(|s| (format!("{s:?}"), r.current_position()));
            assert_eq!(ours, theirs, "{bytes:02x?}");
            read += usize::from(ours.is_some());
        }
        assert!(read > 1000, "{read} of {} read", cases.len());
    }
}

#[cfg(test)]
mod reloc_entry_tests {
    use super::decode_reloc;
    use crate::object::{put_sleb, put_uleb};
    use wasmparser::{BinaryReader, FromReader, RelocationEntry};

    /// wasmparser's reading of one entry, for comparison.
    fn reference(bytes: &[u8]) -> Option<(u8, u32, u32, i64, usize)> {
        let mut r = BinaryReader::new(bytes, 0);
        let e = RelocationEntry::from_reader(&mut r).ok()?;
        Some((
            e.ty as u8,
            e.offset,
            e.index,
            e.addend,
            r.original_position() as usize,
        ))
    }

    fn ours(bytes: &[u8]) -> Option<(u8, u32, u32, i64, usize)> {
        let mut pos = 0;
        let (ty, offset, index, addend) = decode_reloc(bytes, &mut pos)?;
        Some((ty as u8, offset, index, addend, pos))
    }

    /// Well-formed entries of every type, with values at the LEB128 length boundaries,
    /// and random bytes (truncated, overlong, out-of-range LEB128s): the decoder agrees
    /// with wasmparser on every input, value and length.
    #[test]
    fn reloc_entries_decode_as_wasmparser_does() {
        let mut rng = crate::testing::Rng(0x9e37_79b9_7f4a_7c15);
        let mut rand = move || rng.next();
        let interesting: [i64; 12] = [
            0,
            1,
            63,
            64,
            127,
            128,
            -1,
            -64,
            -65,
            i64::from(i32::MAX),
            i64::from(i32::MIN),
            i64::MAX,
        ];
        let mut checked = 0;
        for ty in 0u8..27 {
            for &a in &interesting {
                for &b in &interesting {
                    let mut bytes = vec![ty];
                    put_uleb(&mut bytes, a as u64 & 0xffff_ffff);
                    put_uleb(&mut bytes, b as u64 & 0xffff_ffff);
                    put_sleb(&mut bytes, a.wrapping_mul(b));
                    assert_eq!(ours(&bytes), reference(&bytes), "{bytes:x?}");
                    checked += 1;
                }
            }
        }
        for _ in 0..20_000 {
            let len = (rand() % 24) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| rand() as u8).collect();
            if let Some(b) = bytes.first_mut() {
                *b %= 28;
            }
            // Valid and invalid encodings alike; either both decoders fail or they agree.
            assert_eq!(ours(&bytes), reference(&bytes), "{bytes:x?}");
            checked += 1;
        }
        assert!(checked > 20_000);
    }
}
