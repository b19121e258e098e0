//! The module: declarations of functions, globals, data objects and enums, the function
//! bodies, the order of items in the text, and the comments the printer keeps.
//!
//! Functions, globals and data objects share one symbol namespace (they become linker
//! symbols); enums have their own. Names are not required to be unique here: the parser
//! resolves a reference to the first item of that name and the verifier reports duplicates.

use cranelift_entity::{PrimaryMap, SecondaryMap};

use super::entities::*;
use super::function::{Function, Loc, Signature};
use super::types::{TagType, Type};

/// Where a symbol is visible and where it comes from.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub enum Linkage {
    /// Visible only inside this module (a local symbol). The default.
    #[default]
    Local,
    /// A global symbol: other objects of the link can reference it, but the final module
    /// does not export it.
    Public,
    /// A global symbol that the final module exports under its name.
    Export,
    /// Defined elsewhere: in another object of the link or, for functions and globals, by
    /// the host as an import with an optional explicit module and name.
    Extern(Option<Import>),
}

impl Linkage {
    /// Whether the item is defined elsewhere.
    pub fn is_extern(&self) -> bool {
        matches!(self, Linkage::Extern(_))
    }
}

/// Explicit import module and field name of an extern item.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Import {
    /// Import module (`"env"`, `"wasi_snapshot_preview1"`, ...).
    pub module: String,
    /// Field name.
    pub name: String,
}

/// A function declaration; its body, if defined, is in [`Module::bodies`].
#[derive(Clone, Debug)]
pub struct FuncDecl {
    /// Symbol name.
    pub name: String,
    /// Signature.
    pub sig: Signature,
    /// Linkage.
    pub linkage: Linkage,
    /// Constructor priority: the function runs at start-up, lower numbers first.
    pub ctor: Option<u32>,
    /// Where it was declared.
    pub loc: Loc,
}

/// The default constructor priority, as in C (`__attribute__((constructor))`).
pub const DEFAULT_CTOR_PRIORITY: u32 = 65535;

/// A global variable.
#[derive(Clone, Debug)]
pub struct GlobalDecl {
    /// Symbol name.
    pub name: String,
    /// Value type.
    pub ty: Type,
    /// Whether `global.set` may change it.
    pub mutable: bool,
    /// Initial value as a bit pattern (ignored for extern globals).
    pub init: u64,
    /// Linkage.
    pub linkage: Linkage,
    /// Where it was declared.
    pub loc: Loc,
}

/// The section a data object lives in.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum DataSection {
    /// Read-only data (`.rodata`).
    Rodata,
    /// Initialized data (`.data`).
    Data,
    /// Zero-initialized data (`.bss`).
    Bss,
    /// Initialized thread-local data (`.tdata`).
    Tdata,
    /// Zero-initialized thread-local data (`.tbss`).
    Tbss,
    /// Initialized data in a named section (`__start_NAME`/`__stop_NAME` delimit it).
    Named(String),
}

impl DataSection {
    /// Whether objects of this section are thread-local.
    pub fn is_tls(&self) -> bool {
        matches!(self, DataSection::Tdata | DataSection::Tbss)
    }

    /// Whether objects of this section are zero-initialized (size only, no contents).
    pub fn is_zero(&self) -> bool {
        matches!(self, DataSection::Bss | DataSection::Tbss)
    }
}

/// One piece of a data object's contents, laid out in order without padding.
#[derive(Clone, PartialEq, Debug)]
pub enum DataItem {
    /// A little-endian integer of `bytes` (1, 2, 4 or 8) bytes.
    Int {
        /// Width in bytes.
        bytes: u8,
        /// Value, truncated to the width.
        value: u64,
    },
    /// An `f32` bit pattern.
    F32(u32),
    /// An `f64` bit pattern.
    F64(u64),
    /// Raw bytes (a string literal in the text).
    Bytes(Vec<u8>),
    /// `n` zero bytes.
    Zero(u32),
    /// A pointer-sized address of a data object plus an addend (a relocation).
    DataAddr {
        /// The target.
        data: DataRef,
        /// Addend.
        offset: i64,
    },
    /// A pointer-sized function pointer: the function's table slot (a relocation).
    FuncAddr(FuncRef),
}

impl DataItem {
    /// Size in bytes on wasm32.
    pub fn size(&self) -> u64 {
        match self {
            DataItem::Int { bytes, .. } => u64::from(*bytes),
            DataItem::F32(_) => 4,
            DataItem::F64(_) => 8,
            DataItem::Bytes(b) => b.len() as u64,
            DataItem::Zero(n) => u64::from(*n),
            DataItem::DataAddr { .. } | DataItem::FuncAddr(_) => 4,
        }
    }
}

