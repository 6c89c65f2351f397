//! Splits complete backend messages off a read buffer. (Stub: being written.)
