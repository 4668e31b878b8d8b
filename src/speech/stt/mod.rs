//! Speech-to-text: the embedded Whisper engine and its model files ([`whisper`]), the
//! rolling re-decode driver it runs under ([`rolling`]), the cloud recognisers
//! ([`deepgram`], [`openai`]), joining a turn's two halves ([`continuation`]), and
//! word error rate ([`wer`]) with the telephone-path evaluation ([`eval`]). The
//! [`super::SpeechToText`] trait and the stream types live in `speech`.

pub mod continuation;
pub mod deepgram;
pub mod eval;
pub mod fallback;
pub mod openai;
pub mod rolling;
pub mod wer;
pub mod whisper;
