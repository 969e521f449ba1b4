//! The shape of every settings section: a struct that refuses unknown keys
//! and defaults missing ones, with each field's default next to it.

/// Declares a settings section: `pub struct $name` with each field's default
/// after `=`, deriving what every section derives (`Debug`, `Clone`,
/// `PartialEq`, `Eq`, serde) and implementing `Default` from those defaults.
/// The section refuses unknown keys and fills in missing ones.
#[macro_export]
macro_rules! settings_section {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_attr:meta])*
                pub $field:ident: $ty:ty = $default:expr,
            )*
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $(
                $(#[$field_attr])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $($field: $default,)*
                }
            }
        }
    };
}
