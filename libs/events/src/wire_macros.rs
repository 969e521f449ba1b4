//! The shapes this crate's records repeat, written once: a `type` (or
//! `status`) tag list with the match that names each variant's tag, an event
//! payload's [`DomainEvent`](crate::event::DomainEvent) impl, and the
//! [`WireRecord`](crate::wire::WireRecord) impl of a record that carries its
//! own `schema_version` and is keyed by one of its ids.

/// Declares `$enum`'s wire tags once: the `$list` const of every tag in
/// declaration order and the `$name` const fn giving a value's tag. One table
/// serves both, so the list cannot miss a variant the match names.
macro_rules! wire_tags {
    (
        $enum:ident,
        $(#[$list_doc:meta])* $list:ident,
        $(#[$name_doc:meta])* $name:ident,
        { $($variant:ident => $tag:literal),+ $(,)? }
    ) => {
        impl $enum {
            $(#[$list_doc])*
            pub const $list: &'static [&'static str] = &[$($tag),+];

            $(#[$name_doc])*
            pub const fn $name(&self) -> &'static str {
                match self {
                    $(Self::$variant { .. } => $tag,)+
                }
            }
        }
    };
}

/// Implements [`DomainEvent`](crate::event::DomainEvent) for `$event`, whose
/// tags [`wire_tags!`] declared as `TYPES` and `event_type`.
macro_rules! domain_event {
    ($event:ident, kind: $kind:literal, version: $version:literal) => {
        impl $crate::event::DomainEvent for $event {
            const ENVELOPE_KIND: &'static str = $kind;
            const CURRENT_VERSION: u32 = $version;
            const TYPES: &'static [&'static str] = $event::TYPES;

            fn event_type(&self) -> &'static str {
                $event::event_type(self)
            }
        }
    };
}

/// Implements [`WireRecord`](crate::wire::WireRecord) for `$record`, which
/// carries its own `schema_version` and is keyed by its `$key` id; with `tag`,
/// its type tag is at `$path` and may be any of `$known`.
macro_rules! versioned_record {
    (
        $record:ty,
        kind: $kind:literal,
        version: $version:literal,
        key: $key:ident
        $(, tag: [$($path:literal),+] in $known:expr)?
        $(,)?
    ) => {
        impl $crate::wire::WireRecord for $record {
            const KIND: &'static str = $kind;
            const CURRENT_VERSION: u32 = $version;
            $(
                const TYPE_TAG: Option<$crate::wire::TypeTag> = Some($crate::wire::TypeTag {
                    path: &[$($path),+],
                    known: $known,
                });
            )?

            fn key(&self) -> uuid::Uuid {
                self.$key.as_uuid()
            }

            fn written_version(&self) -> Option<u32> {
                Some(self.schema_version)
            }
        }
    };
}

pub(crate) use {domain_event, versioned_record, wire_tags};
