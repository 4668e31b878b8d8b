//! Integration tests: one binary (linking the whole stack once), one module per area.

mod harness;
mod media_stream;
mod replay;
