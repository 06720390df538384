//! The one envelope of every command's `--format json` document: `{"version": 1, "command": "plan", …}`,
//! then the command's own fields. A script checks `version` before it reads the rest; a
//! change that would break such a reader bumps [`JSON_VERSION`]. An error is the same envelope
//! with an `error` field (and no `command` when the command line did not parse).

use serde::Serialize;

/// The version of every command's JSON document.
pub const JSON_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Envelope<'a, T> {
    version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<&'a str>,
    #[serde(flatten)]
    body: T,
}

impl<'a, T: Serialize> Envelope<'a, T> {
    /// `command`'s document holding `body`'s fields.
    pub fn new(command: &'a str, body: T) -> Envelope<'a, T> {
        Envelope {
            version: JSON_VERSION,
            command: Some(command),
            body,
        }
    }

    /// A document no command owns (an error before one ran).
    pub fn commandless(body: T) -> Envelope<'a, T> {
        Envelope {
            version: JSON_VERSION,
            command: None,
            body,
        }
    }

    pub fn to_value(&self) -> serde_json::Value {
        // A body is plain data (strings, numbers, maps with string keys): serialising it
        // cannot fail, and if it did, the envelope alone still says what ran.
        serde_json::to_value(self)
            .unwrap_or_else(|_| serde_json::json!({"version": self.version, "command": self.command}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_comes_first_then_the_body_in_its_order() {
        let body = serde_json::json!({"zeta": 1, "alpha": [true]});
        let text = serde_json::to_string(&Envelope::new("plan", &body)).unwrap();
        assert_eq!(text, r#"{"version":1,"command":"plan","zeta":1,"alpha":[true]}"#);
        let text = serde_json::to_string(&Envelope::commandless(serde_json::json!({"error": "x"}))).unwrap();
        assert_eq!(text, r#"{"version":1,"error":"x"}"#);
    }
}
