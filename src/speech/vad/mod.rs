//! Voice activity detection: Silero (ONNX, [`silero`]) and a level threshold
//! ([`energy`]). The [`super::Vad`] trait lives in `speech`.

pub mod energy;
pub mod silero;
