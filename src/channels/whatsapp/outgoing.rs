//! Graph API message bodies: text, reply buttons (at most 3), lists (at most 10 rows) and
//! templates for when the 24-hour window is closed.

use serde_json::{Value, json};

use crate::domain::messages::NewOutbound;

/// WhatsApp's limits on interactive messages.
const MAX_BUTTONS: usize = 3;
const MAX_ROWS: usize = 10;
const MAX_BUTTON_TITLE: usize = 20;
const MAX_ROW_TITLE: usize = 24;

fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A plain text message.
pub fn text(to: &str, body: String) -> NewOutbound {
    NewOutbound {
        to: to.to_owned(),
        kind: "text".into(),
        body: json!({"type": "text", "text": {"body": body, "preview_url": false}}),
    }
}

/// An image by URL with a caption (the accommodation's first photo and its page).
pub fn image(to: &str, url: &str, caption: String) -> NewOutbound {
    NewOutbound {
        to: to.to_owned(),
        kind: "image".into(),
        body: json!({"type": "image", "image": {"link": url, "caption": caption}}),
    }
}

/// Reply buttons: (id, title) pairs, at most three.
pub fn buttons(to: &str, body: String, choices: &[(String, String)]) -> NewOutbound {
    let buttons: Vec<Value> = choices
        .iter()
        .take(MAX_BUTTONS)
        .map(|(id, title)| json!({"type": "reply", "reply": {"id": id, "title": cut(title, MAX_BUTTON_TITLE)}}))
        .collect();
    NewOutbound {
        to: to.to_owned(),
        kind: "buttons".into(),
        body: json!({"type": "interactive", "interactive": {
            "type": "button", "body": {"text": body}, "action": {"buttons": buttons}}}),
    }
}

/// A list of at most ten rows: (id, title, description).
pub fn list(
    to: &str,
    body: String,
    button: String,
    rows: &[(String, String, String)],
) -> NewOutbound {
    let rows: Vec<Value> = rows
        .iter()
        .take(MAX_ROWS)
        .map(|(id, title, description)| json!({"id": id, "title": cut(title, MAX_ROW_TITLE), "description": cut(description, 72)}))
        .collect();
    NewOutbound {
        to: to.to_owned(),
        kind: "list".into(),
        body: json!({"type": "interactive", "interactive": {
            "type": "list", "body": {"text": body},
            "action": {"button": cut(&button, MAX_BUTTON_TITLE), "sections": [{"title": "Opciones", "rows": rows}]}}}),
    }
}

/// Buttons when there are at most three choices, a list otherwise.
pub fn choice(
    to: &str,
    body: String,
    button: String,
    rows: &[(String, String, String)],
) -> NewOutbound {
    if rows.len() <= MAX_BUTTONS {
        let pairs: Vec<(String, String)> = rows
            .iter()
            .map(|(id, t, _)| (id.clone(), t.clone()))
            .collect();
        buttons(to, body, &pairs)
    } else {
        list(to, body, button, rows)
    }
}

/// An approved template with the text as its one body parameter.
pub fn template(to: &str, name: &str, language: &str, body: String) -> NewOutbound {
    NewOutbound {
        to: to.to_owned(),
        kind: "template".into(),
        body: json!({"type": "template", "template": {
            "name": name, "language": {"code": language},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": body}]}]}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interactive_messages_respect_the_limits() {
        let rows: Vec<(String, String, String)> = (0..12)
            .map(|i| {
                (
                    format!("acc:{i}"),
                    format!("Cabaña con un nombre muy largo {i}"),
                    "x".into(),
                )
            })
            .collect();
        let l = list("549", "b".into(), "Ver opciones".into(), &rows);
        assert_eq!(
            l.body["interactive"]["action"]["sections"][0]["rows"]
                .as_array()
                .unwrap()
                .len(),
            10
        );
        let b = choice("549", "b".into(), "Ver".into(), &rows[..3]);
        let buttons = b.body["interactive"]["action"]["buttons"]
            .as_array()
            .unwrap();
        assert_eq!(buttons.len(), 3);
        assert!(
            buttons
                .iter()
                .all(|b| b["reply"]["title"].as_str().unwrap().chars().count() <= 20)
        );
    }
}
