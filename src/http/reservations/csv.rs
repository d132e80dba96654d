//! Reservations as CSV for Excel and LibreOffice: UTF-8 with the BOM Excel needs to read it as
//! UTF-8, CRLF, every field quoted (the `csv` crate writes RFC 4180), and formulas defused
//! even where an es-AR spreadsheet splits cells on `;`: wherever a value, or a piece of it
//! after a `,` or a `;`, starts with `=`, `+`, `-`, `@`, a tab or a CR, an apostrophe goes
//! in front, so no cell can start a formula whichever separator the spreadsheet uses.

use crate::domain::reservation::Reservation;

/// Excel reads a CSV file as UTF-8 only when it starts with this.
const BOM: &str = "\u{feff}";

const HEADER: [&str; 15] = [
    "code",
    "status",
    "accommodation_id",
    "check_in",
    "check_out",
    "nights",
    "guests",
    "contact_name",
    "contact_phone",
    "contact_email",
    "channel",
    "total_price",
    "deposit_amount",
    "currency",
    "created_at",
];

/// Characters that make a spreadsheet cell a formula (or hide what follows).
fn starts_formula(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// `value` with an apostrophe before every formula start: at its beginning and after each
/// `,` or `;`.
fn defuse(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    let mut at_cell_start = true;
    for c in value.chars() {
        if at_cell_start && starts_formula(c) {
            out.push('\'');
        }
        out.push(c);
        at_cell_start = matches!(c, ',' | ';');
    }
    out
}

fn cells(r: &Reservation) -> [String; 15] {
    [
        r.code.to_string(),
        r.status.to_string(),
        r.accommodation_id.to_string(),
        r.range.check_in().to_string(),
        r.range.check_out().to_string(),
        r.range.nights().to_string(),
        r.guests.to_string(),
        r.contact.name().to_owned(),
        r.contact.phone().to_owned(),
        r.contact.email().unwrap_or_default().to_owned(),
        r.channel.as_str().to_owned(),
        r.total.to_string(),
        r.deposit.to_string(),
        r.currency.clone(),
        r.created_at.to_string(),
    ]
}

/// A writer as the export uses it: every field quoted, CRLF line ends.
fn writer(start: Vec<u8>) -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_writer(start)
}

/// Writes one record, each value defused.
fn write<S: AsRef<str>>(out: &mut csv::Writer<Vec<u8>>, values: &[S]) {
    out.write_record(values.iter().map(|v| defuse(v.as_ref())))
        .expect("writing CSV to memory cannot fail");
}

/// Bytes written so far.
fn finish(out: csv::Writer<Vec<u8>>) -> Vec<u8> {
    out.into_inner()
        .expect("flushing CSV to memory cannot fail")
}

/// One record exactly as the export writes it (with its CRLF): for the fuzz harness, which
/// reads records back.
pub fn record(values: &[&str]) -> String {
    let mut out = writer(Vec::new());
    write(&mut out, values);
    String::from_utf8(finish(out)).expect("CSV of UTF-8 values is UTF-8")
}

/// The whole file: BOM, header and one row per reservation.
pub fn export(rows: &[Reservation]) -> Vec<u8> {
    let mut out = writer(BOM.as_bytes().to_vec());
    write(&mut out, &HEADER);
    for r in rows {
        write(&mut out, &cells(r));
    }
    finish(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_defused_after_every_separator() {
        assert_eq!(defuse("Ana"), "Ana");
        assert_eq!(defuse("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(defuse("x;=cmd|' /C calc'!A0;"), "x;'=cmd|' /C calc'!A0;");
        assert_eq!(defuse("a;=1+2;@x.com"), "a;'=1+2;'@x.com");
        assert_eq!(defuse("+5491122334455"), "'+5491122334455");
        assert_eq!(defuse("Pérez, -Ana"), "Pérez, -Ana");
        assert_eq!(defuse("Pérez,-Ana"), "Pérez,'-Ana");
        assert_eq!(defuse("\tx"), "'\tx");
    }
}
