//! The account's details in a caller's turn: a phone number that is not the calling
//! line's, a turn that gives only digits (keys pressed, a number with a word or two),
//! and the request a caller made around the details, read without them ("please move
//! us up to the five hundred one. His number is…"); and a caller acting for someone
//! else's account ("it's about a friend's account, not mine"), who wants it sent to
//! themselves or says it is this line after all.

use super::{confirm, Turn};
use crate::agents::embedded::slots;
use crate::agents::model::ChatMessage;

/// A turn that only gives digits: keys pressed, or a number with a word or two.
pub(super) fn details_only(text: &str) -> bool {
    text.starts_with("(The caller pressed")
        || confirm::words(text)
            .iter()
            .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
            .count()
            < 3
}

/// The request a caller made before the turns that only gave the account's details
/// (read without those details), when we arrive on such a turn: "please move us up to
/// the five hundred one. His number is…" → "[keypad 02101]" → verified at triage.
pub(super) fn request_before_details(t: &Turn) -> Option<String> {
    // A turn about the details, asking nothing ("Sorry, there's a one on the end.
    // Three oh three oh one.").
    let about_details = |text: &str| {
        details_only(text)
            || ((slots::zip(text).is_some()
                || slots::phone(text).is_some()
                || slots::digit_runs(text).concat().len() >= 3
                || mentions_details(text))
                && !text.contains('?')
                && !confirm::makes_request(text))
    };
    if !about_details(t.user_text) {
        return None;
    }
    t.req.messages[..t.user_idx]
        .iter()
        .rev()
        .find_map(|m| match m {
            ChatMessage::User { content } if content.starts_with('(') => None,
            ChatMessage::User { content } => without_account_details(content)
                .or_else(|| (!about_details(content)).then(|| content.clone())),
            _ => None,
        })
}

/// Words that talk about the account's details ("the zip code, I'll type it").
fn mentions_details(text: &str) -> bool {
    confirm::words(text).iter().any(|w| {
        matches!(
            w.as_str(),
            "zip" | "postcode" | "keypad" | "keys" | "type" | "punch"
        )
    })
}

/// `text` without the sentences that give an account's number or ZIP, when enough is
/// left to hold a request of its own.
pub(super) fn without_account_details(text: &str) -> Option<String> {
    // (Talk about the details — "The zip code, wait, I will type it" — goes with them.)
    let kept: String = text
        .split_inclusive(['.', '?', '!'])
        .filter(|s| slots::phone(s).is_none() && slots::zip(s).is_none() && !mentions_details(s))
        .collect();
    // (Asked for someone else too: "…and she wants her March bill sent to me".)
    let asks = kept.contains('?')
        || confirm::makes_request(&kept)
        || confirm::words(&kept)
            .iter()
            .any(|w| matches!(w.as_str(), "please" | "wants" | "needs"));
    (asks && confirm::words(&kept).len() >= 6).then(|| kept.trim().to_string())
}

/// A phone number in `text` that is not the one the caller is calling from.
pub(super) fn account_number(t: &Turn, text: &str) -> Option<String> {
    let normal = crate::store::customers::normalize_phone;
    let calling = super::args::caller_phone(&t.req.messages).map(|p| normal(&p));
    slots::phone(text)
        .filter(|p| Some(normal(p)) != calling)
        .filter(|_| !slots::phone_is_destination(text))
}

/// People a caller may act for, in the possessive ("my friend's account").
const RELATIONS: &[&str] = &[
    "friend's",
    "mother's",
    "mum's",
    "mom's",
    "father's",
    "dad's",
    "husband's",
    "wife's",
    "partner's",
    "son's",
    "daughter's",
    "sister's",
    "brother's",
    "neighbour's",
    "neighbor's",
    "aunt's",
    "uncle's",
    "grandmother's",
    "grandma's",
    "gran's",
    "nan's",
    "grandfather's",
    "grandad's",
    "grandpa's",
    "cousin's",
    "niece's",
    "nephew's",
    "boss's",
    "client's",
    "tenant's",
    "landlord's",
    "landlady's",
    "flatmate's",
    "roommate's",
];

/// People a caller may act for ("I'm ringing for my mum").
pub(super) const PEOPLE: &[&str] = &[
    "friend",
    "mother",
    "mum",
    "mom",
    "father",
    "dad",
    "husband",
    "wife",
    "partner",
    "son",
    "daughter",
    "sister",
    "brother",
    "neighbour",
    "neighbor",
    "aunt",
    "uncle",
    "grandmother",
    "grandma",
    "gran",
    "nan",
    "grandfather",
    "grandad",
    "grandpa",
    "cousin",
    "niece",
    "nephew",
    "boss",
    "client",
    "tenant",
    "landlord",
    "landlady",
    "flatmate",
    "roommate",
    "parents",
    "grandparents",
    "elderly",
];

