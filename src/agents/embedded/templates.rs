//! Reply templates: `{dotted.path}` placeholders filled from a tool result (JSON),
//! and the small condition language of `when = "..."` guards.
//!
//! Paths index objects by key and arrays by number (`duplicates.0.date_spoken`).
//! Conditions: `path` (truthy), `!path` (falsy), `path=value`, `path!=value`,
//! joined with ` and `.

use serde_json::Value;

/// Looks up a dotted path in a JSON value.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        cur = match cur {
            Value::Object(map) => map.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// How a JSON value is spoken inside a sentence.
pub fn spoken(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(spoken).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|x| x != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// Evaluates a `when` condition against a tool result.
pub fn condition(cond: &str, data: &Value) -> bool {
    cond.split(" and ").map(str::trim).all(|c| {
        if let Some((path, want)) = c.split_once("!=") {
            lookup(data, path.trim()).map(spoken).as_deref() != Some(want.trim())
        } else if let Some((path, want)) = c.split_once('=') {
            lookup(data, path.trim()).map(spoken).as_deref() == Some(want.trim())
        } else if let Some(path) = c.strip_prefix('!') {
            !truthy(lookup(data, path.trim()))
        } else {
            truthy(lookup(data, c))
        }
    })
}

/// Fills `{path}` placeholders from `data`; `None` if any placeholder is missing or empty.
pub fn render(template: &str, data: &Value) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}')?;
        let value = spoken(lookup(data, after[..end].trim())?);
        if value.is_empty() {
            return None;
        }
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data() -> Value {
        json!({"count": 1, "duplicates": [{"date_spoken": "March 12", "amount": "$59.99"}],
               "status": "refunded", "empty": [], "ok": false})
    }

    #[test]
    fn renders_nested_paths() {
        let t = "charged twice on {duplicates.0.date_spoken} for {duplicates.0.amount}.";
        assert_eq!(
            render(t, &data()).unwrap(),
            "charged twice on March 12 for $59.99."
        );
        assert_eq!(
            render("no placeholders", &data()).unwrap(),
            "no placeholders"
        );
    }

    #[test]
    fn missing_or_empty_placeholder_fails() {
        assert!(render("{duplicates.1.amount}", &data()).is_none());
        assert!(render("{nope}", &data()).is_none());
        assert!(render("{unclosed", &data()).is_none());
    }

    #[test]
    fn conditions() {
        let d = data();
        assert!(condition("count", &d));
        assert!(condition("count=1", &d));
        assert!(!condition("count=0", &d));
        assert!(condition("status!=needs_confirmation", &d));
        assert!(condition("!empty and !ok", &d));
        assert!(!condition("error", &d));
        assert!(condition("!error", &d));
    }
}
