//! TODO: module server