/// The caller calls about someone else's account, not the calling line's: "it's about
/// a friend's account, not mine", "my mother's bill", "on her behalf". A relation's
/// account or bill, or acting on someone's behalf; not when the caller says it is the
/// account on this line ("my husband's account, it's this number").
pub(super) fn about_another_account(text: &str) -> bool {
    let ws = confirm::words(text);
    let said = confirm::spaced_words(&ws);
    if [
        " this number ",
        " this phone ",
        " this line ",
        " same number ",
        " this is her phone ",
        " this is his phone ",
        " this is their phone ",
        " it's her phone ",
        " it's his phone ",
        " on her phone ",
        " on his phone ",
        " from her phone ",
        " from his phone ",
    ]
    .iter()
    .any(|p| said.contains(p))
    {
        return false;
    }
    // "my mother's account", "a friend's internet bill" (not "my husband's got the
    // bill here": the noun right after, or after one word that says which).
    let noun = |w: &str| matches!(w, "account" | "bill" | "bills" | "invoice" | "invoices");
    let which = |w: &str| {
        matches!(
            w,
            "internet"
                | "phone"
                | "latest"
                | "last"
                | "old"
                | "monthly"
                | "own"
                | "march"
                | "february"
                | "january"
                | "april"
        )
    };
    let relation_owns = ws.iter().enumerate().any(|(i, w)| {
        RELATIONS.contains(&w.as_str())
            && (ws.get(i + 1).is_some_and(|n| noun(n))
                || (ws.get(i + 1).is_some_and(|n| which(n))
                    && ws.get(i + 2).is_some_and(|n| noun(n))))
    });
    // ("I'm ringing for my wife's mum", "calling for a friend"; not "calling for my
    // March bill".)
    let calling_for = ["calling", "ringing", "phoning", "call", "ring"]
        .iter()
        .any(|v| {
            said.contains(&format!(" {v} for a friend "))
                || said.match_indices(&format!(" {v} for my ")).any(|(i, m)| {
                    let next = said[i + m.len()..].split(' ').next().unwrap_or("");
                    next.ends_with("'s") || PEOPLE.contains(&next)
                })
        });
    relation_owns
        || calling_for
        || [
            " on her behalf ",
            " on his behalf ",
            " on their behalf ",
            " on behalf of ",
        ]
        .iter()
        .any(|p| said.contains(p))
        // ("It's about a friend's account, not mine" — an account, and not the caller's.)
        || (said.contains(" not mine ")
            && said.contains(" account ")
            && [" her ", " his ", " their ", " friend's ", " a friend "]
                .iter()
                .any(|p| said.contains(p)))
}

/// The caller, acting for someone else's account (a caller line says so), wants it
/// sent to themselves ("…sent to me at my email so I can print it for her"): not the
/// account's own phone or email.
pub(super) fn to_caller_for_another(t: &Turn) -> bool {
    let for_another = t.req.messages[..=t.user_idx]
        .iter()
        .any(|m| matches!(m, ChatMessage::User { content } if about_another_account(content)));
    for_another && confirm::says_any(t.user_text, TO_CALLER)
}

/// The caller named as where something goes (a send to them, not "explain it to me").
const TO_CALLER: &[&str] = &[
    "to me at my",
    "to me on my",
    "send it to me",
    "sent to me",
    "email it to me",
    "text it to me",
    "me at my",
    "to my email",
    "to my phone",
    "to my cell",
    "to my mobile",
    "my own email",
    "my own phone",
    "my email address",
    "to my inbox",
];

/// `text` (lower-case words) without the words that send it to the caller ("sent to me
/// at my email" → "sent by email"): what is asked, with the account's own destination.
pub(super) fn without_caller_destination(text: &str) -> String {
    let mut said = confirm::spaced(text);
    for p in TO_CALLER {
        said = said.replace(&format!(" {p} "), " by ");
    }
    said.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::about_another_account;

    #[test]
    fn a_call_about_someone_elses_account() {
        for t in [
            "Hi, it's about a friend's account, not mine. She wants her latest bill emailed to her.",
            "I'm ringing for my wife's mum, she's off walking the coast.",
            "I'm calling on behalf of my neighbour.",
            "Can you tell me when my mother's bill is due?",
        ] {
            assert!(about_another_account(t), "{t}");
        }
        for t in [
            "I'm calling for my grandmother. This is her phone, she's sitting right here.",
            "I'm calling about my own bill.",
            "My husband's account, it's this number.",
            "My wife says the internet is slow.",
            "I'm calling for my March bill.",
            "My husband's got the bill here, why is it seventy dollars?",
            "That charge is not mine, I never signed up for their add-on.",
        ] {
            assert!(!about_another_account(t), "{t}");
        }
    }
}

/// The caller says the account is the calling line's after all ("it's this number",
/// "same number"), or gives the calling number itself.
pub(super) fn says_own_line(t: &Turn, text: &str) -> bool {
    let normal = crate::store::customers::normalize_phone;
    let calling = super::args::caller_phone(&t.req.messages).map(|p| normal(&p));
    let own_number = slots::phone(text).is_some_and(|p| Some(normal(&p)) == calling);
    own_number
        || confirm::says_any(
            text,
            &[
                "this number",
                "this phone",
                "this line",
                "same number",
                "the number i'm calling from",
            ],
        )
}
