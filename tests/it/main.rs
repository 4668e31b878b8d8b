//! Integration tests: one binary (linking the whole stack once), one module per area.

mod call_loop;
mod chromium;
mod console;
mod escalation;
mod harness;
mod in_memory;
mod llama_server;
mod media_stream;
mod model_faults;
mod postgres;
mod process;
mod replay;
mod security;
mod softphone;
mod speech_faults;
mod speech_http_faults;
mod telemetry;
