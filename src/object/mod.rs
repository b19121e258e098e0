//! The object model: one relocatable wasm object in memory, as the tool-conventions
//! (`Linking.md`) define it.
//!
//! Lowering IR produces an [`Object`]; the object reader produces the same from a clang `.o`
//! file; the link stage consumes both without knowing which is which. Bytes borrow from the
//! input where they can (`Cow::Borrowed` into a memory-mapped file) and are owned where
//! kiln made them.
//!
//! Invariants:
//! - Function indices count imported functions first, then `funcs`; global indices likewise.
//! - Every relocation site in code and data is padded to its full width (5-byte LEBs for
//!   32-bit, 10 for 64-bit), so the linker patches in place without moving bytes.
//! - Relocation offsets are relative to the start of the chunk they patch: a function's
//!   [`Func::body`] (its locals declaration and code, without the size prefix), a data
//!   segment's bytes, or a custom section's payload.
//! - The relocations of all function bodies and data segments are in one array per object,
//!   [`Object::relocs`], each chunk's entries contiguous and sorted by offset, the chunk
//!   holding their range ([`RelocRange`]); read them with [`Object::func_relocs`] and
//!   [`Object::segment_relocs`]. (One array instead of a vector per chunk: a 400-object link
//!   has 80,000 functions.) Custom sections, few and large, keep their own vectors.
//! - Symbol `index` fields refer to this object's own index spaces; relocations refer to
//!   symbols by their position in [`Object::symbols`] (except `TypeIndexLeb`, which names a
//!   type index).

use std::borrow::Cow;

use crate::ir::TagType;

mod archive;
pub mod dump;
mod read;
pub use archive::{Archive, Member, is_archive, read_archive};
pub use dump::dump_object;
pub use read::{ObjectError, is_relocatable, read_object};

/// A wasm value type as objects use it.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum ValType {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `v128` (SIMD)
    V128,
    /// `funcref`
    FuncRef,
    /// `externref`
    ExternRef,
}

/// A function type.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct FuncType {
    /// Parameters.
    pub params: Vec<ValType>,
    /// Results.
    pub results: Vec<ValType>,
}

/// What an import brings in.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ImportKind {
    /// A function of the given type index.
    Func(u32),
    /// A global.
    Global {
        /// Value type.
        ty: ValType,
        /// Mutability.
        mutable: bool,
    },
    /// A table (objects import `__indirect_function_table`).
    Table {
        /// Element type (`FuncRef` or `ExternRef`).
        elem: ValType,
        /// Minimum size.
        min: u64,
        /// Maximum size.
        max: Option<u64>,
    },
    /// A memory (objects import `env.__linear_memory`).
    Memory {
        /// Minimum pages.
        min: u64,
        /// Maximum pages.
        max: Option<u64>,
        /// Shared memory.
        shared: bool,
        /// 64-bit addresses.
        memory64: bool,
    },
    /// An exception tag of the given type index.
    Tag(u32),
}

/// An import.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Import<'a> {
    /// Import module.
    pub module: Cow<'a, str>,
    /// Field name.
    pub name: Cow<'a, str>,
    /// What is imported.
    pub kind: ImportKind,
}

