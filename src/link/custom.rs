//! Custom sections the linker writes itself: the merged `producers` section and `build_id`.
//!
//! `producers` (tool-conventions `ProducersSection.md`): the inputs' `language`,
//! `processed-by` and `sdk` entries, merged as wasm-ld merges them: each field keeps its
//! names in first-seen order (input order), and the first version of a name wins; the fields
//! are written in the order `language`, `processed-by`, `sdk`, empty ones left out; other
//! field names are dropped. Like wasm-ld, the linker does not add itself.
//!
//! `build_id` (tool-conventions `BuildId.md`): `{len varuint32, bytes}`. The hash styles hash
//! the whole output with the id's bytes still zero, then patch them in:
//! - `fast`: a 16-byte name-based UUID (version 5, RFC 4122 variant) from the SHA-1 of the
//!   output. wasm-ld also writes a version-5 UUID, but from xxh3-64 chunk hashes, so the
//!   bytes differ from wasm-ld's; the size and form are the same.
//! - `sha1`: the 20-byte SHA-1 of the output, as wasm-ld.
//! - `uuid`: a random version-4 UUID (the only non-deterministic output, asked for by name).
//! - `0xHEX`: the given bytes.
//!
//! Invariant: malformed input `producers` sections are an error naming the file, never a
//! panic.

use std::hash::{BuildHasher, Hasher};

use indexmap::IndexMap;

use super::{BuildId, LinkError};
use crate::object::{Object, put_uleb};

/// The producers fields wasm-ld keeps, in the order it writes them.
const FIELDS: [&str; 3] = ["language", "processed-by", "sdk"];

/// Merged producers entries: per field of [`FIELDS`], name -> version.
pub(crate) type Producers<'a> = [IndexMap<&'a str, &'a str>; 3];

fn read_uleb(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *data.get(*pos)?;
        *pos += 1;
        if shift >= 64 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

fn read_str<'d>(data: &'d [u8], pos: &mut usize) -> Option<&'d str> {
    let len = usize::try_from(read_uleb(data, pos)?).ok()?;
    let end = pos.checked_add(len)?;
    let s = std::str::from_utf8(data.get(*pos..end)?).ok()?;
    *pos = end;
    Some(s)
}

/// Reads one `producers` payload into `out`.
fn read_producers<'a>(data: &'a [u8], out: &mut Producers<'a>) -> Option<()> {
    let mut pos = 0;
    let fields = read_uleb(data, &mut pos)?;
    for _ in 0..fields {
        let field = read_str(data, &mut pos)?;
        let slot = FIELDS.iter().position(|f| *f == field);
        let n = read_uleb(data, &mut pos)?;
        for _ in 0..n {
            let name = read_str(data, &mut pos)?;
            let version = read_str(data, &mut pos)?;
            if let Some(k) = slot {
                out[k].entry(name).or_insert(version);
            }
        }
    }
    (pos == data.len()).then_some(())
}