/// A data object: a symbol naming bytes in linear memory.
#[derive(Clone, Debug)]
pub struct DataDecl {
    /// Symbol name.
    pub name: String,
    /// Section.
    pub section: DataSection,
    /// Alignment in bytes (a power of two).
    pub align: u32,
    /// Linkage.
    pub linkage: Linkage,
    /// Contents, for initialized sections.
    pub items: Vec<DataItem>,
    /// Size in bytes for zero-initialized sections (`bss`, `tbss`).
    pub zero_size: u64,
    /// Where it was declared.
    pub loc: Loc,
}

impl DataDecl {
    /// Size of the object in bytes.
    pub fn size(&self) -> u64 {
        if self.section.is_zero() {
            self.zero_size
        } else {
            self.items.iter().map(DataItem::size).sum()
        }
    }
}

/// One named value of an enum.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EnumVariant {
    /// The name `tag_name` returns.
    pub name: String,
    /// The tag value.
    pub value: i128,
    /// Whether the text gave the value (`name = 5`) rather than the implicit previous + 1.
    pub explicit: bool,
}

/// An enum type: a tag integer type and named values.
#[derive(Clone, Debug)]
pub struct EnumDecl {
    /// Type name (without `%`).
    pub name: String,
    /// Tag integer type.
    pub tag: TagType,
    /// Variants in declaration order.
    pub variants: Vec<EnumVariant>,
    /// Where it was declared.
    pub loc: Loc,
}

/// All declarations of a module: what instructions can refer to.
#[derive(Clone, Default)]
pub struct Decls {
    /// Functions.
    pub funcs: PrimaryMap<FuncRef, FuncDecl>,
    /// Globals.
    pub globals: PrimaryMap<GlobalRef, GlobalDecl>,
    /// Data objects.
    pub data: PrimaryMap<DataRef, DataDecl>,
    /// Enums.
    pub enums: PrimaryMap<EnumRef, EnumDecl>,
}

/// A top-level item, in text order.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Item {
    /// A function.
    Func(FuncRef),
    /// A global.
    Global(GlobalRef),
    /// A data object.
    Data(DataRef),
    /// An enum.
    Enum(EnumRef),
}

/// What a comment is attached to, for the printer.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Anchor {
    /// The head of the file, separated from the first item by a blank line.
    FileStart,
    /// A top-level item's first line.
    Item(Item),
    /// A stack slot declaration.
    Slot(FuncRef, StackSlot),
    /// A block header.
    Block(FuncRef, Block),
    /// An instruction.
    Inst(FuncRef, Inst),
    /// The closing brace of a function.
    FuncEnd(FuncRef),
    /// The end of the file.
    FileEnd,
}

/// Whether a comment stands on the lines before its anchor or at the end of its line.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Placement {
    /// On its own line, before the anchor.
    Leading,
    /// At the end of the anchor's line.
    Trailing,
}

/// A `;` comment kept for printing.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Comment {
    /// What it is attached to.
    pub anchor: Anchor,
    /// Where it goes relative to the anchor.
    pub placement: Placement,
    /// The text after the `;`, without the line end.
    pub text: String,
}

/// A compilation unit of IR.
#[derive(Clone, Default)]
pub struct Module {
    /// Declarations.
    pub decls: Decls,
    /// Bodies of defined functions; extern functions have an empty body.
    pub bodies: SecondaryMap<FuncRef, Function>,
    /// Items in text (or creation) order; the printer follows it.
    pub items: Vec<Item>,
    /// Comments to print.
    pub comments: Vec<Comment>,
}

impl Module {
    /// Declares a function (its body starts empty) and appends it to the item order.
    pub fn declare_func(&mut self, decl: FuncDecl) -> FuncRef {
        let f = self.decls.funcs.push(decl);
        self.items.push(Item::Func(f));
        f
    }

    /// Declares a global and appends it to the item order.
    pub fn declare_global(&mut self, decl: GlobalDecl) -> GlobalRef {
        let g = self.decls.globals.push(decl);
        self.items.push(Item::Global(g));
        g
    }

    /// Declares a data object and appends it to the item order.
    pub fn declare_data(&mut self, decl: DataDecl) -> DataRef {
        let d = self.decls.data.push(decl);
        self.items.push(Item::Data(d));
        d
    }

    /// Declares an enum and appends it to the item order.
    pub fn declare_enum(&mut self, decl: EnumDecl) -> EnumRef {
        let e = self.decls.enums.push(decl);
        self.items.push(Item::Enum(e));
        e
    }

    /// The first function named `name`.
    pub fn func_by_name(&self, name: &str) -> Option<FuncRef> {
        self.decls
            .funcs
            .iter()
            .find(|(_, d)| d.name == name)
            .map(|(f, _)| f)
    }

    /// The symbol name of an item (enums: the type name).
    pub fn item_name(&self, item: Item) -> &str {
        match item {
            Item::Func(f) => &self.decls.funcs[f].name,
            Item::Global(g) => &self.decls.globals[g].name,
            Item::Data(d) => &self.decls.data[d].name,
            Item::Enum(e) => &self.decls.enums[e].name,
        }
    }
}