/// The relocation types of `Linking.md` (and `DynamicLinking.md`), with their numbers.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum RelocType {
    /// 0: function index, 5-byte ULEB (`call`).
    FunctionIndexLeb = 0,
    /// 1: table slot of a function, 5-byte SLEB (`i32.const`).
    TableIndexSleb = 1,
    /// 2: table slot of a function, `u32` (data).
    TableIndexI32 = 2,
    /// 3: address plus addend, 5-byte ULEB (`memarg` offset).
    MemoryAddrLeb = 3,
    /// 4: address plus addend, 5-byte SLEB (`i32.const`).
    MemoryAddrSleb = 4,
    /// 5: address plus addend, `u32` (data).
    MemoryAddrI32 = 5,
    /// 6: type index, 5-byte ULEB (`call_indirect`); the index is a type, not a symbol.
    TypeIndexLeb = 6,
    /// 7: global index, 5-byte ULEB.
    GlobalIndexLeb = 7,
    /// 8: code offset of a function plus addend, `u32` (debug info).
    FunctionOffsetI32 = 8,
    /// 9: offset of a section symbol's section in the output plus addend, `u32` (debug info).
    SectionOffsetI32 = 9,
    /// 10: tag index, 5-byte ULEB.
    TagIndexLeb = 10,
    /// 11: address relative to `__memory_base`, 5-byte SLEB (PIC).
    MemoryAddrRelSleb = 11,
    /// 12: table slot relative to `__table_base`, 5-byte SLEB (PIC).
    TableIndexRelSleb = 12,
    /// 13: global index, `u32` (debug info).
    GlobalIndexI32 = 13,
    /// 14: 64-bit address, 10-byte ULEB.
    MemoryAddrLeb64 = 14,
    /// 15: 64-bit address, 10-byte SLEB.
    MemoryAddrSleb64 = 15,
    /// 16: 64-bit address, `u64`.
    MemoryAddrI64 = 16,
    /// 17: 64-bit address relative to `__memory_base`, 10-byte SLEB.
    MemoryAddrRelSleb64 = 17,
    /// 18: 64-bit table slot, 10-byte SLEB.
    TableIndexSleb64 = 18,
    /// 19: 64-bit table slot, `u64`.
    TableIndexI64 = 19,
    /// 20: table number, 5-byte ULEB.
    TableNumberLeb = 20,
    /// 21: offset from `__tls_base`, 5-byte SLEB.
    MemoryAddrTlsSleb = 21,
    /// 22: 64-bit function code offset, `u64`.
    FunctionOffsetI64 = 22,
    /// 23: address minus the address of the patched word, `u32`.
    MemoryAddrLocrelI32 = 23,
    /// 24: 64-bit table slot relative to `__table_base`, 10-byte SLEB.
    TableIndexRelSleb64 = 24,
    /// 25: 64-bit offset from `__tls_base`, 10-byte SLEB.
    MemoryAddrTlsSleb64 = 25,
    /// 26: function index, `u32` (custom sections).
    FunctionIndexI32 = 26,
}

impl RelocType {
    /// The relocation type with this number.
    pub fn from_u32(n: u32) -> Option<RelocType> {
        use RelocType::*;
        const ALL: [RelocType; 27] = [
            FunctionIndexLeb,
            TableIndexSleb,
            TableIndexI32,
            MemoryAddrLeb,
            MemoryAddrSleb,
            MemoryAddrI32,
            TypeIndexLeb,
            GlobalIndexLeb,
            FunctionOffsetI32,
            SectionOffsetI32,
            TagIndexLeb,
            MemoryAddrRelSleb,
            TableIndexRelSleb,
            GlobalIndexI32,
            MemoryAddrLeb64,
            MemoryAddrSleb64,
            MemoryAddrI64,
            MemoryAddrRelSleb64,
            TableIndexSleb64,
            TableIndexI64,
            TableNumberLeb,
            MemoryAddrTlsSleb,
            FunctionOffsetI64,
            MemoryAddrLocrelI32,
            TableIndexRelSleb64,
            MemoryAddrTlsSleb64,
            FunctionIndexI32,
        ];
        ALL.get(n as usize).copied()
    }

    /// Whether entries of this type carry an addend.
    pub fn has_addend(self) -> bool {
        use RelocType::*;
        matches!(
            self,
            MemoryAddrLeb
                | MemoryAddrSleb
                | MemoryAddrI32
                | MemoryAddrLeb64
                | MemoryAddrSleb64
                | MemoryAddrI64
                | MemoryAddrRelSleb
                | MemoryAddrRelSleb64
                | MemoryAddrTlsSleb
                | MemoryAddrTlsSleb64
                | MemoryAddrLocrelI32
                | FunctionOffsetI32
                | FunctionOffsetI64
                | SectionOffsetI32
        )
    }

    /// Whether the addend of this type is a 64-bit LEB128 (wasm64 types).
    pub fn addend_is_64(self) -> bool {
        use RelocType::*;
        matches!(
            self,
            MemoryAddrLeb64
                | MemoryAddrSleb64
                | MemoryAddrI64
                | MemoryAddrRelSleb64
                | MemoryAddrTlsSleb64
                | FunctionOffsetI64
        )
    }

    /// Bytes the patched field occupies.
    pub fn width(self) -> usize {
        use RelocType::*;
        match self {
            FunctionIndexLeb | TableIndexSleb | MemoryAddrLeb | MemoryAddrSleb | TypeIndexLeb
            | GlobalIndexLeb | TagIndexLeb | MemoryAddrRelSleb | TableIndexRelSleb
            | TableNumberLeb | MemoryAddrTlsSleb => 5,
            MemoryAddrLeb64 | MemoryAddrSleb64 | MemoryAddrRelSleb64 | TableIndexSleb64
            | TableIndexRelSleb64 | MemoryAddrTlsSleb64 => 10,
            TableIndexI32 | MemoryAddrI32 | FunctionOffsetI32 | SectionOffsetI32
            | GlobalIndexI32 | MemoryAddrLocrelI32 | FunctionIndexI32 => 4,
            MemoryAddrI64 | TableIndexI64 | FunctionOffsetI64 => 8,
        }
    }
}