/// The inputs' producers entries, merged.
pub(crate) fn merge_producers<'a>(inputs: &'a [Object<'a>]) -> Result<Producers<'a>, LinkError> {
    let mut out: Producers<'a> = Default::default();
    for obj in inputs {
        for c in obj.customs.iter().filter(|c| c.name == "producers") {
            read_producers(&c.data, &mut out).ok_or_else(|| LinkError::BadObject {
                file: obj.path.clone(),
                msg: "malformed producers section".into(),
            })?;
        }
    }
    Ok(out)
}

/// The payload of the merged `producers` section; `None` when every field is empty.
pub(crate) fn producers_payload(p: &Producers<'_>) -> Option<Vec<u8>> {
    let fields: Vec<(&str, &IndexMap<&str, &str>)> = FIELDS
        .iter()
        .zip(p.iter())
        .filter(|(_, m)| !m.is_empty())
        .map(|(f, m)| (*f, m))
        .collect();
    if fields.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    put_uleb(&mut out, fields.len() as u64);
    for (field, map) in fields {
        put_str(&mut out, field);
        put_uleb(&mut out, map.len() as u64);
        for (name, version) in map {
            put_str(&mut out, name);
            put_str(&mut out, version);
        }
    }
    Some(out)
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uleb(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Bytes of the build id of this style.
pub(crate) fn build_id_len(style: &BuildId) -> usize {
    match style {
        BuildId::Fast | BuildId::Uuid => 16,
        BuildId::Sha1 => 20,
        BuildId::Bytes(b) => b.len(),
    }
}

/// The build id of `module` (whose id bytes are still zero).
pub(crate) fn build_id(style: &BuildId, module: &[u8]) -> Vec<u8> {
    match style {
        BuildId::Sha1 => sha1(module).to_vec(),
        BuildId::Fast => {
            let mut id = sha1(module)[..16].to_vec();
            id[6] = (id[6] & 0x0f) | 0x50;
            id[8] = (id[8] & 0x3f) | 0x80;
            id
        }
        BuildId::Uuid => {
            let mut id = Vec::with_capacity(16);
            for k in 0..2u64 {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u64(k);
                h.write_usize(module.len());
                id.extend_from_slice(&h.finish().to_le_bytes());
            }
            id[6] = (id[6] & 0x0f) | 0x40;
            id[8] = (id[8] & 0x3f) | 0x80;
            id
        }
        BuildId::Bytes(b) => b.clone(),
    }
}

/// SHA-1 (FIPS 180-4).
pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_len = (data.len() as u64).wrapping_mul(8);
    let mut tail = Vec::with_capacity(128);
    let full = data.len() / 64 * 64;
    tail.extend_from_slice(&data[full..]);
    tail.push(0x80);
    while tail.len() % 64 != 56 {
        tail.push(0);
    }
    tail.extend_from_slice(&bit_len.to_be_bytes());
    for block in data[..full].chunks_exact(64).chain(tail.chunks_exact(64)) {
        let mut w = [0u32; 80];
        for (t, word) in block.chunks_exact(4).enumerate() {
            w[t] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for t in 16..80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (t, &wt) in w.iter().enumerate() {
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(wt);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, x) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn sha1_known_answers() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        let million = vec![b'a'; 1_000_000];
        assert_eq!(
            hex(&sha1(&million)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
    }

    #[test]
    fn producers_merge_first_version_wins() {
        let mut a = Vec::new();
        put_uleb(&mut a, 2);
        put_str(&mut a, "processed-by");
        put_uleb(&mut a, 1);
        put_str(&mut a, "clang");
        put_str(&mut a, "14");
        put_str(&mut a, "language");
        put_uleb(&mut a, 1);
        put_str(&mut a, "C11");
        put_str(&mut a, "");
        let mut b = Vec::new();
        put_uleb(&mut b, 1);
        put_str(&mut b, "processed-by");
        put_uleb(&mut b, 2);
        put_str(&mut b, "clang");
        put_str(&mut b, "22");
        put_str(&mut b, "rustc");
        put_str(&mut b, "1.0");
        let mut p: Producers<'_> = Default::default();
        read_producers(&a, &mut p).unwrap();
        read_producers(&b, &mut p).unwrap();
        let out = producers_payload(&p).unwrap();
        let mut want = Vec::new();
        put_uleb(&mut want, 2);
        put_str(&mut want, "language");
        put_uleb(&mut want, 1);
        put_str(&mut want, "C11");
        put_str(&mut want, "");
        put_str(&mut want, "processed-by");
        put_uleb(&mut want, 2);
        put_str(&mut want, "clang");
        put_str(&mut want, "14");
        put_str(&mut want, "rustc");
        put_str(&mut want, "1.0");
        assert_eq!(out, want);
        assert!(read_producers(&b[..b.len() - 1], &mut p).is_none());
        assert!(producers_payload(&Default::default()).is_none());
    }

    #[test]
    fn build_id_styles() {
        let fast = build_id(&BuildId::Fast, b"module");
        assert_eq!(fast.len(), 16);
        assert_eq!(fast[6] >> 4, 5);
        assert_eq!(fast, build_id(&BuildId::Fast, b"module"));
        assert_ne!(fast, build_id(&BuildId::Fast, b"modulf"));
        assert_eq!(build_id(&BuildId::Sha1, b"abc"), sha1(b"abc").to_vec());
        let u = build_id(&BuildId::Uuid, b"m");
        assert_eq!(u.len(), 16);
        assert_eq!(u[6] >> 4, 4);
        assert_eq!(build_id(&BuildId::Bytes(vec![1, 2]), b"m"), vec![1, 2]);
    }
}
