//! Reservations as CSV (UTF-8, CRLF, RFC 4180), with spreadsheet formulas defused.

use crate::domain::reservation::Reservation;

/// The header row.
pub const HEADER: &str = "code,status,accommodation_id,check_in,check_out,nights,guests,contact_name,contact_phone,contact_email,channel,total_price,deposit_amount,currency,created_at\r\n";

/// Escapes one CSV cell (RFC 4180) and defuses spreadsheet formulas (a plain `+digits` phone
/// number is left as it is).
pub fn cell(value: &str) -> String {
    let phone =
        value.len() > 1 && value.starts_with('+') && value[1..].bytes().all(|b| b.is_ascii_digit());
    let value = if !phone && value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One reservation's row, with its line break.
pub fn row(r: &Reservation) -> String {
    let cells = [
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
    ];
    cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",") + "\r\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("Ana"), "Ana");
        assert_eq!(cell("Pérez, Ana"), "\"Pérez, Ana\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(cell("+5491122334455"), "+5491122334455");
        assert_eq!(cell("+1+2"), "'+1+2");
    }
}
