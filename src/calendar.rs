//! Month names, shared by the agents' spoken dates ("March 12") and the text
//! normalisation in front of TTS ("2026-03-12" → "March twelfth"), so the two never
//! disagree on a name.

/// English month names, January first (index = month number − 1).
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
