//! The processor's command memory against the real broker: what a command id
//! is bound to, for how long, and what it costs — the exactly-once edges a
//! count-bounded window inside the account snapshot got wrong.

mod binding;
mod cost;
mod direct;
mod window;
