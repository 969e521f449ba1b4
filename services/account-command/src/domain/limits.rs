//! Business limits on what one command may do, set by configuration.

use eventbank_runtime::{ConfigError, checks};

eventbank_runtime::settings_section! {
    /// Business limits the processor enforces.
    pub struct Limits {
        /// Largest amount one command may move, in minor units.
        // 100 million in a two-decimal currency such as EUR: high enough
        // never to bother a real customer, low enough that a typo of a few
        // extra zeros is refused before it moves money.
        pub max_amount: i64 = 10_000_000_000,
    }
}

impl Limits {
    /// Refuses a configuration under which no command could move money.
    pub fn validate(&self) -> Result<(), ConfigError> {
        checks::at_least("limits.max_amount", self.max_amount, 1)
    }
}
