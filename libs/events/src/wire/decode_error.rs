//! Every way bytes can fail to decode into a record ([`DecodeError`]), each
//! with a stable code for metric labels and a text fit for a dead-letter header.

/// Why bytes could not be decoded into a record.
///
/// The `Display` text is self-contained (it includes serde's message rather
/// than chaining it as a `source`) because it is what goes into the
/// dead-letter reason header, where nobody walks error chains.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{kind}: invalid JSON: {error}")]
    InvalidJson {
        kind: &'static str,
        error: serde_json::Error,
    },
    #[error("{kind}: expected a JSON object at the top level, found {found}")]
    NotAnObject {
        kind: &'static str,
        found: &'static str,
    },
    #[error("{kind}: missing `schema_version`")]
    MissingSchemaVersion { kind: &'static str },
    #[error("{kind}: `schema_version` must be a positive integer, found {found}")]
    InvalidSchemaVersion { kind: &'static str, found: String },
    #[error(
        "{kind}: schema_version {found} is newer than this build supports (up to {supported}); \
         upgrade the consumer, then replay this record"
    )]
    UnsupportedVersion {
        kind: &'static str,
        found: u32,
        supported: u32,
    },
    #[error("{kind}: cannot upcast from schema_version {from_version}: {reason}")]
    Upcast {
        kind: &'static str,
        from_version: u32,
        reason: String,
    },
    #[error("{kind}: unknown type {tag:?} at `{path}`; known types: {known}")]
    UnknownType {
        kind: &'static str,
        tag: String,
        path: String,
        known: String,
    },
    #[error("{kind} v{written_version}: {error}")]
    InvalidRecord {
        kind: &'static str,
        written_version: u32,
        error: serde_json::Error,
    },
}

impl DecodeError {
    /// A stable, low-cardinality name for the failure, for metric labels.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "invalid_json",
            Self::NotAnObject { .. } => "not_an_object",
            Self::MissingSchemaVersion { .. } => "missing_schema_version",
            Self::InvalidSchemaVersion { .. } => "invalid_schema_version",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::Upcast { .. } => "upcast_failed",
            Self::UnknownType { .. } => "unknown_type",
            Self::InvalidRecord { .. } => "invalid_record",
        }
    }

    /// The record kind that was being decoded.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::InvalidJson { kind, .. }
            | Self::NotAnObject { kind, .. }
            | Self::MissingSchemaVersion { kind }
            | Self::InvalidSchemaVersion { kind, .. }
            | Self::UnsupportedVersion { kind, .. }
            | Self::Upcast { kind, .. }
            | Self::UnknownType { kind, .. }
            | Self::InvalidRecord { kind, .. } => kind,
        }
    }
}
