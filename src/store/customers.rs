//! Demo customer data for the agents' tools (see the agents issue).
