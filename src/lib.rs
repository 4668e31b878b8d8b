//! # Switchboard — a voice call-center bot
//!
//! Caller audio arrives over a Twilio-style Media Streams websocket, is understood,
//! routed between specialist agents with invisible handoffs, and answered in one
//! steady voice.
//!
//! ## Layout
//! Dependencies point one way: the lower layers know nothing of the ones above.
//!
//! | module        | owns |
//! |---------------|------|
//! | [`telephony`] | the Twilio Media Streams wire format (sans-IO codec), TwiML, signatures and stream tokens; the browser softphone's protocol bridged to it |
//! | [`audio`]     | G.711 μ-law, Opus, resampling, WAV files, 20 ms framing |
//! | [`speech`]    | `Vad`, `SpeechToText`, `TextToSpeech` traits; `vad/`, `stt/` (Whisper and its model files, cloud recognisers), `tts/` (Piper, cloud voices, normalisation); model files |
//! | [`agents`]    | the text-only agent runtime: prompts, handoffs, tools, `ChatModel`s, traces |
//! | [`call`]      | one phone call: the sans-IO machine by concept (endpointing, transcripts, reply, interruption, keypad, re-prompt), playout pacing and marks, its tokio session, the record writer and live transfers (Twilio REST) |
//! | [`server`]    | axum routes (`/twiml`, `/media`, `/healthz`, `/readyz`, `/calls`, the console, the softphone) wiring sockets to [`call`] |
//! | [`replay`]    | QA replay: a Twilio simulator that plays WAV scenarios and checks agent paths |
//! | [`store`]     | SQLite (embedded) or PostgreSQL (shared): call records, demo customers |
//! | [`config`]    | TOML configuration with `SWITCHBOARD_*` environment overrides |
//! | [`cache`]     | the model-file cache root shared by all embedded providers |
//! | [`calendar`]  | month names shared by spoken dates and TTS text normalisation |
//! | [`number_words`] | English number words shared by TTS normalisation and the agents' reading of spoken numbers |
//! | [`metrics`]   | Prometheus counters and latency histograms |
//! | [`app`]       | start-up assembly: config → store, providers, server state |
//! | [`providers`] | picks and loads the VAD, STT, TTS, agent runtime and greeting the config names (never imports `app`) |
//! | [`redact`]    | masks card numbers and configured patterns in everything that leaves a call |
//!
//! `agents` is usable without any server (see `switchboard chat`); `telephony`,
//! `audio` and `speech` never mention agents.

pub mod agents;
pub mod app;
pub mod audio;
pub mod breaker;
pub mod cache;
pub mod calendar;
pub mod call;
pub mod config;
pub mod metrics;
pub mod number_words;
pub mod providers;
pub mod redact;
pub mod replay;
pub mod server;
pub mod speech;
pub mod store;
pub mod telemetry;
pub mod telephony;
