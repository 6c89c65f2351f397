//! The per-connection statement cache: an LRU of prepared statements keyed by SQL text, so
//! a `&str` query skips the Parse round trip after the first time.

use std::collections::HashMap;

use crate::client::query::is_stale_plan;
use crate::client::statement::Statement;
use crate::error::Error;

/// The statement cache's hasher: a word-at-a-time multiply-rotate hash (FxHash's), several
/// times cheaper than the default SipHash on SQL text, which `query` hashes on every call.
/// SipHash's resistance to chosen collisions buys nothing here: the cache holds at most
/// `statement_cache_capacity` entries, so a chain of collisions stays that short, and the keys
/// are the application's own SQL.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BuildSqlHasher;

impl std::hash::BuildHasher for BuildSqlHasher {
    type Hasher = SqlHasher;
    fn build_hasher(&self) -> SqlHasher {
        SqlHasher(0)
    }
}

/// See [`BuildSqlHasher`].
#[derive(Debug)]
pub(crate) struct SqlHasher(u64);

impl SqlHasher {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::K);
    }
}

impl std::hash::Hasher for SqlHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.add(u64::from_le_bytes(w));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let mut w = [0u8; 8];
            w[..tail.len()].copy_from_slice(tail);
            self.add(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A per-connection LRU cache of prepared statements keyed by SQL text.
#[derive(Debug)]
pub(crate) struct StatementCache {
    capacity: usize,
    tick: u64,
    entries: HashMap<Box<str>, (Statement, u64), BuildSqlHasher>,
}

impl StatementCache {
    pub(crate) fn new(capacity: usize) -> StatementCache {
        StatementCache {
            capacity,
            tick: 0,
            entries: HashMap::default(),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn get(&mut self, sql: &str) -> Option<Statement> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(sql).map(|(stmt, used)| {
            *used = tick;
            stmt.clone()
        })
    }

    /// Inserts, evicting the least recently used entry when full. An evicted statement is
    /// closed on the server once no handle to it remains.
    pub(crate) fn insert(&mut self, sql: &str, stmt: Statement) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(key) = oldest {
                self.entries.remove(&key);
            }
        }
        self.tick += 1;
        self.entries.insert(sql.into(), (stmt, self.tick));
    }

    pub(crate) fn remove(&mut self, sql: &str) {
        self.entries.remove(sql);
    }

    /// Drops the entry for `stmt`'s SQL if it is `stmt`, after `err` if that is the server's
    /// "cached plan must not change result type": the next use of the SQL prepares afresh
    /// instead of failing the same way forever.
    pub(crate) fn forget_if_stale(&mut self, stmt: &Statement, err: &Error) {
        let cached = self.entries.get(stmt.sql());
        if is_stale_plan(err) && cached.is_some_and(|(c, _)| c.name() == stmt.name()) {
            self.entries.remove(stmt.sql());
        }
    }
}
