//! Content-line mechanics: TEXT escaping, folding at 75 octets on UTF-8 boundaries, and
//! byte-level unfolding of feeds that fold inside multi-byte characters.

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape_text`]; also accepts `\N` and leaves unknown escapes as they are.
pub fn unescape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(c @ ('\\' | ';' | ',' | ':' | '"')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Octets per physical line, excluding the CRLF (RFC 5545 §3.1).
const LINE_OCTETS: usize = 75;

/// Appends `line` to `out` folded into physical lines of at most 75 octets, each ended by CRLF;
/// continuation lines start with one space and never split a UTF-8 character.
pub fn push_folded(out: &mut String, line: &str) {
    let mut rest = line;
    let mut limit = LINE_OCTETS;
    loop {
        if rest.len() <= limit {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = LINE_OCTETS - 1;
    }
}

/// Turns every line ending (CRLF, a lone LF or a lone CR, mixed in one document) into LF, so
/// the rest of the reader sees one kind of line.
pub fn normalize_newlines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter().copied().peekable();
    while let Some(b) = iter.next() {
        if b == b'\r' {
            if iter.peek() == Some(&b'\n') {
                iter.next();
            }
            out.push(b'\n');
        } else {
            out.push(b);
        }
    }
    out
}

/// Joins folded lines at the byte level (CRLF or LF followed by a space or tab), so a feed that
/// folds inside a multi-byte character decodes cleanly; also drops a UTF-8 byte-order mark.
pub fn unfold(bytes: &[u8]) -> Vec<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Vec::with_capacity(bytes.len());
    let (mut copied, mut from) = (0, 0);
    while let Some(offset) = bytes[from..].iter().position(|&b| b == b'\n') {
        let newline = from + offset;
        if matches!(bytes.get(newline + 1), Some(b' ' | b'\t')) {
            let cr = newline > copied && bytes[newline - 1] == b'\r';
            out.extend_from_slice(&bytes[copied..newline - usize::from(cr)]);
            copied = newline + 2;
        }
        from = newline + 1;
    }
    out.extend_from_slice(&bytes[copied.min(bytes.len())..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unfold_str(folded: &str) -> String {
        String::from_utf8(unfold(folded.as_bytes())).unwrap()
    }

    #[test]
    fn escapes_the_four_specials_and_round_trips() {
        let raw = "Cabaña; vista, \"río\"\\ norte\nsegunda línea";
        let escaped = escape_text(raw);
        assert_eq!(
            escaped,
            "Cabaña\\; vista\\, \"río\"\\\\ norte\\nsegunda línea"
        );
        assert_eq!(unescape_text(&escaped), raw);
        assert_eq!(unescape_text("a\\Nb\\x\\"), "a\nb\\x\\");
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        let line = format!("X-WR-CALNAME:{}", "ñ".repeat(80));
        let mut out = String::new();
        push_folded(&mut out, &line);
        for physical in out.split_terminator("\r\n") {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        assert!(out.ends_with("\r\n"));
        assert_eq!(unfold_str(out.trim_end()), line);
    }

    #[test]
    fn unfolds_inside_a_multibyte_character_and_strips_a_bom() {
        let bytes = b"\xEF\xBB\xBFSUMMARY:Caba\xC3\r\n \xB1a\nDESCRIPTION:a\n\tb\r\nX:y";
        let text = String::from_utf8(unfold(bytes)).unwrap();
        assert_eq!(text, "SUMMARY:Cabaña\nDESCRIPTION:ab\r\nX:y");
    }

    /// The definition, byte by byte: a line break followed by a space or tab disappears.
    fn unfold_reference(bytes: &[u8]) -> Vec<u8> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let newline = match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => 2,
                b'\n' => 1,
                _ => 0,
            };
            if newline > 0 && matches!(bytes.get(i + newline), Some(b' ' | b'\t')) {
                i += newline + 1;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        out
    }

    #[test]
    fn every_line_ending_becomes_lf() {
        assert_eq!(
            normalize_newlines(b"a\r\nb\rc\nd\r\r\ne\r"),
            b"a\nb\nc\nd\n\ne\n"
        );
    }

    proptest! {
        #[test]
        fn unfold_matches_its_definition(
            bytes in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b' '), Just(b'\t'), any::<u8>()], 0..200)
        ) {
            prop_assert_eq!(unfold(&bytes), unfold_reference(&bytes));
        }

        #[test]
        fn folding_round_trips_any_text(value in "\\PC{0,300}") {
            let line = format!("SUMMARY:{}", escape_text(&value));
            let mut out = String::new();
            push_folded(&mut out, &line);
            prop_assert!(out.split_terminator("\r\n").all(|l| l.len() <= 75));
            let unfolded = unfold_str(out.strip_suffix("\r\n").unwrap());
            prop_assert_eq!(&unfolded, &line);
            let back = unescape_text(unfolded.strip_prefix("SUMMARY:").unwrap());
            prop_assert_eq!(back, value.replace('\r', ""));
        }
    }
}
