//! Relocation values on a hand-built object: the `_REL`, `LOCREL`, 64-bit and custom-section
//! relocation types, and the tombstones per section name.

use std::borrow::Cow;

use wasmparser::{DataKind, Operator, Parser, Payload};

use super::fixtures::{CONST, func, reloc, set_func_relocs, set_segment_relocs, sym};
use super::{LinkOptions, link};
use crate::object::*;

fn custom(name: &'static str, len: usize, relocs: Vec<Reloc>) -> CustomSection<'static> {
    CustomSection {
        name: Cow::Borrowed(name),
        data: Cow::Owned(vec![0x55; len]),
        relocs,
    }
}

const S: u32 = 0;
const P: u32 = 1;
const F: u32 = 2;
const G: u32 = 4;
const DEAD: u32 = 5;

fn object() -> Object<'static> {
    use RelocType as R;
    let mut o = Object {
        path: "r.o".into(),
        types: vec![FuncType {
            params: vec![],
            results: vec![ValType::I32],
        }],
        funcs: vec![
            func(&CONST),
            func(&CONST),
            func(&[0x41, 7, 0x0b]),
            func(&[0x41, 8, 0x0b]),
        ],
        segments: vec![
            Segment {
                name: Cow::Borrowed(".rodata.s"),
                align_log2: 0,
                flags: 0,
                data: SegmentData::Bytes(Cow::Borrowed(b"hello")),
                relocs: RelocRange::default(),
            },
            Segment {
                name: Cow::Borrowed(".data.p"),
                align_log2: 2,
                flags: 0,
                data: SegmentData::Bytes(Cow::Owned(vec![0; 16])),
                relocs: RelocRange::default(),
            },
        ],
        symbols: vec![
            sym(
                "s",
                SYM_LOCAL,
                SymbolKind::Data(Some(DataDef {
                    segment: 0,
                    offset: 0,
                    size: 5,
                })),
            ),
            sym(
                "p",
                SYM_HIDDEN,
                SymbolKind::Data(Some(DataDef {
                    segment: 1,
                    offset: 0,
                    size: 16,
                })),
            ),
            sym("f", SYM_EXPORTED, SymbolKind::Function(0)),
            sym("h", SYM_EXPORTED, SymbolKind::Function(1)),
            sym("g", SYM_LOCAL, SymbolKind::Function(2)),
            sym("dead", SYM_LOCAL, SymbolKind::Function(3)),
        ],
        customs: vec![
            custom(
                ".debug_info",
                16,
                vec![
                    reloc(R::FunctionOffsetI32, 0, F, 1),
                    reloc(R::FunctionOffsetI64, 4, DEAD, 0),
                    reloc(R::FunctionIndexI32, 12, DEAD, 0),
                ],
            ),
            custom(
                "llvm.func_attr.annotate",
                8,
                vec![
                    reloc(R::FunctionIndexI32, 0, F, 0),
                    reloc(R::FunctionIndexI32, 4, DEAD, 0),
                ],
            ),
            custom("other", 4, vec![reloc(R::FunctionOffsetI32, 0, DEAD, 3)]),
            custom(
                ".debug_ranges",
                4,
                vec![reloc(R::FunctionOffsetI32, 0, DEAD, 0)],
            ),
            custom(
                ".debug_loclists",
                4,
                vec![reloc(R::FunctionOffsetI32, 0, DEAD, 0)],
            ),
        ],
        ..Object::default()
    };
    set_func_relocs(&mut o, 0, vec![reloc(R::MemoryAddrRelSleb, 2, P, 4)]);
    set_func_relocs(&mut o, 1, vec![reloc(R::TableIndexRelSleb, 2, G, 0)]);
    set_segment_relocs(
        &mut o,
        1,
        vec![
            reloc(R::MemoryAddrLocrelI32, 0, S, 0),
            reloc(R::MemoryAddrI64, 4, S, 1),
            reloc(R::TableIndexI32, 12, G, 0),
        ],
    );
    o
}

#[test]
fn relocation_values_and_tombstones() {
    let out = link(&[object()], &LinkOptions::default()).expect("link");
    wasmparser::Validator::new()
        .validate_all(&out)
        .expect("valid");
    let mut data = Vec::new();
    let mut customs = Vec::new();
    let mut bodies = Vec::new();
    for p in Parser::new(0).parse_all(&out) {
        match p.expect("parse") {
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.expect("data");
                    let DataKind::Active { offset_expr, .. } = d.kind else {
                        panic!("passive")
                    };
                    let Ok(Operator::I32Const { value }) =
                        offset_expr.get_operators_reader().read()
                    else {
                        panic!("offset")
                    };
                    data.push((value, d.data.to_vec()));
                }
            }
            Payload::CodeSectionEntry(b) => bodies.push(b.as_bytes().to_vec()),
            Payload::CustomSection(c) => customs.push((c.name().to_string(), c.data().to_vec())),
            _ => {}
        }
    }
    // Stack first: .rodata "hello" at 65536, .data at 65544.
    assert_eq!(data[0], (65536, b"hello".to_vec()));
    let (at, p) = &data[1];
    assert_eq!(*at, 65544);
    let word = |b: &[u8], k: usize| u32::from_le_bytes([b[k], b[k + 1], b[k + 2], b[k + 3]]);
    assert_eq!(word(p, 0) as i32, 65536 - 65544, "LOCREL: S - P");
    assert_eq!(
        u64::from_le_bytes(p[4..12].try_into().expect("8 bytes")),
        65537,
        "I64 address"
    );
    assert_eq!(word(p, 12), 1, "table slot of g");
    // f: `i32.const p+4` (relative to __memory_base = 0); h: slot 1 - __table_base 1 = 0.
    assert_eq!(bodies[0][1..7], [0x41, 0x8c, 0x80, 0x84, 0x80, 0x00]);
    assert_eq!(bodies[1][1..7], [0x41, 0x80, 0x80, 0x80, 0x80, 0x00]);
    let get = |name: &str| {
        customs
            .iter()
            .find(|c| c.0 == name)
            .map(|c| c.1.clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let info = get(".debug_info");
    // f's body starts after the code section's count (1 byte) and its size (1 byte).
    assert_eq!(word(&info, 0), 2 + 1);
    assert_eq!(info[4..12], [0xff; 8], "64-bit tombstone");
    assert_eq!(word(&info, 12), u32::MAX);
    let attr = get("llvm.func_attr.annotate");
    assert_eq!(word(&attr, 0), 0, "function index of f");
    assert_eq!(word(&attr, 4), u32::MAX);
    assert_eq!(
        word(&get("other"), 0),
        3,
        "the addend where there is no tombstone"
    );
    assert_eq!(word(&get(".debug_ranges"), 0), u32::MAX - 1);
    assert_eq!(word(&get(".debug_loclists"), 0), u32::MAX);
}
