//! Table tests for speech normalisation.

use super::*;

#[test]
fn number_words() {
    let table: &[(u64, &str)] = &[
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (40, "forty"),
        (42, "forty-two"),
        (100, "one hundred"),
        (115, "one hundred fifteen"),
        (1_000, "one thousand"),
        (1_205, "one thousand two hundred five"),
        (20_020, "twenty thousand twenty"),
        (3_000_001, "three million one"),
    ];
    for (n, want) in table {
        assert_eq!(cardinal(*n), *want, "{n}");
    }
    let ords: &[(u64, &str)] = &[
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (5, "fifth"),
        (8, "eighth"),
        (9, "ninth"),
        (12, "twelfth"),
        (20, "twentieth"),
        (21, "twenty-first"),
        (30, "thirtieth"),
        (100, "one hundredth"),
        (103, "one hundred third"),
    ];
    for (n, want) in ords {
        assert_eq!(ordinal(*n), *want, "{n}");
    }
    assert_eq!(year(2024), "twenty twenty-four");
    assert_eq!(year(2005), "two thousand five");
    assert_eq!(year(1999), "nineteen ninety-nine");
    assert_eq!(year(1900), "nineteen hundred");
    assert_eq!(year(1905), "nineteen oh five");
    assert_eq!(year(2000), "two thousand");
}

#[test]
fn normalisation_table() {
    let table: &[(&str, &str)] = &[
        // money
        (
            "It costs $49.99.",
            "It costs forty-nine dollars and ninety-nine cents.",
        ),
        ("That's $5", "That's five dollars"),
        ("$1 fee", "one dollar fee"),
        ("$0.50", "fifty cents"),
        ("$1.01", "one dollar and one cent"),
        ("$5.00 exactly", "five dollars exactly"),
        (
            "$1,250.5",
            "one thousand two hundred fifty dollars and fifty cents",
        ),
        ("$2.5 million", "two point five million dollars"),
        ("$10k", "ten thousand dollars"),
        ("£3.20", "three pounds and twenty pence"),
        ("€15", "fifteen euros"),
        // percentages
        ("15% off", "fifteen percent off"),
        ("2.5 %", "two point five percent"),
        // dates
        ("March 12", "March twelfth"),
        ("on March 12th", "on March twelfth"),
        ("Due Jan 3, 2025.", "Due January third, twenty twenty-five."),
        ("2024-03-12", "March twelfth, twenty twenty-four"),
        ("03/12/2024", "March twelfth, twenty twenty-four"),
        ("Sept. 1", "September first"),
        ("May 2", "May second"),
        // times
        ("at 10:30 AM", "at ten thirty A M"),
        ("at 9:05pm", "at nine oh five P M"),
        ("by 14:00", "by fourteen o'clock"),
        ("at 3 p.m. today", "at three P M today"),
        ("5pm", "five P M"),
        // phone numbers and digit strings
        (
            "Call (555) 123-4567.",
            "Call five five five, one two three, four five six seven.",
        ),
        (
            "Call 1-800-555-0199",
            "Call eight zero zero, five five five, zero one nine nine",
        ),
        (
            "+1 415 555 2671",
            "four one five, five five five, two six seven one",
        ),
        (
            "order 12345678",
            "order one two three four five six seven eight",
        ),
        ("ticket #4521", "ticket number four five two one"),
        ("No. 7", "number seven"),
        // ordinals, plain numbers, decimals, ranges, negatives
        ("the 3rd floor", "the third floor"),
        ("21st", "twenty-first"),
        ("1,500 points", "one thousand five hundred points"),
        ("version 2.5", "version two point five"),
        ("3-5 business days", "three to five business days"),
        ("It is -4 outside", "It is minus four outside"),
        ("in 2019", "in twenty nineteen"),
        ("1500 points", "one thousand five hundred points"),
        // abbreviations and symbols
        ("Dr. Smith", "Doctor Smith"),
        ("Mr. and Mrs. Jones", "Mister and Missus Jones"),
        ("e.g. a router", "for example, a router"),
        ("i.e., now", "that is, now"),
        ("cables, etc. Then", "cables, et cetera. Then"),
        ("wait 10 mins", "wait ten minutes"),
        ("a 5 GB plan", "a five gigabytes plan"),
        ("R&D and Q & A", "R&D and Q and A"),
        ("open 24/7", "open twenty-four seven"),
        // emails and urls
        (
            "mail support@acme-corp.com",
            "mail support at acme-corp dot com",
        ),
        ("visit acme.com/help", "visit acme dot com slash help"),
        // untouched
        ("Hello, how can I help?", "Hello, how can I help?"),
    ];
    let mut failures = Vec::new();
    for (input, want) in table {
        let got = normalize(input);
        if got != *want {
            failures.push(format!("{input:?}\n   got  {got:?}\n   want {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn no_understood_digits_survive() {
    for s in [
        "Your balance is $1,234.56 as of 2024-01-31 at 9:00 AM.",
        "Ref 0012345, call 555-867-5309",
    ] {
        let out = normalize(s);
        assert!(!out.chars().any(|c| c.is_ascii_digit()), "{out}");
    }
}
