//! The shape every user-facing rejection takes, in both languages.

/// A rejection a user can act on: a stable code, the field it concerns and a
/// message in Chinese and English. Domain errors implement this so the web
/// layer can map them once.
pub trait UserError: std::error::Error {
    /// Stable machine-readable code, e.g. `invalid_id_number`.
    fn code(&self) -> &'static str;
    /// Message in zh-CN.
    fn message_zh(&self) -> String;
    /// Message in English.
    fn message_en(&self) -> String {
        self.to_string()
    }
}
