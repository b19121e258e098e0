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
    BinaryReader, CompositeInnerType, DataKind, KnownCustom, Linking, Operator, Parser, Payload,
    RefType, RelocSectionReader, SymbolInfo, TypeRef,
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
/// section). Cheap: reads section headers only.
pub fn is_relocatable(bytes: &[u8]) -> bool {
    for payload in Parser::new(0).parse_all(bytes) {
        match payload {
            Ok(Payload::CustomSection(c)) if c.name() == "linking" => return true,
            Ok(Payload::CodeSectionStart { .. }) => {}
            Ok(_) => {}
            Err(_) => return false,
        }
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

struct Reader<'a, 'p> {
    path: &'p str,
    bytes: &'a [u8],
    obj: Object<'a>,
    chunks: ChunkRanges,
    /// `reloc.*` sections, read after everything else (they may precede nothing they need,
    /// but the symbol table must be known to check them).
    relocs: Vec<(RelocSectionReader<'a>, u64)>,
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
        for payload in Parser::new(0).parse_all(self.bytes) {
            let payload = payload.map_err(|e| self.wasm_err(e))?;
            let is_section = !matches!(
                payload,
                Payload::Version { .. } | Payload::CodeSectionEntry(_) | Payload::End(_)
            );
            self.read_payload(payload, section_index)?;
            if is_section {
                section_index += 1;
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
        for (reader, offset) in std::mem::take(&mut self.relocs) {
            self.read_relocs(reader, offset)?;
        }
        Ok(self.obj)
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
                self.obj.funcs.reserve(reader.count() as usize);
                self.chunks.funcs.reserve(reader.count() as usize);
                for ty in reader {
                    let ty = ty.map_err(|e| self.wasm_err(e))?;
                    self.check_type(ty, offset)?;
                    self.obj.funcs.push(Func {
                        type_index: ty,
                        body: Cow::Borrowed(&[]),
                        relocs: Vec::new(),
                        input_offset: 0,
                        local_names: Vec::new(),
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
            Payload::CodeSectionStart {
                unchecked_range: range,
                ..
            } => {
                self.section = "code";
                self.chunks.code = Some((section_index, range.start));
            }
            Payload::CodeSectionEntry(body) => {
                let range = body.range();
                let n = self.chunks.funcs.len();
                let Some(func) = self.obj.funcs.get_mut(n) else {
                    return Err(self.err(range.start, "more function bodies than functions"));
                };
                let start = self.chunks.code.map_or(0, |(_, s)| s);
                func.body = Cow::Borrowed(&self.bytes[range.start as usize..range.end as usize]);
                func.input_offset = (range.start - start) as u32;
                self.chunks
                    .funcs
                    .push(range.start - start..range.end - start);
            }
            Payload::DataSection(reader) => {
                self.section = "data";
                let start = reader.range().start;
                self.chunks.data = Some((section_index, start));
                self.obj.segments.reserve(reader.count() as usize);
                self.chunks.segments.reserve(reader.count() as usize);
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
                    let n = self.obj.segments.len();
                    self.chunks
                        .segments
                        .push(at as u64 - start..(at + data.data.len()) as u64 - start);
                    self.obj.segments.push(Segment {
                        name: Cow::Owned(format!(".data.segment{n}")),
                        align_log2: 0,
                        flags: 0,
                        data: SegmentData::Bytes(Cow::Borrowed(data.data)),
                        relocs: Vec::new(),
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
                match custom.as_known() {
                    KnownCustom::Reloc(reader) => self.relocs.push((reader, offset)),
                    _ => {
                        return Err(
                            self.err(offset, format!("malformed relocation section `{name}`"))
                        );
                    }
                }
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
                    self.obj.symbols.reserve(symbols.count() as usize);
                    for info in symbols {
                        let info = info.map_err(|e| self.wasm_err(e))?;
                        let symbol = self.symbol(info)?;
                        self.obj.symbols.push(symbol);
                    }
                }
                Linking::SegmentInfo(segments) => {
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
        let funcs = self.obj.num_imported_funcs() as usize + self.obj.funcs.len();
        let globals = self.obj.num_imported_globals() as usize + self.obj.globals.len();
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
                    let imported = self.obj.num_imported_funcs();
                    (idx as usize) < funcs && (undefined == (idx < imported))
                }
                SymbolKind::Global(idx) => {
                    let imported = self.obj.num_imported_globals();
                    (idx as usize) < globals && (undefined == (idx < imported))
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

    fn read_relocs(
        &mut self,
        reader: RelocSectionReader<'a>,
        offset: u64,
    ) -> Result<(), ObjectError> {
        let target = reader.section_index();
        // The chunk the current run of relocations patches, and the run itself.
        let mut run: Option<(u8, usize)> = None;
        let mut pending: Vec<Reloc> = Vec::new();
        let list = reader.entries();
        let bytes = self
            .bytes
            .get(list.original_position() as usize..list.range().end as usize)
            .unwrap_or_default();
        let mut entries = RelocEntries {
            bytes,
            pos: 0,
            base: list.original_position(),
        };
        for _ in 0..list.count() {
            let entry_at = entries.offset();
            let Some(entry) = entries.next() else {
                return Err(self.err(entry_at, "truncated or malformed relocation entry"));
            };
            let Some(ty) = entry.ty else {
                return Err(self.err(
                    entry_at,
                    format!("unknown relocation type {}", entry.raw_ty),
                ));
            };
            if ty != RelocType::TypeIndexLeb {
                let Some(sym) = self.obj.symbols.get(entry.index as usize) else {
                    return Err(self.err(
                        offset,
                        format!(
                            "relocation refers to symbol {}, but there are {}",
                            entry.index,
                            self.obj.symbols.len()
                        ),
                    ));
                };
                if !reloc_fits_symbol(ty, sym.kind) {
                    return Err(self.err(
                        offset,
                        format!(
                            "relocation {ty:?} cannot refer to {:?} symbol `{}`",
                            sym.kind, sym.name
                        ),
                    ));
                }
            } else if entry.index as usize >= self.obj.types.len() {
                return Err(self.err(
                    offset,
                    format!(
                        "relocation refers to type {}, but there are {}",
                        entry.index,
                        self.obj.types.len()
                    ),
                ));
            }
            // wasm32 objects write addends as 32-bit LEBs; only wasm64's relocation types
            // have 64-bit ones, and kiln links wasm32 only.
            let Ok(addend) = i32::try_from(entry.addend) else {
                return Err(self.err(
                    offset,
                    format!(
                        "relocation {ty:?} has addend {}, which does not fit in 32 bits \
                         (64-bit memory is not supported)",
                        entry.addend
                    ),
                ));
            };
            let at = u64::from(entry.offset);
            let end = at + ty.width() as u64;
            let (chunks, relocs): (&[Range<u64>], _) =
                if self.chunks.code.is_some_and(|(i, _)| i == target) {
                    (&self.chunks.funcs, 0u8)
                } else if self.chunks.data.is_some_and(|(i, _)| i == target) {
                    (&self.chunks.segments, 1)
                } else if let Some(&(_, n, _)) =
                    self.chunks.customs.iter().find(|(i, _, _)| *i == target)
                {
                    let len = self.obj.customs[n].data.len() as u64;
                    if end > len {
                        return Err(self.err(
                            offset,
                            format!(
                                "relocation at {at:#x} is past the end of section `{}`",
                                self.obj.customs[n].name
                            ),
                        ));
                    }
                    self.obj.customs[n].relocs.push(Reloc {
                        ty,
                        offset: entry.offset,
                        index: entry.index,
                        addend,
                    });
                    continue;
                } else {
                    return Err(self.err(
                        offset,
                        format!("relocations for section {target}, which cannot have any"),
                    ));
                };
            // The chunk that contains the field: chunks are sorted by start, and LLVM writes
            // relocations in offset order, so the chunk of the previous one is tried first.
            let same = run.filter(|&(kind, i)| {
                kind == relocs && chunks.get(i).is_some_and(|r| r.start <= at && at < r.end)
            });
            let i = match same {
                Some((_, i)) => i,
                None => chunks.partition_point(|r| r.end <= at),
            };
            let Some(chunk) = chunks.get(i).filter(|r| r.start <= at && end <= r.end) else {
                return Err(self.err(
                    offset,
                    format!(
                        "relocation at {at:#x} (width {}) is not inside one {}",
                        ty.width(),
                        if relocs == 0 {
                            "function body"
                        } else {
                            "data segment"
                        }
                    ),
                ));
            };
            let reloc = Reloc {
                ty,
                offset: (at - chunk.start) as u32,
                index: entry.index,
                addend,
            };
            if run != Some((relocs, i)) {
                self.flush_run(run, &mut pending);
                run = Some((relocs, i));
            }
            pending.push(reloc);
        }
        if entries.pos != entries.bytes.len() {
            return Err(self.err(
                entries.offset(),
                "unexpected bytes after the relocation entries",
            ));
        }
        self.flush_run(run, &mut pending);
        for f in &mut self.obj.funcs {
            if !f.relocs.is_sorted_by_key(|r| r.offset) {
                f.relocs.sort_by_key(|r| r.offset);
            }
        }
        for s in &mut self.obj.segments {
            if !s.relocs.is_sorted_by_key(|r| r.offset) {
                s.relocs.sort_by_key(|r| r.offset);
            }
        }
        Ok(())
    }

    /// Moves a run of relocations for one chunk (`(0, function)` or `(1, segment)`) into
    /// it: one exact allocation per chunk rather than a vector grown one push at a time.
    fn flush_run(&mut self, run: Option<(u8, usize)>, pending: &mut Vec<Reloc>) {
        let relocs = match run {
            Some((0, i)) => self.obj.funcs.get_mut(i).map(|f| &mut f.relocs),
            Some((_, i)) => self.obj.segments.get_mut(i).map(|s| &mut s.relocs),
            None => None,
        };
        if let Some(relocs) = relocs {
            if relocs.is_empty() {
                *relocs = pending.as_slice().to_vec();
            } else {
                relocs.extend_from_slice(pending);
            }
        }
        pending.clear();
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

/// Whether relocation type `ty` may refer to a symbol of this kind (Linking.md's table;
/// `GlobalIndex*` against data and functions is wasm-ld's GOT access and is allowed).
fn reloc_fits_symbol(ty: RelocType, kind: SymbolKind) -> bool {
    use RelocType::*;
    match ty {
        FunctionIndexLeb | FunctionIndexI32 | TableIndexSleb | TableIndexI32 | TableIndexSleb64
        | TableIndexI64 | TableIndexRelSleb | TableIndexRelSleb64 | FunctionOffsetI32
        | FunctionOffsetI64 => matches!(kind, SymbolKind::Function(_)),
        MemoryAddrLeb | MemoryAddrSleb | MemoryAddrI32 | MemoryAddrLeb64 | MemoryAddrSleb64
        | MemoryAddrI64 | MemoryAddrRelSleb | MemoryAddrRelSleb64 | MemoryAddrTlsSleb
        | MemoryAddrTlsSleb64 | MemoryAddrLocrelI32 => matches!(kind, SymbolKind::Data(_)),
        GlobalIndexLeb | GlobalIndexI32 => matches!(
            kind,
            SymbolKind::Global(_) | SymbolKind::Data(_) | SymbolKind::Function(_)
        ),
        SectionOffsetI32 => matches!(kind, SymbolKind::Section(_)),
        TagIndexLeb => matches!(kind, SymbolKind::Tag(_)),
        TableNumberLeb => matches!(kind, SymbolKind::Table(_)),
        TypeIndexLeb => true,
    }
}

/// One entry of a `reloc.*` section as [`RelocEntries`] decodes it.
struct RelocEntry {
    /// `None`: a type kiln does not know (`raw_ty`).
    ty: Option<RelocType>,
    raw_ty: u8,
    offset: u32,
    index: u32,
    addend: i64,
}

/// The entries of a `reloc.*` section, decoded straight from the bytes: they are most of
/// what an object's reader decodes, and a loop specialized to their layout (type byte,
/// offset, index, an addend for the types that have one; LEB128s mostly one or two bytes
/// long) is several times faster than a general reader. LEB128s follow the wasm spec's
/// limits (5 bytes for 32 bits, 10 for 64, unused bits of the last byte clear, as their
/// sign for signed ones); anything else ends the decoding with `None`.
struct RelocEntries<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// File offset of `bytes[0]`.
    base: u64,
}

impl RelocEntries<'_> {
    /// File offset of the next byte.
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn next(&mut self) -> Option<RelocEntry> {
        let raw_ty = *self.bytes.get(self.pos)?;
        self.pos += 1;
        let ty = RelocType::from_u32(u32::from(raw_ty));
        let offset = self.uleb32()?;
        let index = self.uleb32()?;
        let addend = match ty {
            Some(t) if t.has_addend() && t.addend_is_64() => self.sleb(10)?,
            Some(t) if t.has_addend() => self.sleb(5)?,
            _ => 0,
        };
        Some(RelocEntry {
            ty,
            raw_ty,
            offset,
            index,
            addend,
        })
    }

    fn uleb32(&mut self) -> Option<u32> {
        let first = *self.bytes.get(self.pos)?;
        self.pos += 1;
        if first < 0x80 {
            return Some(u32::from(first));
        }
        let mut value = u32::from(first & 0x7f);
        for shift in [7, 14, 21, 28] {
            let byte = *self.bytes.get(self.pos)?;
            self.pos += 1;
            if shift == 28 && byte > 0x0f {
                return None;
            }
            value |= u32::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }

    /// A signed LEB128 of at most `max_bytes` bytes (5: 32 bits, 10: 64 bits).
    fn sleb(&mut self, max_bytes: u32) -> Option<i64> {
        let bits = if max_bytes == 5 { 32 } else { 64 };
        let mut value: i64 = 0;
        let mut shift = 0u32;
        for n in 1..=max_bytes {
            let byte = *self.bytes.get(self.pos)?;
            self.pos += 1;
            value |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if n == max_bytes {
                    // The last byte's bits beyond the value's width must repeat its sign.
                    let used = bits - 7 * (max_bytes - 1);
                    let sign_and_unused = (byte as i8) << 1 >> used;
                    if sign_and_unused != 0 && sign_and_unused != -1 {
                        return None;
                    }
                }
                if shift < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Some(if bits == 32 {
                    i64::from(value as i32)
                } else {
                    value
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod reloc_entry_tests {
    use super::RelocEntries;
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
        let mut r = RelocEntries {
            bytes,
            pos: 0,
            base: 0,
        };
        let e = r.next()?;
        e.ty?;
        Some((e.raw_ty, e.offset, e.index, e.addend, r.pos))
    }

    fn uleb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            out.push(if v == 0 { b } else { b | 0x80 });
            if v == 0 {
                break;
            }
        }
    }

    fn sleb(out: &mut Vec<u8>, mut v: i64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            let done = (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0);
            out.push(if done { b } else { b | 0x80 });
            if done {
                break;
            }
        }
    }

    /// Well-formed entries of every type, with values at the LEB128 length boundaries,
    /// and random bytes (truncated, overlong, out-of-range LEB128s): the decoder agrees
    /// with wasmparser on every input, value and length.
    #[test]
    fn reloc_entries_decode_as_wasmparser_does() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
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
                    uleb(&mut bytes, a as u64 & 0xffff_ffff);
                    uleb(&mut bytes, b as u64 & 0xffff_ffff);
                    sleb(&mut bytes, a.wrapping_mul(b));
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