/// One relocation: patch the field at `offset` with the value of symbol `index` (plus
/// `addend`), encoded as `ty` says.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Reloc {
    /// Type.
    pub ty: RelocType,
    /// Offset of the field in its chunk.
    pub offset: u32,
    /// Symbol index (type index for `TypeIndexLeb`).
    pub index: u32,
    /// Addend (0 for types without one). 32 bits, as wasm32 objects write it: the fields
    /// it ends up in are 32-bit, where address arithmetic wraps.
    pub addend: i32,
}

// Sixteen bytes: a large link holds hundreds of thousands of them.
const _: () = assert!(std::mem::size_of::<Reloc>() == 16);

/// A chunk's relocations: a range of [`Object::relocs`].
#[derive(Copy, Clone, Default, PartialEq, Eq, Debug)]
pub struct RelocRange {
    /// Index of the first entry.
    pub start: u32,
    /// Number of entries.
    pub len: u32,
}

impl RelocRange {
    /// Number of entries.
    pub fn len(self) -> usize {
        self.len as usize
    }

    /// Whether there is no entry.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    /// The range of indices into [`Object::relocs`].
    pub fn indices(self) -> std::ops::Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

/// A defined function.
#[derive(Clone, Debug)]
pub struct Func<'a> {
    /// Type index.
    pub type_index: u32,
    /// The body as in the code section, without its size: locals declaration and code.
    pub body: Cow<'a, [u8]>,
    /// Relocations relative to `body`: their range of [`Object::relocs`].
    pub relocs: RelocRange,
    /// Offset of `body` in the input's code section payload (for `FunctionOffsetI32` in
    /// debug info); 0 for lowered code.
    pub input_offset: u32,
    /// Names of locals for the `name` section.
    pub local_names: LocalNames,
}

/// A function's local names for the `name` section, kept as that section encodes them: per
/// entry the local index (LEB), the name's length (LEB) and its bytes, by increasing index,
/// in one buffer. Making them costs one allocation per function, and the link copies the
/// buffer into the section as it is.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct LocalNames {
    /// Number of entries.
    count: u32,
    /// Index of the last entry (when `count > 0`).
    last: u32,
    /// The entries, encoded.
    bytes: Vec<u8>,
}

impl LocalNames {
    /// Appends the name of local `index`, which must be above the indices already named:
    /// otherwise nothing is added and the result is false.
    pub fn push(&mut self, index: u32, name: &str) -> bool {
        self.push_parts(index, &[name.as_bytes()])
    }

    /// Like [`LocalNames::push`] with the name `prefix` followed by the decimal digits of
    /// `n` (`v12`, as a value's `Display` writes it), without formatting the name first.
    pub fn push_numbered(&mut self, index: u32, prefix: &str, n: u32) -> bool {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut n = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push_parts(index, &[prefix.as_bytes(), &digits[i..]])
    }

    /// [`LocalNames::push`] of the name made of `parts` in order.
    #[inline]
    fn push_parts(&mut self, index: u32, parts: &[&[u8]]) -> bool {
        if self.count > 0 && index <= self.last {
            return false;
        }
        put_uleb(&mut self.bytes, u64::from(index));
        put_uleb(&mut self.bytes, parts.iter().map(|p| p.len() as u64).sum());
        for p in parts {
            self.bytes.extend_from_slice(p);
        }
        self.count += 1;
        self.last = index;
        true
    }

    /// Removes every entry (keeping the buffer).
    pub fn clear(&mut self) {
        self.count = 0;
        self.last = 0;
        self.bytes.clear();
    }

    /// Reserves room for `bytes` more bytes of entries.
    pub fn reserve(&mut self, bytes: usize) {
        self.bytes.reserve(bytes);
    }

    /// Number of entries.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries as the `name` section encodes a name map after its count.
    pub fn encoded(&self) -> &[u8] {
        &self.bytes
    }

