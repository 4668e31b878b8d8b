//! Callers in another language than English: a person is offered, and a second turn
//! in that language (or a yes) hands the call over; English in any accent is served.

use super::*;

const OFFER: &str = "only help in English";

#[tokio::test]
async fn a_turn_in_another_language_is_offered_a_person() {
    for foreign in [
        "Hola, buenos días. Mi internet no funciona desde ayer, ¿pueden ayudarme por favor?",
        "Guten Tag, mein Internet funktioniert seit gestern nicht mehr. Können Sie mir helfen?",
        "Namaste ji, mera internet kal se kaam nahi kar raha hai, koi madad karo",
    ] {
        let out = run(req("triage", vec![user(foreign)])).await;
        assert!(out.text.contains(OFFER), "{foreign}: {}", out.text);
        assert_eq!(out.call, None);
    }
}

#[tokio::test]
async fn english_in_any_accent_is_served() {
    for english in [
        "Oi mate, me internet's been proper knackered since yesterday, innit, can ya sort it",
        "Wah, the wifi damn jialat today leh, cannot load anything one, can check or not",
        "Talofa, hello. I'll own this one up front, I'm a landscaper and my internet is dead",
    ] {
        let out = run(req("triage", vec![user(english)])).await;
        assert!(!out.text.contains(OFFER), "{english}: {}", out.text);
    }
}

#[tokio::test]
async fn a_second_turn_in_that_language_or_a_yes_hands_over() {
    let first =
        "Hola, buenos días. Mi internet no funciona desde ayer, ¿pueden ayudarme por favor?";
    let offered = run(req("triage", vec![user(first)])).await.text;
    for answer in [
        "Por favor, quiero hablar con una persona que hable español, gracias",
        "Yes please",
    ] {
        let m = vec![user(first), said(&offered), user(answer)];
        let out = run(req("triage", m)).await;
        assert_eq!(
            out.call.as_ref().map(|(name, _)| name.as_str()),
            Some("transfer_to_human"),
            "{answer}: {}",
            out.text
        );
    }
}

#[tokio::test]
async fn help_in_another_language_asked_for_in_english_hands_over() {
    for asked in [
        "My da's over from Donegal, he wants to ask about the bill himself, but he only really has the Gaeilge. Is there anybody there could talk it through with him as Gaeilge?",
        "Is there someone who speaks Tagalog? My lola wants to ask about her internet.",
    ] {
        let out = run(req("triage", vec![user(asked)])).await;
        assert_eq!(
            out.call.as_ref().map(|(name, _)| name.as_str()),
            Some("transfer_to_human"),
            "{asked}: {}",
            out.text
        );
    }
    // A language named in passing asks for nobody.
    for passing in [
        "Since last week your app shows everything in French. I speak French, but my wife doesn't. Can you text me my March bill?",
        "My Polish neighbour says his internet is fine, but mine keeps dropping.",
        "My mum only speaks Polish but I'll translate. Can you tell me why her bill went up?",
        "We only watch Korean dramas and it keeps buffering every night.",
        "The app is in Spanish now, can anyone help?",
    ] {
        let out = run(req("triage", vec![user(passing)])).await;
        assert_ne!(
            out.call.as_ref().map(|(name, _)| name.as_str()),
            Some("transfer_to_human"),
            "{passing}: {}",
            out.text
        );
    }
}
