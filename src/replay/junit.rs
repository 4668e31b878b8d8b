//! JUnit XML for CI systems: one `<testcase>` per scenario, a `<failure>` with
//! the expected-vs-actual diff on mismatch, an `<error>` when the replay itself
//! failed.

use super::expect::render_diff;
use super::report::Report;
use crate::telephony::twiml::escape_xml as esc;

/// The JUnit XML document for these reports.
pub fn render(suite: &str, reports: &[Report]) -> String {
    let failures = reports
        .iter()
        .filter(|r| !r.passed && r.error.is_none())
        .count();
    let errors = reports.iter().filter(|r| r.error.is_some()).count();
    let total_s: f64 = reports.iter().map(|r| r.wall_ms as f64 / 1000.0).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total_s:.3}\">\n",
        reports.len()
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total_s:.3}\">\n",
        esc(suite),
        reports.len()
    ));
    for r in reports {
        x.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{:.3}\">\n",
            esc(suite),
            esc(&r.scenario),
            esc(&r.file),
            r.wall_ms as f64 / 1000.0
        ));
        if let Some(e) = &r.error {
            x.push_str(&format!(
                "      <error message=\"{}\">{}</error>\n",
                esc(e),
                esc(e)
            ));
        } else if !r.passed {
            let failed: Vec<&str> = r
                .checks
                .iter()
                .filter(|c| !c.ok)
                .map(|c| c.name.as_str())
                .collect();
            x.push_str(&format!(
                "      <failure message=\"{}\">{}</failure>\n",
                esc(&format!("expectations not met: {}", failed.join(", "))),
                esc(&render_diff(&r.checks))
            ));
        }
        x.push_str(&format!(
            "      <system-out>{}</system-out>\n",
            esc(&r.summary())
        ));
        x.push_str("    </testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::expect::Check;
    use std::path::Path;

    #[test]
    fn pass_fail_and_error_cases_are_escaped_and_counted() {
        let mut pass = Report::failed("ok-call", Path::new("a.toml"), "fast", String::new());
        pass.error = None;
        pass.passed = true;
        pass.wall_ms = 1500;
        let mut fail = Report::failed("bad<call>", Path::new("b.toml"), "fast", String::new());
        fail.error = None;
        fail.checks = vec![Check {
            name: "outcome".into(),
            expected: "escalated".into(),
            actual: "completed & \"done\"".into(),
            ok: false,
        }];
        let err = Report::failed("broken", Path::new("c.toml"), "fast", "no such file".into());
        let xml = render("switchboard-replay", &[pass, fail, err]);
        assert!(
            xml.contains(r#"<testsuites tests="3" failures="1" errors="1" time="1.500">"#),
            "{xml}"
        );
        assert!(xml.contains(r#"name="bad&lt;call&gt;""#), "{xml}");
        assert!(
            xml.contains(r#"<failure message="expectations not met: outcome">"#),
            "{xml}"
        );
        assert!(
            xml.contains("+ actual:   completed &amp; &quot;done&quot;"),
            "{xml}"
        );
        assert!(xml.contains(r#"<error message="no such file">"#), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(xml.matches("</testcase>").count(), 3);
        // One escaper for TwiML and JUnit: characters XML 1.0 forbids are dropped.
        assert_eq!(esc("a\u{1}b"), "ab");
    }
}
