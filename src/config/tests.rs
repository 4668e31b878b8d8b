use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn empty_file_gives_defaults() {
    let c = Config::from_parts("", "t", env(&[])).unwrap();
    assert_eq!(c.server.listen_addr().to_string(), "127.0.0.1:8080");
    assert_eq!(c.speech.stt, "whisper");
    assert_eq!(c.call.frames_per_mark, 10);
}

#[test]
fn env_overrides_file() {
    let file = "[server]\nlisten = \"127.0.0.1:1\"\n[call]\nmax_errors = 3\n";
    let c = Config::from_parts(
        file,
        "t",
        env(&[
            ("SWITCHBOARD_SERVER__LISTEN", "127.0.0.1:9000"),
            ("SWITCHBOARD_CALL__FRAMES_PER_MARK", "5"),
            ("SWITCHBOARD_TWILIO__VALIDATE_SIGNATURES", "true"),
            ("SWITCHBOARD_SPEECH__PIPER__VOICE", "joe"),
            ("OTHER", "x"),
        ]),
    )
    .unwrap();
    assert_eq!(c.server.listen_addr().to_string(), "127.0.0.1:9000");
    assert_eq!(c.call.frames_per_mark, 5);
    assert_eq!(c.call.max_errors, 3);
    assert!(c.twilio.validate_signatures);
    assert_eq!(c.speech.providers["piper"]["voice"].as_str(), Some("joe"));
}

#[test]
fn the_database_url_comes_from_the_environment() {
    let url = "postgres://app:p@ss=w0rd@db.internal:5432/calls?sslmode=require";
    let c = Config::from_parts(
        "[store]\npath = \"x.sqlite\"\n",
        "t",
        env(&[
            ("SWITCHBOARD_STORE__DATABASE_URL", url),
            ("SWITCHBOARD_SERVER__DRAIN_TIMEOUT_S", "45"),
        ]),
    )
    .unwrap();
    assert_eq!(c.store.database_url, url);
    assert_eq!(c.server.drain_timeout_s, 45);
    assert!(
        !format!("{c:?}").contains("w0rd"),
        "password in Debug output"
    );
}

#[test]
fn secret_variables_are_never_read_as_options() {
    // The default stream-secret variable carries the prefix (a Deployment sets it).
    let c = Config::from_parts(
        "",
        "t",
        env(&[
            ("SWITCHBOARD_STREAM_SECRET", "s3cret"),
            ("SWITCHBOARD_CALL__MAX_ERRORS", "4"),
        ]),
    )
    .unwrap();
    assert_eq!(c.call.max_errors, 4);
    // Renamed in the file: that name is skipped; the default is an option name again.
    let file = "[server]\nstream_secret_env = \"SWITCHBOARD_TOKEN_KEY\"\n";
    assert!(Config::from_parts(file, "t", env(&[("SWITCHBOARD_TOKEN_KEY", "k")])).is_ok());
    assert!(Config::from_parts(file, "t", env(&[("SWITCHBOARD_STREAM_SECRET", "k")])).is_err());
}

/// The shipped deployment's config file loads with every SWITCHBOARD_* variable
/// its manifests and image set (a name the loader rejects would crash-loop pods).
#[test]
fn the_deployment_config_loads_with_the_manifests_environment() {
    let sources = [
        include_str!("../../deploy/Dockerfile"),
        include_str!("../../deploy/k8s/base/deployment.yaml"),
        include_str!("../../deploy/k8s/overlays/example/kustomization.yaml"),
    ];
    let re = regex::Regex::new(r"SWITCHBOARD_[A-Z0-9_]+").unwrap();
    let mut names: Vec<(String, String)> = sources
        .iter()
        .flat_map(|s| {
            re.find_iter(s)
                .map(|m| (m.as_str().to_string(), "/x".to_string()))
        })
        .collect();
    names.sort();
    names.dedup();
    assert!(names.len() >= 5, "{names:?}");
    let file = include_str!("../../deploy/k8s/base/switchboard.toml");
    Config::from_parts(file, "deploy/k8s/base/switchboard.toml", names).unwrap();
}

/// The compose file's SWITCHBOARD_* settings load, with their own values.
#[test]
fn the_compose_file_environment_loads() {
    let compose = include_str!("../../deploy/compose.yaml");
    let re = regex::Regex::new(r"(?m)^\s+(SWITCHBOARD_[A-Z0-9_]+):\s*(.+)$").unwrap();
    let placeholders = regex::Regex::new(r"\$\{[^}]*\}").unwrap();
    let vars: Vec<(String, String)> = re
        .captures_iter(compose)
        .map(|c| {
            let value = placeholders.replace_all(c[2].trim().trim_matches('"'), "x");
            (c[1].to_string(), value.into_owned())
        })
        .collect();
    assert!(vars.len() >= 3, "{vars:?}");
    let c = Config::from_parts("", "deploy/compose.yaml", vars).unwrap();
    assert!(c
        .store
        .database_url
        .starts_with("postgres://switchboard:x@postgres:5432/"));
    assert_eq!(c.server.drain_timeout_s, 120);
}

#[test]
fn unknown_field_is_an_error_naming_the_origin() {
    let err = Config::from_parts("[server]\nlisten_typo = 1\n", "my.toml", env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("my.toml") && msg.contains("listen_typo"),
        "{msg}"
    );
}

#[test]
fn bad_env_value_is_a_clear_error() {
    let err = Config::from_parts(
        "",
        "t",
        env(&[("SWITCHBOARD_SERVER__LISTEN", "not-an-addr")]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("invalid"), "{err}");
}

#[test]
fn example_config_parses() {
    let text = include_str!("../../switchboard.example.toml");
    Config::from_parts(text, "example", env(&[])).unwrap();
}
