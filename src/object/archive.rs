//! Static archives (`ar`, GNU and BSD variants, long names): the members and the symbol
//! index, borrowed from the archive's bytes. The container is parsed by the `object` crate;
//! members are read as objects only when the link stage loads them.
//!
//! Like wasm-ld, an archive must have a symbol index (the link stage loads a member only when
//! it defines a symbol still needed, and finds it through the index); thin archives are not
//! supported.

use object::read::archive::ArchiveFile;

use super::ObjectError;

/// One member of an archive.
#[derive(Clone, Debug)]
pub struct Member<'a> {
    /// The member's file name.
    pub name: &'a str,
    /// Its bytes.
    pub data: &'a [u8],
    /// Offset of its header in the archive, for errors.
    pub offset: u64,
}

/// A static archive.
#[derive(Clone, Debug)]
pub struct Archive<'a> {
    /// The archive's path, for errors.
    pub path: String,
    /// Members in archive order.
    pub members: Vec<Member<'a>>,
    /// The symbol index: each defined symbol name and the member that defines it, in index
    /// order.
    pub index: Vec<(&'a str, usize)>,
}

impl Archive<'_> {
    /// How the member appears in diagnostics: `libc.a(printf.o)`.
    pub fn member_path(&self, member: usize) -> String {
        let name = self.members.get(member).map_or("?", |m| m.name);
        format!("{}({name})", self.path)
    }
}

/// Whether `bytes` start like an archive.
pub fn is_archive(bytes: &[u8]) -> bool {
    bytes.starts_with(b"!<arch>\n") || bytes.starts_with(b"!<thin>\n")
}

/// Reads an archive's members and symbol index.
pub fn read_archive<'a>(path: &str, bytes: &'a [u8]) -> Result<Archive<'a>, ObjectError> {
    let err = |offset: u64, message: String| ObjectError {
        path: path.to_string(),
        offset,
        section: None,
        message,
    };
    let file = ArchiveFile::parse(bytes).map_err(|e| err(0, format!("malformed archive: {e}")))?;
    if file.is_thin() {
        return Err(err(0, "thin archives are not supported".into()));
    }
    let mut members = Vec::new();
    for member in file.members() {
        let member = member.map_err(|e| err(0, format!("malformed archive member: {e}")))?;
        let (offset, _) = member.file_range();
        let name = std::str::from_utf8(member.name())
            .map_err(|_| err(offset, "archive member name is not UTF-8".into()))?;
        let data = member
            .data(bytes)
            .map_err(|e| err(offset, format!("archive member `{name}`: {e}")))?;
        members.push(Member { name, data, offset });
    }
    let Some(symbols) = file
        .symbols()
        .map_err(|e| err(0, format!("malformed archive symbol index: {e}")))?
    else {
        return Err(err(0, "archive has no index; run ranlib to add one".into()));
    };
    let mut index = Vec::new();
    for symbol in symbols {
        let symbol = symbol.map_err(|e| err(0, format!("malformed archive symbol index: {e}")))?;
        let name = std::str::from_utf8(symbol.name())
            .map_err(|_| err(0, "archive symbol name is not UTF-8".into()))?;
        // The index names members by their header's offset; `file_range` starts after it.
        let header = symbol.offset().0;
        let member = file.member(symbol.offset()).ok().and_then(|m| {
            // Members are in file order, so sorted by offset.
            let at = m.file_range().0;
            members.binary_search_by_key(&at, |x| x.offset).ok()
        });
        let Some(member) = member else {
            return Err(err(
                header,
                format!("symbol index entry `{name}` points to no member"),
            ));
        };
        index.push((name, member));
    }
    Ok(Archive {
        path: path.to_string(),
        members,
        index,
    })
}
