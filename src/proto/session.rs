//! The connection state machine. (Stub: being written.)
