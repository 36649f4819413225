//! What text chorus accepts. Text is stored exactly as sent (HTML and SQL
//! are only text; clients render it as text), except that line endings are
//! normalised. Control characters are refused: they have no place in a
//! comment and are a favourite of terminal and log injection.

use serde::Serialize;

/// One field that failed validation, named so a form can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A request whose values break the rules; the HTTP layer answers 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn field(field: &str, message: impl Into<String>) -> Invalid {
        Invalid(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }
}

/// Checks one text field: trims it, normalises line endings, refuses
/// control characters and lengths outside `min..=max` characters.
pub fn clean(field: &str, value: &str, min: usize, max: usize) -> Result<String, Invalid> {
    let normalised = value.replace("\r\n", "\n").replace('\r', "\n");
    let trimmed = normalised.trim();
    if let Some(c) = trimmed
        .chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
    {
        return Err(Invalid::field(
            field,
            format!(
                "must not contain control characters (found U+{:04X})",
                c as u32
            ),
        ));
    }
    let len = trimmed.chars().count();
    if len < min || len > max {
        let message = if min == 0 {
            format!("must be at most {max} characters (got {len})")
        } else {
            format!("must be between {min} and {max} characters (got {len})")
        };
        return Err(Invalid::field(field, message));
    }
    Ok(trimmed.to_string())
}

pub const COMMENT_MAX: usize = 2000;
pub const IDEA_TITLE_MAX: usize = 120;
pub const IDEA_BODY_MAX: usize = 2000;
pub const FLAG_REASON_MAX: usize = 500;
pub const TITLE_MAX: usize = 200;
pub const INTRODUCTION_MAX: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_hostile_text_verbatim_but_refuses_control_characters() {
        let html = "<img src=x onerror=alert(1)> '; DROP TABLE comments; -- 🎉";
        assert_eq!(clean("body", html, 1, 2000).unwrap(), html);
        assert!(clean("body", "bell\u{7}", 1, 2000).is_err());
        assert!(clean("body", "   ", 1, 2000).is_err());
        assert_eq!(clean("body", "a\r\nb", 1, 10).unwrap(), "a\nb");
        assert!(clean("body", &"x".repeat(2001), 1, 2000).is_err());
        assert_eq!(
            clean("body", &"é".repeat(2000), 1, 2000)
                .unwrap()
                .chars()
                .count(),
            2000
        );
    }
}
