//! One phone call: the outbound playout pacer and mark ledger ([`playout`]), the
//! caller recording ([`recorder`]), and the tokio task that wires a Media Streams
//! socket to them ([`session`]).

pub mod machine;
pub mod playout;
pub mod recorder;
pub mod session;
pub mod transport;
pub mod turn_text;

pub use session::{run, CallDeps, CallSettings};
pub use transport::WsFrame;
