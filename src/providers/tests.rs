use super::*;

fn config(toml: &str) -> Config {
    Config::from_parts(toml, "test", Vec::new()).unwrap()
}

#[test]
fn the_recogniser_prompt_names_the_agents_vocabulary() {
    assert_eq!(vocabulary_prompt(&[]), None);
    let agents = crate::agents::prompts::load_dir(std::path::Path::new("prompts")).unwrap();
    let prompt = vocabulary_prompt(&agents.vocabulary()).unwrap();
    for word in ["refund", "invoice", "webhook", "password"] {
        assert!(prompt.contains(word), "{prompt}");
    }
    assert_eq!(prompt.matches("plan,").count(), 1, "no repeats: {prompt}");
}

#[test]
fn cloud_providers_need_their_key_and_unknown_names_are_refused() {
    let store = Store::open_in_memory().unwrap();
    let c = config(
        "[speech]\nvad = \"energy\"\nstt = \"none\"\ntts = \"openai\"\n[speech.openai]\napi_key_env = \"SB_TEST_UNSET_KEY_1\"\n",
    );
    let err = voice_stack(&c, &store)
        .err()
        .expect("missing key is an error");
    assert!(err.to_string().contains("SB_TEST_UNSET_KEY_1"), "{err}");
    let c = config("[speech]\nvad = \"energy\"\nstt = \"carrier-pigeon\"\ntts = \"piper\"\n");
    let err = voice_stack(&c, &store).err().expect("unknown stt");
    assert!(err.to_string().contains("carrier-pigeon"), "{err}");
    let c = config("[speech]\nvad = \"loud\"\n");
    assert!(voice_stack(&c, &store)
        .err()
        .unwrap()
        .to_string()
        .contains("speech.vad"));
}

#[test]
fn needed_groups_follow_the_configuration() {
    let all = needed_groups(&config("")).unwrap();
    for g in [
        Group::Runtime,
        Group::Vad,
        Group::Stt,
        Group::SttBase,
        Group::Tts,
        Group::Embeddings,
    ] {
        assert!(all.contains(&g), "{g:?}");
    }
    assert!(
        !all.contains(&Group::SttTinyEn),
        "tiny.en only when configured"
    );
    let tiny = needed_groups(&config("[speech.whisper]\nmodel = \"tiny.en\"\n")).unwrap();
    assert!(tiny.contains(&Group::Stt) && tiny.contains(&Group::SttTinyEn));
    assert!(!tiny.contains(&Group::SttBase));
    let cloud = needed_groups(&config(
        "[speech]\nvad = \"energy\"\nstt = \"deepgram\"\ntts = \"openai\"\n",
    ))
    .unwrap();
    assert_eq!(cloud, vec![Group::Embeddings]);
    let err = needed_groups(&config("[speech.whisper]\nmodel = \"huge\"\n")).unwrap_err();
    assert!(err.to_string().contains("huge"), "{err}");
}

#[test]
fn documented_whisper_settings_are_accepted() {
    // The commented-out [speech.whisper] block of the example configuration, enabled.
    let text = include_str!("../../switchboard.example.toml");
    let block: String = text
        .lines()
        .skip_while(|l| *l != "# [speech.whisper]")
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .filter(|l| {
            // settings (`key = value`) and the table header, not the prose
            l.starts_with('[')
                || l.split_once(" = ")
                    .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        block.contains("audio_ctx_margin") && block.contains("prompt"),
        "{block}"
    );
    let c = whisper_config(&config(&block)).unwrap();
    assert_eq!(c.model, WhisperModel::Base);
}

#[test]
fn whisper_settings_are_read_and_checked() {
    let c = whisper_config(&config("")).unwrap();
    assert_eq!(c.model, WhisperModel::Base);
    assert_eq!(c.audio_ctx_margin, Some(256));
    let c = whisper_config(&config("[speech.whisper]\nmodel = \"tiny.en\"\n")).unwrap();
    assert_eq!(c.audio_ctx_margin, None, "tiny.en keeps the full window");
    let c = whisper_config(&config("[speech.whisper]\naudio_ctx_margin = \"full\"\n")).unwrap();
    assert_eq!((c.model, c.audio_ctx_margin), (WhisperModel::Base, None));
    let c = whisper_config(&config(
        "[speech.whisper]\nmodel = \"base\"\naudio_ctx_margin = 64\n",
    ))
    .unwrap();
    assert_eq!(c.model, WhisperModel::Base);
    assert_eq!(c.audio_ctx_margin, Some(64));
    let c = Config::from_parts(
        "",
        "test",
        vec![
            (
                "SWITCHBOARD_SPEECH__WHISPER__MODEL".into(),
                "tiny.en".into(),
            ),
            (
                "SWITCHBOARD_SPEECH__WHISPER__AUDIO_CTX_MARGIN".into(),
                "128".into(),
            ),
        ],
    )
    .unwrap();
    let c = whisper_config(&c).unwrap();
    assert_eq!(
        (c.model, c.audio_ctx_margin),
        (WhisperModel::TinyEn, Some(128))
    );
    for bad in [
        "model = \"large\"",
        "model = 3",
        "audio_ctx_margin = -1",
        "audio_ctx_margin = \"64\"",
        "audio_ctx_margin = \"fast\"",
        "audio_ctx_margin = 1500",
    ] {
        let c = config(&format!("[speech.whisper]\n{bad}\n"));
        let err = whisper_config(&c).unwrap_err().to_string();
        assert!(err.contains("[speech.whisper]"), "{bad}: {err}");
    }
    // An unknown model stops the STT provider before any model file is touched.
    let store = Store::open_in_memory().unwrap();
    let c = config(
        "[speech]\nvad = \"energy\"\nstt = \"whisper\"\ntts = \"piper\"\n[speech.whisper]\nmodel = \"large\"\n",
    );
    let err = voice_stack(&c, &store).err().expect("unknown model");
    assert!(err.to_string().contains("unknown Whisper model"), "{err}");
}
