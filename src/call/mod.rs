//! TODO: module call
