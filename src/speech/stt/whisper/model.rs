//! The embedded Whisper models Switchboard can run, and where each one's files live.
//!
//! A [`WhisperModel`] names its CTranslate2 input (one `model.bin`, or the halves of one
//! that several packages carry), the tokenizer whisper.cpp needs for it, the manifest
//! group that fetches it, and the ggml file the converter writes. Selected by
//! `[speech.whisper] model = "tiny.en" | "base"`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::speech::manifest::{paths, Group};

/// An embedded Whisper model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum WhisperModel {
    /// tiny.en: English-only, 39 M parameters (the default).
    #[default]
    TinyEn,
    /// base: multilingual, 74 M parameters; decoded with language "en".
    Base,
}

/// A model name that is not one of [`WhisperModel::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Whisper model {0:?} (expected one of: tiny.en, base)")]
pub struct UnknownModel(pub String);

impl WhisperModel {
    /// Every model, in manifest order.
    pub const ALL: [WhisperModel; 2] = [WhisperModel::TinyEn, WhisperModel::Base];

    /// The name used in configuration and file names ("tiny.en", "base").
    pub fn name(self) -> &'static str {
        match self {
            WhisperModel::TinyEn => "tiny.en",
            WhisperModel::Base => "base",
        }
    }

    /// The manifest group holding this model's weights (the shared assets are in
    /// [`Group::Stt`]).
    pub fn group(self) -> Group {
        match self {
            WhisperModel::TinyEn => Group::SttTinyEn,
            WhisperModel::Base => Group::SttBase,
        }
    }

    /// Cache-relative paths whose concatenation, in order, is the CT2 `model.bin`.
    pub fn ct2_parts(self) -> &'static [&'static str] {
        match self {
            WhisperModel::TinyEn => &[paths::WHISPER_CT2_TINY_EN_MODEL],
            WhisperModel::Base => &paths::WHISPER_CT2_BASE_PARTS,
        }
    }

    /// Pinned sha256 of the joined `model.bin`, for models shipped in parts.
    pub fn ct2_sha256(self) -> Option<&'static str> {
        match self {
            WhisperModel::TinyEn => None,
            WhisperModel::Base => Some(paths::WHISPER_CT2_BASE_SHA256),
        }
    }

    /// True for models trained on many languages (vocabulary 51865, language tokens).
    pub fn is_multilingual(self) -> bool {
        matches!(self, WhisperModel::Base)
    }

    /// Cache-relative path of the tokenizer the ggml vocabulary is written from: as
    /// whisper.cpp's `convert-pt-to-ggml.py`, `multilingual.tiktoken` for multilingual
    /// models and `gpt2.tiktoken` for English-only ones.
    pub fn tiktoken(self) -> &'static str {
        if self.is_multilingual() {
            paths::WHISPER_MULTILINGUAL_TIKTOKEN
        } else {
            paths::WHISPER_GPT2_TIKTOKEN
        }
    }

    /// Where the converted ggml model goes under `cache_root` (`whisper/ggml-<name>.bin`).
    pub fn ggml_path(self, cache_root: &Path) -> PathBuf {
        cache_root
            .join("whisper")
            .join(format!("ggml-{}.bin", self.name()))
    }
}

impl fmt::Display for WhisperModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WhisperModel {
    type Err = UnknownModel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WhisperModel::ALL
            .into_iter()
            .find(|m| m.name() == s.trim())
            .ok_or_else(|| UnknownModel(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speech::manifest::{all_packages, packages_for};

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for m in WhisperModel::ALL {
            assert_eq!(m.name().parse::<WhisperModel>(), Ok(m));
        }
        assert_eq!(WhisperModel::default(), WhisperModel::TinyEn);
        let err = "large-v3".parse::<WhisperModel>().unwrap_err().to_string();
        assert!(
            err.contains("large-v3") && err.contains("tiny.en, base"),
            "{err}"
        );
    }

    #[test]
    fn every_input_file_is_fetched_by_the_manifest() {
        let dests: Vec<String> = all_packages()
            .into_iter()
            .flat_map(|p| p.members.into_iter().map(|m| m.dest))
            .collect();
        for m in WhisperModel::ALL {
            let in_group: Vec<String> = packages_for(&[m.group(), Group::Stt])
                .into_iter()
                .flat_map(|p| p.members.into_iter().map(|m| m.dest))
                .collect();
            for want in m
                .ct2_parts()
                .iter()
                .copied()
                .chain([m.tiktoken(), paths::WHISPER_MEL_FILTERS])
            {
                assert!(dests.iter().any(|d| d == want), "{m}: {want}");
                assert!(in_group.iter().any(|d| d == want), "{m}: {want} group");
            }
        }
        assert!(WhisperModel::Base
            .ggml_path(Path::new("/c"))
            .ends_with("whisper/ggml-base.bin"));
    }
}
