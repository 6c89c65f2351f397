//! Decodes backend messages. (Stub: being written.)

/// The fields of an ErrorResponse or NoticeResponse. (Stub.)
#[derive(Debug, Clone)]
pub struct ErrorFields {
    body: bytes::Bytes,
}

impl ErrorFields {
    /// The `(code, value)` pairs. (Stub.)
    pub fn iter(&self) -> impl Iterator<Item = Result<(u8, &[u8]), crate::proto::ProtoError>> + '_ {
        let _ = &self.body;
        std::iter::empty()
    }
}