    /// The entries: (local index, name), by increasing index.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        let mut rest = &self.bytes[..];
        std::iter::from_fn(move || {
            let index = take_uleb(&mut rest)?;
            let len = take_uleb(&mut rest)? as usize;
            let name = rest.get(..len)?;
            rest = &rest[len..];
            Some((index as u32, std::str::from_utf8(name).unwrap_or_default()))
        })
    }
}

/// Reads a LEB128 that [`put_uleb`] wrote from the start of `rest`, advancing it.
fn take_uleb(rest: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (k, &b) in rest.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * k);
        if b & 0x80 == 0 {
            *rest = &rest[k + 1..];
            return Some(v);
        }
    }
    None
}

/// A defined global.
#[derive(Clone, PartialEq, Debug)]
pub struct Global {
    /// Value type.
    pub ty: ValType,
    /// Mutability.
    pub mutable: bool,
    /// Initial value.
    pub init: ConstExpr,
}

/// A global's initializer.
#[derive(Copy, Clone, PartialEq, Debug)]
pub enum ConstExpr {
    /// `i32.const`
    I32(i32),
    /// `i64.const`
    I64(i64),
    /// `f32.const` (bits)
    F32(u32),
    /// `f64.const` (bits)
    F64(u64),
    /// `ref.null`
    RefNull,
}

/// Bytes of a data segment.
#[derive(Clone, Debug)]
pub enum SegmentData<'a> {
    /// Initialized bytes.
    Bytes(Cow<'a, [u8]>),
    /// This many zero bytes (`.bss`, `.tbss`).
    Zero(u64),
}

/// A data segment with its `SEGMENT_INFO`.
#[derive(Clone, Debug)]
pub struct Segment<'a> {
    /// Name (`.rodata.x`, `.bss.y`, `.tdata.z`, or a user section).
    pub name: Cow<'a, str>,
    /// Alignment, log2.
    pub align_log2: u32,
    /// `SEGMENT_INFO` flags ([`SEG_STRINGS`], [`SEG_TLS`], [`SEG_RETAIN`]).
    pub flags: u32,
    /// Contents.
    pub data: SegmentData<'a>,
    /// Relocations relative to the segment's start: their range of [`Object::relocs`].
    pub relocs: RelocRange,
}

impl Segment<'_> {
    /// Size in bytes.
    pub fn size(&self) -> u64 {
        match &self.data {
            SegmentData::Bytes(b) => b.len() as u64,
            SegmentData::Zero(n) => *n,
        }
    }

    /// Whether the segment is thread-local.
    pub fn is_tls(&self) -> bool {
        self.flags & SEG_TLS != 0
    }
}

/// Segment flag: null-terminated strings, mergeable.
pub const SEG_STRINGS: u32 = 0x1;
/// Segment flag: thread-local.
pub const SEG_TLS: u32 = 0x2;
/// Segment flag: keep while its object is live.
pub const SEG_RETAIN: u32 = 0x4;

/// Symbol flag: weak binding.
pub const SYM_WEAK: u32 = 0x1;
/// Symbol flag: local binding.
pub const SYM_LOCAL: u32 = 0x2;
/// Symbol flag: hidden visibility.
pub const SYM_HIDDEN: u32 = 0x4;
/// Symbol flag: undefined.
pub const SYM_UNDEFINED: u32 = 0x10;
/// Symbol flag: exported from the final module.
pub const SYM_EXPORTED: u32 = 0x20;
/// Symbol flag: the name is given explicitly, not taken from the import.
pub const SYM_EXPLICIT_NAME: u32 = 0x40;
/// Symbol flag: a root for garbage collection.
pub const SYM_NO_STRIP: u32 = 0x80;
/// Symbol flag: thread-local data.
pub const SYM_TLS: u32 = 0x100;
/// Symbol flag: the data address is absolute, not segment-relative.
pub const SYM_ABSOLUTE: u32 = 0x200;

/// Where a defined data symbol lives.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct DataDef {
    /// Segment index.
    pub segment: u32,
    /// Offset in the segment (the address itself with `SYM_ABSOLUTE`).
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
}

/// What a symbol names.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum SymbolKind {
    /// A function (an import when undefined).
    Function(u32),
    /// Data: defined in a segment, or undefined.
    Data(Option<DataDef>),
    /// A global (an import when undefined).
    Global(u32),
    /// A custom section (for debug-info relocations): its index in [`Object::customs`].
    Section(u32),
    /// An exception tag.
    Tag(u32),
    /// A table (an import when undefined).
    Table(u32),
}

