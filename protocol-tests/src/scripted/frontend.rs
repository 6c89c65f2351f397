//! Dispatching a frontend message, as the codec's server side (`tusk::proto::server`) decoded
//! it, outside COPY to the code that handles it (see `extended`, `simple`); messages during a
//! COPY FROM STDIN go to `copy` instead. A message the codec refuses is answered as PostgreSQL
//! answers a malformed one: ErrorResponse 08P01, then (in the extended protocol) skipping to
//! the next Sync.

use tusk::proto::server::{backend, FrontendMessage, Target};
use tusk::proto::ProtoError;

use super::backend::Backend;
use super::sql::sql_error;

impl Backend {
    /// Handles one frontend message; returns whether its replies are sent now.
    pub(super) fn message(&mut self, message: Result<FrontendMessage, ProtoError>) -> bool {
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                self.error(sql_error("08P01", format!("invalid message format: {e}")));
                return true;
            }
        };
        match message {
            FrontendMessage::Parse(parse) => {
                self.parse(parse.name().to_string(), parse.sql().to_string());
            }
            FrontendMessage::Bind(bind) => self.bind(&bind),
            FrontendMessage::Describe(target) => self.describe(target),
            FrontendMessage::Execute(execute) => {
                self.execute(execute.portal.to_string(), execute.max_rows);
            }
            FrontendMessage::Close(target) => {
                // Closing what does not exist is not an error.
                match target {
                    Target::Statement(name) => {
                        self.statements.remove(name.as_str());
                        self.record_statements();
                    }
                    Target::Portal(name) => {
                        self.portals.remove(name.as_str());
                    }
                }
                backend::close_complete(&mut self.out);
            }
            FrontendMessage::Flush => return true,
            FrontendMessage::Sync => {
                // The unnamed portal and any other portal end with the implicit transaction.
                if self.status == b'I' {
                    self.portals.clear();
                }
                self.ready();
                return true;
            }
            FrontendMessage::Query(sql) => {
                self.simple_query(&sql);
                return true;
            }
            // Outside COPY these are ignored, as PostgreSQL does.
            FrontendMessage::CopyData(_)
            | FrontendMessage::CopyDone
            | FrontendMessage::CopyFail(_) => {}
            // Not spoken by this server (Terminate never gets here).
            other @ (FrontendMessage::FunctionCall(_)
            | FrontendMessage::AuthResponse(_)
            | FrontendMessage::Terminate) => {
                self.error(sql_error(
                    "08P01",
                    format!("invalid frontend message type {}", other.tag()),
                ));
                return true;
            }
        }
        false
    }
}
