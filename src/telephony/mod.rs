//! TODO: module telephony
