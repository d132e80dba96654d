//! WCAG 2.1 AA contrast of the guest site's colours, light and dark: every pair of text and
//! background colour the stylesheet uses reaches 4.5:1, read from `assets/site/site.css` itself
//! so a colour change that breaks it fails here; text colours outside the palette are refused.

use std::collections::HashMap;

const CSS: &str = include_str!("../../../assets/site/site.css");

/// (text, background) pairs of custom properties the stylesheet puts together.
const PAIRS: [(&str, &str); 15] = [
    ("fg", "bg"),
    ("fg", "card"),
    ("muted", "bg"),
    ("muted", "card"),
    ("accent", "bg"),
    ("accent", "card"),
    ("accent-fg", "accent"),
    ("accent-fg", "sel"),
    ("free-fg", "free"),
    ("taken-fg", "taken"),
    ("taken-fg", "bg"),
    ("warn-fg", "warn"),
    ("bad", "bg"),
    ("bad", "card"),
    ("bg", "bad"),
];

/// The `--name:#rrggbb` properties of the first `:root{…}` block after `from`.
fn palette(from: &str) -> HashMap<&str, &str> {
    let block = from.split(":root{").nth(1).expect("a :root block");
    let block = block.split('}').next().unwrap_or_default();
    block
        .split(';')
        .filter_map(|decl| decl.trim().strip_prefix("--")?.split_once(':'))
        .collect()
}

/// WCAG relative luminance of `#rrggbb` or `#rgb`.
fn luminance(hex: &str) -> f64 {
    let hex = hex.trim_start_matches('#');
    let hex: String = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        _ => hex.to_owned(),
    };
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("#rrggbb")) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
}

fn ratio(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn every_text_colour_has_aa_contrast_on_its_background_in_light_and_dark() {
    let dark = CSS
        .split("prefers-color-scheme:dark")
        .nth(1)
        .expect("a dark scheme");
    for (scheme, colours) in [("light", palette(CSS)), ("dark", palette(dark))] {
        for (text, background) in PAIRS {
            let r = ratio(colours[text], colours[background]);
            assert!(r >= 4.5, "{scheme}: --{text} on --{background} is {r:.2}:1");
        }
    }
}

#[test]
fn the_ratio_is_wcags() {
    assert!((ratio("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    assert!((ratio("#777777", "#ffffff") - 4.48).abs() < 0.01);
}

#[test]
fn text_colours_come_from_the_palette_only() {
    let literal: Vec<&str> = CSS
        .match_indices("color:#")
        .filter(|(i, _)| CSS[..*i].ends_with(['{', ';']))
        .map(|(i, _)| &CSS[CSS[..i].rfind('}').map_or(0, |j| j + 1)..i])
        .collect();
    assert!(literal.is_empty(), "literal text colours in {literal:?}");
}
