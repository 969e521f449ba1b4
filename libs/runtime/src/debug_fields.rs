//! `Debug` for structs that hold clients without one (a Kafka producer, a
//! Redis connection manager): the fields worth seeing, then `..`.

/// Implements `Debug` for `$ty` printing the named fields and `..`.
#[macro_export]
macro_rules! debug_fields {
    ($ty:ident { $($field:ident),+ $(,)? }) => {
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))+
                    .finish_non_exhaustive()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    struct Holder {
        name: &'static str,
        #[allow(dead_code)]
        client: std::sync::Mutex<()>,
    }
    crate::debug_fields!(Holder { name });

    #[test]
    fn only_the_named_fields_are_shown() {
        let holder = Holder {
            name: "a",
            client: std::sync::Mutex::new(()),
        };
        assert_eq!(format!("{holder:?}"), "Holder { name: \"a\", .. }");
    }
}
