//! What one clause of a caller's turn is, beside a request of its own: a short
//! question about what was just told ("how much is it", "which one is fastest"), a
//! clause about someone else ("my mom's in Austin"), a request added with "too", or
//! figures read back ("fifty-nine ninety-nine for five hundred, okay"). Used when a
//! turn is split into its requests (`requests.rs`).

use crate::agents::confirm::words;

/// A clause (lower-case words) about someone else ("and my mom's in austin she's with
/// you too"): a relative, a friend, or "her"/"his"/"their".
pub(super) fn someone_elses(clause: &str) -> bool {
    clause.split_whitespace().any(|w| {
        let w = w.trim_end_matches("'s");
        super::account_details::PEOPLE.contains(&w)
            || matches!(w, "her" | "hers" | "his" | "their" | "theirs")
    })
}

/// A clause (lower-case words) that opens with a short question about "it", "that" or
/// "this" ("how much is it and since when", "when is that due"), or asks which of
/// them ("which one is fastest"): it asks about what was just told.
pub(super) fn asks_about_it(clause: &str) -> bool {
    let ws: Vec<&str> = clause.split_whitespace().collect();
    let asks = ws.first().is_some_and(|w| {
        super::question_shapes::QUESTION_WORDS.contains(w)
            || matches!(*w, "is" | "was" | "does" | "did" | "can" | "could")
    });
    // ("…what do they cost, and which one is fastest": which of what was just named.)
    let which_of_them = matches!(
        ws.as_slice(),
        ["which", "one" | "ones" | "is" | "are", ..]
            | ["which", "of", "them" | "those" | "these", ..]
    );
    which_of_them
        || asks
            && (2..=5.min(ws.len())).any(|n| {
                matches!(ws[n - 1], "it" | "that" | "this")
                    && ws
                        .get(n)
                        .is_none_or(|w| matches!(*w, "and" | "or" | "due" | "for"))
            })
}

/// A clause that ends in "too" ("…and could you text me the March bill too?"): a
/// request added to another, not "too slow".
pub(super) fn adds_with_too(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.match_indices("too").any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + 3..].trim_start().chars().next();
        before.is_none_or(|c| !c.is_alphanumeric())
            && after.is_none_or(|c| matches!(c, '.' | '?' | '!' | ',' | ';'))
            && lower[..i].split_whitespace().count() >= 4
    })
}

/// A clause of figures and a word or two around them ("fifty-nine ninety-nine for five
/// hundred okay"): read back, no request. ("The one for sixty" names a plan: "one" is
/// no figure word here.)
pub(super) fn figures_read_back(clause: &str) -> bool {
    const AROUND: &[&str] = &[
        "for", "okay", "ok", "right", "so", "then", "and", "a", "an", "month", "per", "meg",
        "megs", "megabits", "dollars", "bucks", "gig", "that's", "thats", "is", "it",
    ];
    let ws = words(clause);
    let figure = |w: &String| w != "one" && crate::number_words::is_figure_word(w);
    ws.iter().any(figure) && ws.iter().all(|w| AROUND.contains(&w.as_str()) || figure(w))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_short_question_about_it_or_which_one_tells_more_of_the_request() {
        assert!(super::asks_about_it("how much is it and since when"));
        assert!(super::asks_about_it("when is that due"));
        assert!(super::asks_about_it("which one is fastest"));
        assert!(super::asks_about_it("which of them has the most speed"));
        assert!(!super::asks_about_it("how much is the pro plan"));
        assert!(!super::asks_about_it(
            "is it down in riverside right now or is it just me"
        ));
        assert!(!super::asks_about_it("can you text me my march bill"));
    }

    #[test]
    fn a_place_of_someone_elses_is_told_apart() {
        assert!(super::someone_elses(
            "and my mom's in austin she's with you guys too"
        ));
        assert!(!super::someone_elses("i'm in austin"));
    }

    #[test]
    fn a_request_ending_in_too_is_added_to_another() {
        assert!(super::adds_with_too(
            "Yes, go ahead, refund the extra one. And could you text she the March bill too?"
        ));
        assert!(super::adds_with_too(
            "Refund it, and send me the invoice too."
        ));
        assert!(!super::adds_with_too(
            "My internet is too slow to watch anything."
        ));
        assert!(!super::adds_with_too("Me too."));
    }
}