/// A symbol of the `linking` section's symbol table.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Symbol<'a> {
    /// Name (for undefined symbols without `SYM_EXPLICIT_NAME`, the import's field name).
    pub name: Cow<'a, str>,
    /// `SYM_*` flags.
    pub flags: u32,
    /// What it names.
    pub kind: SymbolKind,
}

impl Symbol<'_> {
    /// Whether the symbol is undefined here.
    pub fn is_undefined(&self) -> bool {
        self.flags & SYM_UNDEFINED != 0
    }

    /// Whether the symbol has local binding.
    pub fn is_local(&self) -> bool {
        self.flags & SYM_LOCAL != 0
    }

    /// Whether the symbol has weak binding.
    pub fn is_weak(&self) -> bool {
        self.flags & SYM_WEAK != 0
    }
}

/// An init function (`WASM_INIT_FUNCS`): a constructor by priority.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct InitFunc {
    /// Priority; lower runs first.
    pub priority: u32,
    /// The function's symbol index.
    pub symbol: u32,
}

/// What a comdat member is.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum ComdatMember {
    /// A data segment index.
    Data(u32),
    /// A function index.
    Function(u32),
    /// A global index.
    Global(u32),
    /// A tag index.
    Tag(u32),
    /// A table index.
    Table(u32),
    /// A custom section index.
    Section(u32),
}

/// A comdat group: its members are kept from the first input that defines it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Comdat<'a> {
    /// Group name.
    pub name: Cow<'a, str>,
    /// Members.
    pub members: Vec<ComdatMember>,
}

/// A custom section other than `linking`, `reloc.*`, `name` and `target_features`, which
/// have their own fields (`producers` is one: the linker merges it).
#[derive(Clone, Debug)]
pub struct CustomSection<'a> {
    /// Section name (`.debug_info`, ...).
    pub name: Cow<'a, str>,
    /// Payload.
    pub data: Cow<'a, [u8]>,
    /// Relocations relative to the payload, sorted by offset.
    pub relocs: Vec<Reloc>,
}

/// A `target_features` entry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Feature {
    /// `b'+'` used, `b'-'` disallowed, `b'='` required (old objects).
    pub prefix: u8,
    /// Feature name (`bulk-memory`, `atomics`, ...).
    pub name: String,
}

/// kiln's extra: the description of an enum whose tag-name function an input calls. The
/// function itself is an undefined function symbol the link stage synthesizes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EnumInfo {
    /// The undefined function symbol (`__kiln_tag_name.NAME`), type `(tag) -> ptr`: it
    /// returns the address of the variant's entry in the name table, a pointer to the
    /// name's bytes followed by its length (both `ptr`), and traps for a value with no name.
    pub symbol: u32,
    /// Tag integer type.
    pub tag: TagType,
    /// (name, value) of each variant, in declaration order.
    pub variants: Vec<(String, i128)>,
}

