//! The little DER reading the timestamp code needs, on the `der` crate: a node is one TLV with
//! its tag, its value and its whole encoding (the signature over signed attributes and a
//! certificate's hash need the exact bytes, not a re-encoding).

use der::asn1::{AnyRef, ObjectIdentifier, UintRef};
use der::{Encode as _, Reader as _, SliceReader, Tag, TagNumber, Tagged as _};

use super::TimestampError;

/// One DER element.
#[derive(Clone, Copy, Debug)]
pub(super) struct Node<'a> {
    pub(super) tag: Tag,
    pub(super) value: &'a [u8],
    pub(super) raw: &'a [u8],
}

fn malformed(what: &str, detail: impl std::fmt::Display) -> TimestampError {
    TimestampError::Malformed(format!("{what}: {detail}"))
}

/// Every element of `bytes`, in order.
fn read_all<'a>(bytes: &'a [u8], what: &str) -> Result<Vec<Node<'a>>, TimestampError> {
    let mut reader = SliceReader::new(bytes).map_err(|e| malformed(what, e))?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        let start = usize::try_from(reader.position()).map_err(|e| malformed(what, e))?;
        let any: AnyRef<'a> = reader.decode().map_err(|e| malformed(what, e))?;
        let end = usize::try_from(reader.position()).map_err(|e| malformed(what, e))?;
        let raw = bytes
            .get(start..end)
            .ok_or_else(|| malformed(what, "element outside the input"))?;
        out.push(Node {
            tag: any.tag(),
            value: any.value(),
            raw,
        });
    }
    Ok(out)
}

/// The one element `bytes` holds (nothing before or after it).
pub(super) fn parse<'a>(bytes: &'a [u8], what: &str) -> Result<Node<'a>, TimestampError> {
    match read_all(bytes, what)?.as_slice() {
        [one] => Ok(*one),
        [] => Err(malformed(what, "empty")),
        _ => Err(malformed(what, "trailing bytes after the element")),
    }
}

/// The tag `[n]` (context-specific, constructed).
pub(super) fn context(n: u32) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(n),
    }
}

/// The tag `[n]` (context-specific, primitive).
pub(super) fn context_primitive(n: u32) -> Tag {
    Tag::ContextSpecific {
        constructed: false,
        number: TagNumber(n),
    }
}

impl<'a> Node<'a> {
    /// This node if it has `tag`.
    pub(super) fn expect(self, tag: Tag, what: &str) -> Result<Self, TimestampError> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(malformed(
                what,
                format!("expected {tag}, found {}", self.tag),
            ))
        }
    }

    /// The elements inside a constructed node.
    pub(super) fn children(self, what: &str) -> Result<Vec<Node<'a>>, TimestampError> {
        if !self.tag.is_constructed() {
            return Err(malformed(what, format!("{} is not constructed", self.tag)));
        }
        read_all(self.value, what)
    }

    /// The elements of a SEQUENCE.
    pub(super) fn sequence(self, what: &str) -> Result<Vec<Node<'a>>, TimestampError> {
        self.expect(Tag::Sequence, what)?.children(what)
    }

    /// An OBJECT IDENTIFIER.
    pub(super) fn oid(self, what: &str) -> Result<ObjectIdentifier, TimestampError> {
        let node = self.expect(Tag::ObjectIdentifier, what)?;
        ObjectIdentifier::from_bytes(node.value).map_err(|e| malformed(what, e))
    }

    /// An INTEGER's value bytes (two's complement, as encoded).
    pub(super) fn integer(self, what: &str) -> Result<&'a [u8], TimestampError> {
        let node = self.expect(Tag::Integer, what)?;
        if node.value.is_empty() {
            return Err(malformed(what, "empty INTEGER"));
        }
        Ok(node.value)
    }

    /// A small non-negative INTEGER (versions, statuses).
    pub(super) fn small(self, what: &str) -> Result<u32, TimestampError> {
        let bytes = self.integer(what)?;
        if bytes[0] & 0x80 != 0 || bytes.len() > 4 {
            return Err(malformed(what, "not a small non-negative integer"));
        }
        Ok(bytes.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)))
    }

    /// An OCTET STRING's bytes.
    pub(super) fn octets(self, what: &str) -> Result<&'a [u8], TimestampError> {
        Ok(self.expect(Tag::OctetString, what)?.value)
    }

    /// A BIT STRING's bytes (whole octets only, as keys and signatures are).
    pub(super) fn bits(self, what: &str) -> Result<&'a [u8], TimestampError> {
        let node = self.expect(Tag::BitString, what)?;
        match node.value.split_first() {
            Some((0, rest)) => Ok(rest),
            _ => Err(malformed(what, "a BIT STRING with unused bits")),
        }
    }

    /// The OID of an AlgorithmIdentifier (its parameters are not needed here).
    pub(super) fn algorithm(self, what: &str) -> Result<ObjectIdentifier, TimestampError> {
        let parts = self.sequence(what)?;
        parts
            .first()
            .ok_or_else(|| malformed(what, "empty AlgorithmIdentifier"))?
            .oid(what)
    }
}

/// `tag` + DER length + `content`.
pub(super) fn tlv(tag: Tag, content: &[u8]) -> Result<Vec<u8>, TimestampError> {
    AnyRef::new(tag, content)
        .and_then(|any| any.to_der())
        .map_err(|e| TimestampError::Malformed(format!("encoding {tag}: {e}")))
}

/// An unsigned INTEGER from big-endian bytes, DER (minimal, with a leading zero when needed).
pub(super) fn uint(bytes: &[u8]) -> Result<Vec<u8>, TimestampError> {
    UintRef::new(bytes)
        .and_then(|u| u.to_der())
        .map_err(|e| TimestampError::Malformed(format!("encoding an INTEGER: {e}")))
}

/// An INTEGER's magnitude without leading zero bytes, for comparing serials and nonces.
pub(super) fn magnitude(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_keep_their_exact_bytes_and_refuse_garbage() {
        let seq = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xAA];
        let node = parse(&seq, "x").expect("one sequence");
        assert_eq!(node.raw, &seq);
        let items = node.sequence("x").expect("children");
        assert_eq!(items[0].small("n").expect("int"), 5);
        assert_eq!(items[1].octets("o").expect("octets"), &[0xAA]);
        assert_eq!(items[1].raw, &[0x04, 0x01, 0xAA]);
        for bad in [
            &[][..],
            &[0x30, 0x05, 0x02],
            &[0x30, 0x00, 0x00],
            &[0x30, 0x80, 0, 0],
        ] {
            assert!(parse(bad, "x").is_err(), "{bad:?}");
        }
        assert!(items[0].octets("o").is_err());
    }

    #[test]
    fn unsigned_integers_are_minimal() {
        assert_eq!(uint(&[0x00, 0x01]).expect("int"), [0x02, 0x01, 0x01]);
        assert_eq!(uint(&[0x80]).expect("int"), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(magnitude(&[0, 0, 7]), &[7]);
    }
}
