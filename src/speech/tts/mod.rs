//! Text-to-speech: the embedded Piper voice ([`piper`]), the cloud voices
//! ([`openai`], [`elevenlabs`]), pre-rendered phrases ([`canned`]) and the text
//! normalisation in front of every voice ([`normalize`]: numbers, dates, money as
//! words). The [`super::TextToSpeech`] trait lives in `speech`.

pub mod canned;
pub mod elevenlabs;
pub mod fallback;
pub mod normalize;
pub mod openai;
pub mod piper;
