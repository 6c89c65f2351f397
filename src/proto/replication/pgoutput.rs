//! Decoding of the `pgoutput` logical decoding plugin's messages (protocol versions 1 to 4).
//! (Being written: see issue 13.)
