//! Authentication exchanges and policies, as pure computations over bytes.
//!
//! This module owns the client side of every password-based method PostgreSQL asks for:
//!
//! - cleartext (`AuthenticationCleartextPassword`) needs nothing from here: the password is sent
//!   as it is in a PasswordMessage;
//! - MD5 (`AuthenticationMD5Password`): [`md5_password`] hashes the password with the user name
//!   and the server's 4-byte salt;
//! - SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (`AuthenticationSASL`): [`scram::ScramSha256`] is the
//!   state machine of the three-message exchange (RFC 5802 / RFC 7677), including SASLprep of
//!   the password (RFC 4013) applied the way PostgreSQL applies it, and channel binding to the
//!   TLS connection with `tls-server-end-point` (RFC 5929), chosen by a
//!   [`scram::ChannelBindingChoice`] (GS2 flag `n`, `y` or `p`). Its failures are a
//!   [`ScramError`] a caller can match on.
//!
//! It also owns the policies libpq 16 applies before answering a server: `require_auth`
//! ([`RequireAuth`] over [`AuthMethod`]s) and `channel_binding` ([`ChannelBinding`]), and the
//! [`AuthRefusal`] that says why a request was refused. The startup state machine
//! ([`Startup`](crate::proto::session::Startup)) applies them; this module only defines them.
//!
//! Nothing here reads a clock, draws random numbers or touches a socket: the SCRAM client nonce
//! is passed in (the IO layer draws 18 random bytes and turns them into a nonce with
//! [`scram::client_nonce_from_bytes`]), as is the channel binding data (the IO layer hashes the
//! server's certificate), so tests replay recorded exchanges byte for byte.

pub mod md5;
mod policy;
mod saslprep;
pub mod scram;
mod scram_channel_binding;
mod scram_error;
#[cfg(test)]
pub(crate) mod scram_test_server;

pub use self::md5::md5_password;
pub use self::policy::{AuthMethod, AuthRefusal, ChannelBinding, RequireAuth};
pub use self::scram::ScramError;
