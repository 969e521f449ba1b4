//! Writes the AsyncAPI document of the topics to `docs/asyncapi.json`:
//!
//! ```text
//! cargo run -p eventbank-events --features schema --example asyncapi
//! ```
//!
//! A test of this crate fails while the checked-in document differs from
//! what the code generates, so run this after changing a wire type, a topic
//! or a flow, and commit the result with the change.

use std::path::Path;

use eventbank_events::asyncapi;

fn main() -> std::io::Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(asyncapi::DOCUMENT_PATH);
    std::fs::write(&path, asyncapi::render(&asyncapi::document()))?;
    println!("wrote {}", asyncapi::DOCUMENT_PATH);
    Ok(())
}