/// A relocatable object.
#[derive(Clone, Debug, Default)]
pub struct Object<'a> {
    /// The file it came from, or the IR module's file, for diagnostics.
    pub path: String,
    /// Function types.
    pub types: Vec<FuncType>,
    /// Imports, in order.
    pub imports: Vec<Import<'a>>,
    /// Defined functions, after the imported ones in the index space.
    pub funcs: Vec<Func<'a>>,
    /// Defined globals, after the imported ones in the index space.
    pub globals: Vec<Global>,
    /// Data segments.
    pub segments: Vec<Segment<'a>>,
    /// The relocations of the function bodies and data segments, each chunk's contiguous
    /// and sorted by offset (in chunk order when the reader made them: code, then data).
    pub relocs: Vec<Reloc>,
    /// The symbol table.
    pub symbols: Vec<Symbol<'a>>,
    /// Init functions.
    pub init_funcs: Vec<InitFunc>,
    /// Comdat groups.
    pub comdats: Vec<Comdat<'a>>,
    /// Other custom sections.
    pub customs: Vec<CustomSection<'a>>,
    /// `target_features`.
    pub features: Vec<Feature>,
    /// Function exports the object states itself (`export_name`): (name, function index).
    pub exports: Vec<(Cow<'a, str>, u32)>,
    /// kiln's enum descriptions for tag-name functions.
    pub enums: Vec<EnumInfo>,
    /// kiln's extra, from IR lowering: the runtime functions it calls for intrinsics it does
    /// not inline, as (undefined function symbol, the intrinsic's text name), so that a link
    /// without them can say which intrinsic needs what.
    pub intrinsics: Vec<(u32, &'static str)>,
}

impl Object<'_> {
    /// The relocations of `range`; none when it is not a range of [`Object::relocs`].
    pub fn relocs_in(&self, range: RelocRange) -> &[Reloc] {
        self.relocs.get(range.indices()).unwrap_or_default()
    }

    /// The relocations of defined function `i` (counting from 0, without the imported
    /// ones), sorted by offset; none when there is no such function.
    pub fn func_relocs(&self, i: usize) -> &[Reloc] {
        self.funcs.get(i).map_or(&[], |f| self.relocs_in(f.relocs))
    }

    /// The relocations of data segment `i`, sorted by offset; none when there is no such
    /// segment.
    pub fn segment_relocs(&self, i: usize) -> &[Reloc] {
        self.segments
            .get(i)
            .map_or(&[], |s| self.relocs_in(s.relocs))
    }

    /// The relocations of defined function `i`, to change.
    pub fn func_relocs_mut(&mut self, i: usize) -> &mut [Reloc] {
        match self.funcs.get(i) {
            Some(f) => self.relocs.get_mut(f.relocs.indices()).unwrap_or_default(),
            None => &mut [],
        }
    }

    /// The relocations of data segment `i`, to change.
    pub fn segment_relocs_mut(&mut self, i: usize) -> &mut [Reloc] {
        match self.segments.get(i) {
            Some(s) => self.relocs.get_mut(s.relocs.indices()).unwrap_or_default(),
            None => &mut [],
        }
    }

    /// Appends a chunk's relocations (sorted by offset) to [`Object::relocs`] and returns
    /// their range, for [`Func::relocs`] or [`Segment::relocs`].
    pub fn push_relocs(&mut self, relocs: impl IntoIterator<Item = Reloc>) -> RelocRange {
        push_relocs(&mut self.relocs, relocs)
    }

    /// Number of imported functions.
    pub fn num_imported_funcs(&self) -> u32 {
        self.imports
            .iter()
            .filter(|i| matches!(i.kind, ImportKind::Func(_)))
            .count() as u32
    }

    /// Number of imported globals.
    pub fn num_imported_globals(&self) -> u32 {
        self.imports
            .iter()
            .filter(|i| matches!(i.kind, ImportKind::Global { .. }))
            .count() as u32
    }
}

/// Appends a chunk's relocations to an object's array (`relocs`, to be
/// [`Object::relocs`]) and returns their range.
pub(crate) fn push_relocs(
    relocs: &mut Vec<Reloc>,
    chunk: impl IntoIterator<Item = Reloc>,
) -> RelocRange {
    let start = relocs.len();
    relocs.extend(chunk);
    RelocRange {
        start: start as u32,
        len: (relocs.len() - start) as u32,
    }
}

