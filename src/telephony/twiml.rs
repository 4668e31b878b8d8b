//! TwiML documents the server returns: connect the call to our media websocket,
//! or transfer it to a human. Builds XML strings with correct escaping.

use std::fmt::Write as _;

const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Escape text for XML element content or a double-quoted attribute.
///
/// `& < > " '` become entities; tab, CR and LF become character references
/// (so attribute values survive attribute-value normalisation); other control
/// characters, which XML 1.0 forbids, are dropped.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// XML 1.0 `Char` production (minus tab/LF/CR handled by the caller).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `<Connect><Stream>`: a bidirectional media stream to `ws_url`. Each
/// `(name, value)` becomes a `<Parameter>`, delivered in `start.customParameters`.
pub fn connect_stream(ws_url: &str, params: &[(String, String)]) -> String {
    let mut xml = format!(
        "{XML_DECL}<Response><Connect><Stream url=\"{}\">",
        escape_xml(ws_url)
    );
    for (name, value) in params {
        // Writing to a String cannot fail.
        let _ = write!(
            xml,
            "<Parameter name=\"{}\" value=\"{}\"/>",
            escape_xml(name),
            escape_xml(value)
        );
    }
    xml.push_str("</Stream></Connect></Response>");
    xml
}

/// Transfer to a human: optionally `<Say>` something to the caller, then
/// `<Dial><Number>`. `whisper_url` becomes the `<Number url>`: TwiML played to
/// the person who answers before the calls are bridged.
pub fn dial(number: &str, say_first: Option<&str>, whisper_url: Option<&str>) -> String {
    let mut xml = format!("{XML_DECL}<Response>");
    if let Some(text) = say_first {
        let _ = write!(xml, "<Say>{}</Say>", escape_xml(text));
    }
    xml.push_str("<Dial><Number");
    if let Some(url) = whisper_url {
        let _ = write!(xml, " url=\"{}\"", escape_xml(url));
    }
    let _ = write!(xml, ">{}</Number></Dial></Response>", escape_xml(number));
    xml
}

/// `<Say>` then `<Hangup/>`: end the call politely (e.g. on a fatal stream error).
pub fn say_and_hangup(text: &str) -> String {
    format!(
        "{XML_DECL}<Response><Say>{}</Say><Hangup/></Response>",
        escape_xml(text)
    )
}

/// What a Twilio-like client reads from a `<Connect><Stream>` document: the stream
/// URL and its `<Parameter>`s (entities decoded), in document order. `None` when the
/// document has no `<Stream url=…>`. A small reader for the documents
/// [`connect_stream`] writes, not a general XML parser.
pub fn parse_stream(xml: &str) -> Option<(String, Vec<(String, String)>)> {
    let stream_at = xml.find("<Stream")?;
    let stream_tag = &xml[stream_at..stream_at + xml[stream_at..].find('>')?];
    let url = attribute(stream_tag, "url")?;
    let body_end = xml[stream_at..]
        .find("</Stream>")
        .map_or(xml.len(), |i| stream_at + i);
    let mut params = Vec::new();
    let mut rest = &xml[stream_at..body_end];
    while let Some(i) = rest.find("<Parameter") {
        let tag_end = rest[i..].find('>').map_or(rest.len(), |e| i + e);
        let tag = &rest[i..tag_end];
        if let (Some(name), Some(value)) = (attribute(tag, "name"), attribute(tag, "value")) {
            params.push((name, value));
        }
        rest = &rest[tag_end..];
    }
    Some((url, params))
}

/// The decoded value of `name="…"` in one tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = start + tag[start..].find('"')?;
    Some(unescape_xml(&tag[start..end]))
}

/// Decode the five predefined entities and numeric character references.
fn unescape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find(';') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let entity = &rest[i + 1..i + end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..=i + end]),
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_stream_reads_what_connect_stream_writes() {
        let params = vec![
            ("From".to_string(), "+15551230001".to_string()),
            (
                "note".to_string(),
                "say \"hi\" <now> & 'then'\tx".to_string(),
            ),
        ];
        let xml = connect_stream("wss://example.com/media?a=1&b=2", &params);
        let (url, got) = parse_stream(&xml).unwrap();
        assert_eq!(url, "wss://example.com/media?a=1&b=2");
        assert_eq!(got, params);
        assert_eq!(parse_stream("<Response><Say>hi</Say></Response>"), None);
    }

    #[test]
    fn connect_stream_document() {
        let xml = connect_stream(
            "wss://example.com/media?a=1&b=2",
            &[
                ("tenant".into(), "acme".into()),
                ("note".into(), "say \"hi\" <now> & 'then'".into()),
            ],
        );
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>\
             <Stream url=\"wss://example.com/media?a=1&amp;b=2\">\
             <Parameter name=\"tenant\" value=\"acme\"/>\
             <Parameter name=\"note\" value=\"say &quot;hi&quot; &lt;now&gt; &amp; &apos;then&apos;\"/>\
             </Stream></Connect></Response>"
        );
    }

    #[test]
    fn connect_stream_without_params() {
        assert!(connect_stream("wss://h/m", &[])
            .ends_with("<Stream url=\"wss://h/m\"></Stream></Connect></Response>"));
    }

    #[test]
    fn dial_variants() {
        assert_eq!(
            dial("+15555550100", None, None),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial><Number>+15555550100</Number></Dial></Response>"
        );
        assert_eq!(
            dial(
                "+15555550100",
                Some("Connecting you to a person & more"),
                Some("https://h/whisper?call=CA1&x=2")
            ),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>\
             <Say>Connecting you to a person &amp; more</Say>\
             <Dial><Number url=\"https://h/whisper?call=CA1&amp;x=2\">+15555550100</Number></Dial></Response>"
        );
    }

    #[test]
    fn escaping_control_characters() {
        assert_eq!(escape_xml("a\u{0}b\u{1b}c"), "abc");
        assert_eq!(escape_xml("l1\nl2\tx\r"), "l1&#10;l2&#9;x&#13;");
        assert_eq!(escape_xml("héllo ☎"), "héllo ☎");
        assert_eq!(escape_xml("\u{FFFE}"), "");
    }

    #[test]
    fn say_and_hangup_document() {
        assert!(say_and_hangup("Bye <now>").contains("<Say>Bye &lt;now&gt;</Say><Hangup/>"));
    }
}
