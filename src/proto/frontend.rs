//! Encodes frontend messages. (Stub: being written.)