/// Appends `v` as a minimal unsigned LEB128.
pub(crate) fn put_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Appends `v` as a minimal signed LEB128.
pub(crate) fn put_sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0) {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Writes `value` as a 5-byte padded unsigned LEB into `out[..5]`.
pub fn write_uleb5(out: &mut [u8], value: u32) {
    let mut v = value;
    for b in out.iter_mut().take(4) {
        *b = (v as u8 & 0x7f) | 0x80;
        v >>= 7;
    }
    out[4] = v as u8 & 0x7f;
}

/// Writes `value` as a 5-byte padded signed LEB into `out[..5]`.
pub fn write_sleb5(out: &mut [u8], value: i32) {
    let mut v = value;
    for b in out.iter_mut().take(4) {
        *b = (v as u8 & 0x7f) | 0x80;
        v >>= 7;
    }
    out[4] = v as u8 & 0x7f;
}

/// Writes `value` as a 10-byte padded unsigned LEB into `out[..10]`.
pub fn write_uleb10(out: &mut [u8], value: u64) {
    let mut v = value;
    for b in out.iter_mut().take(9) {
        *b = (v as u8 & 0x7f) | 0x80;
        v >>= 7;
    }
    out[9] = v as u8 & 0x7f;
}

/// Writes `value` as a 10-byte padded signed LEB into `out[..10]`.
pub fn write_sleb10(out: &mut [u8], value: i64) {
    let mut v = value;
    for b in out.iter_mut().take(9) {
        *b = (v as u8 & 0x7f) | 0x80;
        v >>= 7;
    }
    out[9] = v as u8 & 0x7f;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_lebs() {
        let mut b = [0u8; 5];
        write_uleb5(&mut b, 3);
        assert_eq!(b, [0x83, 0x80, 0x80, 0x80, 0x00]);
        write_sleb5(&mut b, -1);
        assert_eq!(b, [0xff, 0xff, 0xff, 0xff, 0x7f]);
        write_uleb5(&mut b, u32::MAX);
        assert_eq!(b, [0xff, 0xff, 0xff, 0xff, 0x0f]);
        let mut b = [0u8; 10];
        write_sleb10(&mut b, i64::MIN);
        assert_eq!(b[9], 0x7f);
        assert_eq!(RelocType::from_u32(26), Some(RelocType::FunctionIndexI32));
        assert_eq!(RelocType::from_u32(27), None);
    }

    /// Local names encode as wasm-encoder's name map does (after its count), read back as
    /// they were pushed, and refuse an index that is not above the previous one.
    #[test]
    fn local_names_encode_as_a_name_map() {
        use wasm_encoder::Encode;
        let long = "x".repeat(200);
        let entries: Vec<(u32, &str)> = vec![
            (0, "v0"),
            (1, ""),
            (127, "v127"),
            (128, long.as_str()),
            (70_000, "é"),
            (u32::MAX, "last"),
        ];
        let mut names = LocalNames::default();
        let mut map = wasm_encoder::NameMap::new();
        for &(i, n) in &entries {
            assert!(names.push(i, n));
            map.append(i, n);
        }
        assert_eq!(names.len(), entries.len() as u32);
        assert!(!names.push(u32::MAX, "again"));
        assert!(!names.push(5, "back"));
        assert_eq!(names.iter().collect::<Vec<_>>(), entries);
        let mut expected = Vec::new();
        map.encode(&mut expected);
        let mut got = Vec::new();
        put_uleb(&mut got, u64::from(names.len()));
        got.extend_from_slice(names.encoded());
        assert_eq!(got, expected);

        names.clear();
        assert!(names.is_empty() && names.encoded().is_empty());
        assert!(names.push(0, "v0"));
        assert_eq!(names.iter().collect::<Vec<_>>(), [(0, "v0")]);
    }
}

#[cfg(test)]
mod read_tests {
    use wasm_encoder::{
        CodeSection, CustomSection, Encode, Function, FunctionSection, LinkingSection, Module,
        SymbolTable, TypeSection,
    };

    use super::*;

    /// An object of `funcs` functions of type `() -> ()`, each `body` (after the locals
    /// declaration, which is empty), an undefined data symbol `x`, and a `reloc.CODE` of
    /// `entries` (type, offset in the code section's payload, addend) against it, written
    /// by hand (wasm-encoder has no relocation sections).
    fn object_with_relocs(funcs: u32, body: &[u8], entries: &[(RelocType, u32, i64)]) -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut section = FunctionSection::new();
        for _ in 0..funcs {
            section.function(0);
        }
        module.section(&section);
        let mut code = CodeSection::new();
        for _ in 0..funcs {
            let mut f = Function::new([]);
            f.raw(body.iter().copied());
            code.function(&f);
        }
        module.section(&code);
        let mut symbols = SymbolTable::new();
        symbols.data(SymbolTable::WASM_SYM_UNDEFINED, "x", None);
        let mut linking = LinkingSection::new();
        linking.symbol_table(&symbols);
        module.section(&linking);
        // Target section 2: the code section, after type and function.
        let mut reloc = Vec::new();
        2u32.encode(&mut reloc);
        (entries.len() as u32).encode(&mut reloc);
        for &(ty, offset, addend) in entries {
            reloc.push(ty as u8);
            offset.encode(&mut reloc);
            0u32.encode(&mut reloc);
            addend.encode(&mut reloc);
        }
        module.section(&CustomSection {
            name: "reloc.CODE".into(),
            data: reloc.into(),
        });
        module.finish()
    }

    /// An object whose function is `i32.const <x + addend>`: one relocation of type `ty` at
    /// the immediate, payload offset 4 (count, body size, locals, opcode).
    fn object_with_addend(ty: RelocType, addend: i64) -> Vec<u8> {
        // i32.const with a padded 5-byte immediate, drop, end.
        let body = [0x41, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b];
        object_with_relocs(1, &body, &[(ty, 4, addend)])
    }

    /// Relocation entries out of offset order, and a function's entries in two runs with
    /// another function's between them: each function gets its own, sorted by offset, as
    /// one contiguous range of the object's array, in function order.
    #[test]
    fn relocations_are_sorted_per_function() {
        // 16 bytes with the locals declaration: two padded `i32.const` immediates (body
        // offsets 2 and 9) each dropped, end.
        let body = [
            0x41, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x41, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a,
            0x0b,
        ];
        // Payload offsets: the count, then each body after its size byte: the first body at
        // 2 (immediates at 4 and 11), the second at 19 (immediates at 21 and 28). The
        // addends tell the entries apart.
        let sleb = RelocType::MemoryAddrSleb;
        let entries = [(sleb, 11, 2), (sleb, 28, 4), (sleb, 21, 3), (sleb, 4, 1)];
        let bytes = object_with_relocs(2, &body, &entries);
        let obj = read_object("unsorted.o", &bytes).expect("reads");
        let placed = |obj: &Object<'_>, f: usize| -> Vec<(u32, i32)> {
            obj.func_relocs(f)
                .iter()
                .map(|r| (r.offset, r.addend))
                .collect()
        };
        assert_eq!(placed(&obj, 0), [(2, 1), (9, 2)]);
        assert_eq!(placed(&obj, 1), [(2, 3), (9, 4)]);
        let ranges =
            |obj: &Object<'_>| -> Vec<RelocRange> { obj.funcs.iter().map(|f| f.relocs).collect() };
        let range = |start, len| RelocRange { start, len };
        assert_eq!(ranges(&obj), [range(0, 2), range(2, 2)]);
        assert_eq!(obj.relocs.len(), 4);

        // One run per function, the first out of order: sorted where it was decoded.
        let entries = [(sleb, 11, 2), (sleb, 4, 1), (sleb, 21, 3), (sleb, 28, 4)];
        let bytes = object_with_relocs(2, &body, &entries);
        let obj = read_object("run.o", &bytes).expect("reads");
        assert_eq!(placed(&obj, 0), [(2, 1), (9, 2)]);
        assert_eq!(placed(&obj, 1), [(2, 3), (9, 4)]);
        assert_eq!(ranges(&obj), [range(0, 2), range(2, 2)]);
        // No relocations for a function: an empty range.
        let bytes = object_with_relocs(2, &body, &entries[2..]);
        let obj = read_object("one.o", &bytes).expect("reads");
        assert_eq!(ranges(&obj), [range(0, 0), range(0, 2)]);
        assert!(obj.func_relocs(0).is_empty() && obj.func_relocs(2).is_empty());
    }

    /// Counts far beyond what their sections can hold (a function section and a symbol
    /// table of 2^32 - 1 entries in a few bytes) are errors, not allocations that fail.
    #[test]
    fn huge_counts_are_errors() {
        fn section(id: u8, payload: &[u8]) -> Vec<u8> {
            let mut s = vec![id];
            put_uleb(&mut s, payload.len() as u64);
            s.extend_from_slice(payload);
            s
        }
        let huge = [0xff, 0xff, 0xff, 0xff, 0x0f];
        let header = b"\0asm\x01\0\0\0";
        let types = section(1, &[1, 0x60, 0, 0]);
        let mut funcs = huge.to_vec();
        funcs.push(0);
        // `linking`, version 2, a symbol table subsection (8) of `huge` entries.
        let mut linking = b"\x07linking\x02\x08\x06".to_vec();
        linking.extend_from_slice(&huge);
        linking.push(0);
        for (what, bytes) in [
            (
                "functions",
                [&header[..], &types, &section(3, &funcs)].concat(),
            ),
            ("symbols", [&header[..], &section(0, &linking)].concat()),
        ] {
            let err = read_object("huge.o", &bytes).expect_err(what).to_string();
            assert!(
                err.starts_with("huge.o: error at byte offset"),
                "{what}: {err}"
            );
        }
    }

    #[test]
    fn addends_are_32_bit() {
        let bytes = object_with_addend(RelocType::MemoryAddrSleb, -8);
        let obj = read_object("small.o", &bytes).expect("a 32-bit addend reads");
        assert_eq!(obj.func_relocs(0)[0].addend, -8);
        // Only wasm64's relocation types can carry a wider one (wasmparser reads the others'
        // as 32-bit LEBs).
        let bytes = object_with_addend(RelocType::MemoryAddrSleb64, 1 << 40);
        let err = read_object("big.o", &bytes).unwrap_err().to_string();
        assert!(
            err.starts_with("big.o: error at byte offset")
                && err.contains("has addend 1099511627776, which does not fit in 32 bits"),
            "{err}"
        );
    }
}
