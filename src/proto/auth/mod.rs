//! Authentication exchanges. (Stub: being written.)
