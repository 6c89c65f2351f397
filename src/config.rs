//! Connection settings. (Stub: being written.)
