//! Prompt loading and validation errors that name the file.

use crate::agents::prompts::{load_sources, parse_agent};
use crate::agents::spec::Provider;
use crate::agents::AgentError;

use super::agent_set;

const OK_TRIAGE: &str = "+++\nname = \"triage\"\ndescription = \"front door\"\ntools = [\"end_call\"]\n[[handoffs]]\ntarget = \"billing\"\n+++\nRoute calls.\n";
const OK_BILLING: &str = "+++\nname = \"billing\"\ndescription = \"money\"\n[model]\nprovider = \"openai\"\nname = \"gpt-4o-mini\"\napi_key_env = \"OPENAI_API_KEY\"\n+++\nHandle bills.\n";

fn files(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v = vec![
        ("prompts/triage.md".to_string(), OK_TRIAGE.to_string()),
        ("prompts/billing.md".to_string(), OK_BILLING.to_string()),
    ];
    v.extend(extra.iter().map(|(f, t)| (f.to_string(), t.to_string())));
    v
}

fn err(extra: &[(&str, &str)]) -> String {
    match load_sources("persona", &files(extra)) {
        Err(e @ AgentError::Prompt { .. }) => e.to_string(),
        other => panic!("expected a prompt error, got {other:?}"),
    }
}

#[test]
fn the_shipped_prompts_load() {
    let set = agent_set();
    assert_eq!(set.names(), vec!["billing", "technical", "triage"]);
    let billing = set.get("billing").unwrap();
    assert!(billing.owns_tool("issue_refund") && !billing.owns_tool("reset_password"));
    assert!(billing
        .brain
        .get("intents")
        .and_then(|i| i.as_array())
        .is_some_and(|a| !a.is_empty()));
    let triage = set.get("triage").unwrap();
    assert_eq!(
        triage
            .handoff("billing")
            .and_then(|h| h.on_handoff.as_deref()),
        Some("fetch_billing_record")
    );
    assert!(set.persona.contains("Greet the caller only once"));
    assert_eq!(triage.model.provider, Provider::Embedded);
}

#[test]
fn valid_sources_parse_models() {
    let set = load_sources("persona", &files(&[])).expect("valid");
    let b = set.get("billing").unwrap();
    assert_eq!(
        (b.model.provider, b.model.name.as_str()),
        (Provider::Openai, "gpt-4o-mini")
    );
    assert!(b.brain.as_table().is_some_and(|t| t.is_empty()));
}

#[test]
fn unknown_handoff_target_names_the_file() {
    let bad = "+++\nname = \"tech\"\n[[handoffs]]\ntarget = \"sales\"\n+++\nx\n";
    let e = err(&[("prompts/tech.md", bad)]);
    assert!(
        e.starts_with("prompts/tech.md:") && e.contains("unknown handoff target `sales`"),
        "{e}"
    );
}

#[test]
fn unknown_tool_hook_and_filter_name_the_file() {
    let tool = "+++\nname = \"tech\"\ntools = [\"format_disk\"]\n+++\nx\n";
    let e = err(&[("prompts/tech.md", tool)]);
    assert!(
        e.starts_with("prompts/tech.md:") && e.contains("unknown tool `format_disk`"),
        "{e}"
    );
    let hook = "+++\nname = \"tech\"\n[[handoffs]]\ntarget = \"billing\"\non_handoff = \"launch_rocket\"\n+++\nx\n";
    let e = err(&[("prompts/tech.md", hook)]);
    assert!(
        e.contains("prompts/tech.md") && e.contains("unknown on_handoff hook `launch_rocket`"),
        "{e}"
    );
    let filter = "+++\nname = \"tech\"\n[[handoffs]]\ntarget = \"human\"\ninput_filter = \"shred\"\n+++\nx\n";
    let e = err(&[("prompts/tech.md", filter)]);
    assert!(
        e.contains("prompts/tech.md") && e.contains("unknown input_filter `shred`"),
        "{e}"
    );
}

#[test]
fn duplicate_names_name_both_files() {
    let dup = OK_BILLING.replace("money", "more money");
    let e = err(&[("prompts/zz_billing_copy.md", &dup)]);
    assert!(
        e.starts_with("prompts/zz_billing_copy.md:")
            && e.contains("duplicate agent name `billing`")
            && e.contains("prompts/billing.md"),
        "{e}"
    );
}

#[test]
fn malformed_files_name_the_file() {
    for (text, needle) in [
        ("no front matter", "missing `+++`"),
        (
            "+++\nname = \"x\"\nbogus_key = 1\n+++\nbody",
            "invalid front matter",
        ),
        ("+++\nname = \"Bad Name\"\n+++\nbody", "invalid agent name"),
        ("+++\nname = \"x\"\n+++\n   ", "empty instructions"),
        ("+++\nname = \"human\"\n+++\nbody", "reserved"),
        (
            "+++\nname = \"x\"\n[model]\nprovider = \"skynet\"\nname = \"t\"\n+++\nbody",
            "invalid front matter",
        ),
    ] {
        let e = parse_agent("prompts/x.md", text)
            .expect_err(text)
            .to_string();
        assert!(e.starts_with("prompts/x.md:") && e.contains(needle), "{e}");
    }
}

#[test]
fn load_dir_reports_missing_persona() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("triage.md"), OK_TRIAGE).unwrap();
    let e = crate::agents::prompts::load_dir(dir.path())
        .expect_err("no persona")
        .to_string();
    assert!(e.contains("persona.md"), "{e}");
}
