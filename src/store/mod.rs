//! TODO: module store
