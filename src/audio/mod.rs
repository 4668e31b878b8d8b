//! TODO: module audio
