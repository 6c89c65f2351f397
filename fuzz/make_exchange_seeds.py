#!/usr/bin/env python3
"""Writes the hand-made seeds of the `exchange` fuzz target into seeds/exchange/.

Each seed is laid out as checks/exchange.rs reads it: a count of script ops, the ops (one byte
each: the low 5 bits choose the kind, the high 3 bits its argument; see `Op::from_byte`), a
count of chunk sizes, the chunk sizes, then the server's byte stream.

Run from anywhere: `python3 fuzz/make_exchange_seeds.py`. It rewrites every seed it makes and
leaves other files (e.g. `crash-*` / `found-*` inputs saved from the fuzzer) alone. Every seed not named
`refused_*` must run to the end of its stream with every message accepted and the exchange
idle at the end; protocol-tests/tests/fuzz_seeds.rs checks that.
"""

import os
import struct

# Script ops (the low 5 bits); `op(kind, arg)` puts the argument in the high 3 bits.
QUERY_REFUSE = 0  # arg: SQL index (7: contains NUL)
QUERY_ALLOW = 1
PARSE = 2
DESCRIBE_STATEMENT = 3
DESCRIBE_PORTAL = 4
BIND = 5
EXECUTE = 6  # arg: max_rows (0: all); 7: a bad portal name
CLOSE_STATEMENT = 7
CLOSE_PORTAL = 8
SYNC = 9
SYNC_IF_OPEN = 10
FLUSH = 11
COPY_DATA = 12  # arg * 3 bytes
COPY_DATA_HEADER = 13  # arg bytes
COPY_DONE = 14
COPY_FAIL = 15
WAIT_READY = 16
WAIT_MESSAGE = 17
PREPARE = 18  # Parse + Describe statement + (arg & 2: Sync, else Flush); arg & 1: named
EXTENDED = 19  # Parse + [arg & 1: Describe stmt] + Bind + [else Describe portal] + Execute(arg >> 1) + Sync
STREAM = 20  # Bind + Execute(arg + 1) + Execute(arg + 1) + Flush
CLOSE_SYNC = 21  # Close (arg & 1: portal, else statement) + Sync
PIPELINE = 22  # arg + 2 groups of Bind + Execute(0) + Sync
READY = 23  # CopyFail if a COPY FROM STDIN waits, then Sync if a group is open


def op(kind, arg=0):
    assert 0 <= kind < 32 and 0 <= arg < 8
    return kind | (arg << 5)


def msg(tag, body=b""):
    return tag + struct.pack(">i", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


# Backend messages.
PARSE_COMPLETE = msg(b"1")
BIND_COMPLETE = msg(b"2")
CLOSE_COMPLETE = msg(b"3")
NO_DATA = msg(b"n")
PORTAL_SUSPENDED = msg(b"s")
EMPTY_QUERY = msg(b"I")
COPY_DONE_MSG = msg(b"c")


def ready(status=b"I"):
    return msg(b"Z", status)


def parameter_description(*oids):
    return msg(b"t", struct.pack(">h", len(oids)) + b"".join(struct.pack(">I", o) for o in oids))


def row_description(*names):
    body = struct.pack(">h", len(names))
    for name in names:
        # table OID, column number, type OID (int4), type size, type modifier, format
        body += cstr(name) + struct.pack(">ihihih", 0, 0, 23, 4, -1, 0)
    return msg(b"T", body)


def data_row(*values):
    body = struct.pack(">h", len(values))
    for v in values:
        body += struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v
    return msg(b"D", body)


def command_complete(tag):
    return msg(b"C", cstr(tag))


def fields(severity, code, text):
    return b"S" + cstr(severity) + b"V" + cstr(severity) + b"C" + cstr(code) + b"M" + cstr(text) + b"\0"


def error(code="42P01", text='relation "t" does not exist'):
    return msg(b"E", fields("ERROR", code, text))


def notice(text="there is no transaction in progress"):
    return msg(b"N", fields("WARNING", "25P01", text))


def parameter_status(name, value):
    return msg(b"S", cstr(name) + cstr(value))


def notification(channel, payload):
    return msg(b"A", struct.pack(">i", 4242) + cstr(channel) + cstr(payload))


def copy_response(tag, columns):
    return msg(tag, struct.pack(">bh", 0, columns) + struct.pack(">h", 0) * columns)


def copy_data(data):
    return msg(b"d", data)


def seed(ops, server, chunks=()):
    assert len(ops) <= 32 and len(chunks) <= 8
    return bytes([len(ops)]) + bytes(ops) + bytes([len(chunks)]) + bytes(chunks) + server


SEEDS = {}

# Parse + Bind + Describe portal + Execute + Sync: the reply of an extended query with rows.
EXTENDED_REPLY = (
    PARSE_COMPLETE
    + BIND_COMPLETE
    + row_description("n")
    + data_row(b"1")
    + data_row(b"2")
    + command_complete("SELECT 2")
    + ready()
)
SEEDS["extended_query"] = seed([op(EXTENDED, 0)], EXTENDED_REPLY)

# COPY TO STDOUT run by an Execute: its data is let through.
SEEDS["copy_out_extended"] = seed(
    [op(EXTENDED, 0)],
    PARSE_COMPLETE
    + BIND_COMPLETE
    + NO_DATA
    + copy_response(b"H", 1)
    + copy_data(b"1\n")
    + COPY_DONE_MSG
    + command_complete("COPY 1")
    + ready(),
)

# Parse + Describe statement + Bind + Execute(max_rows 1) + Sync: stops at the row limit.
SEEDS["extended_suspended"] = seed(
    [op(EXTENDED, 3)],
    PARSE_COMPLETE
    + parameter_description(23)
    + row_description("n")
    + BIND_COMPLETE
    + data_row(b"1")
    + PORTAL_SUSPENDED
    + ready(b"T"),
)

# Parse + Describe statement + Flush, then the Sync once its replies are in (the group is open
# until then), then Close + Sync.
SEEDS["prepare_then_close"] = seed(
    [op(PREPARE, 1), op(WAIT_MESSAGE), op(WAIT_MESSAGE), op(WAIT_MESSAGE), op(SYNC_IF_OPEN),
     op(WAIT_READY), op(CLOSE_SYNC, 0)],
    PARSE_COMPLETE + parameter_description() + NO_DATA + ready() + CLOSE_COMPLETE + ready(),
)

# A simple query with rows, with asynchronous messages in between.
SEEDS["simple_query_rows"] = seed(
    [op(QUERY_REFUSE, 0)],
    row_description("a", "b")
    + data_row(b"1", None)
    + notice()
    + data_row(b"2", b"x")
    + parameter_status("TimeZone", "UTC")
    + command_complete("SELECT 2")
    + notification("jobs", "hello")
    + ready(),
)

# Two statements in one simple Query: an empty one and one that fails; then ReadyForQuery.
SEEDS["simple_query_error"] = seed(
    [op(QUERY_REFUSE, 4)],
    EMPTY_QUERY + error("22012", "division by zero") + ready(b"E"),
)

# An error in the middle of a group: after BindComplete, the server skips to the Sync.
SEEDS["error_mid_group"] = seed(
    [op(EXTENDED, 0)],
    PARSE_COMPLETE + BIND_COMPLETE + error("22012", "division by zero") + ready(),
)

# A batched stream (Bind + Execute + Execute + Flush, the group open) fails in its first batch:
# the rest of the group is discarded; the connection's ready() then writes the Sync.
SEEDS["error_open_group"] = seed(
    [op(STREAM, 1), op(WAIT_MESSAGE), op(WAIT_MESSAGE), op(WAIT_MESSAGE), op(READY)],
    BIND_COMPLETE + data_row(b"1") + error("22012", "division by zero") + ready(),
)

# COPY FROM STDIN in a simple query that does not allow it: the exchange writes CopyFail, the
# server reports the error and ends with ReadyForQuery.
SEEDS["copy_in_refused"] = seed(
    [op(QUERY_REFUSE, 1)],
    copy_response(b"G", 2)
    + error("57014", "COPY from stdin failed: COPY FROM STDIN cannot run here")
    + ready(),
)

# After an error in an open group the client writes one more Execute before the Sync: the
# server discards it unanswered, so only the Sync's ReadyForQuery is owed.
SEEDS["error_then_more_in_group"] = seed(
    [op(STREAM, 0), op(WAIT_MESSAGE), op(WAIT_MESSAGE), op(EXECUTE, 0), op(SYNC)],
    BIND_COMPLETE + error("22012", "division by zero") + ready(),
)

# A simple Query written while a group is open (what dropping a Transaction during a batched
# stream queues): the Query closes the group with Sync first, so the server answers the Sync,
# then the Query; ready() then has nothing to close.
SEEDS["query_in_open_group"] = seed(
    [op(STREAM, 0), op(QUERY_REFUSE, 6), op(READY)],
    BIND_COMPLETE
    + data_row(b"1")
    + PORTAL_SUSPENDED
    + data_row(b"2")
    + PORTAL_SUSPENDED
    + ready(b"T")
    + command_complete("ROLLBACK")
    + ready(),
)

# The same after the group failed: the Sync ends the server's skipping, so the Query still runs.
SEEDS["query_after_failed_open_group"] = seed(
    [op(STREAM, 0), op(WAIT_MESSAGE), op(WAIT_MESSAGE), op(QUERY_REFUSE, 6)],
    BIND_COMPLETE
    + error("22012", "division by zero")
    + ready(b"E")
    + command_complete("ROLLBACK")
    + ready(),
)

# What a connection does before a request when nothing is pending: sync_if_open writes nothing.
SEEDS["ready_when_idle"] = seed(
    [op(QUERY_REFUSE, 0), op(WAIT_READY), op(READY), op(QUERY_REFUSE, 3)],
    command_complete("SELECT 0") + ready() + EMPTY_QUERY + ready(),
)

# COPY FROM STDIN started by an Execute in an unsynced group: CopyFail and a Sync are written.
SEEDS["copy_in_refused_extended"] = seed(
    [op(PARSE, 0), op(BIND, 0), op(EXECUTE, 0), op(FLUSH)],
    PARSE_COMPLETE
    + BIND_COMPLETE
    + copy_response(b"G", 1)
    + error("57014", "COPY from stdin failed")
    + ready(),
)

# The same in a synced group (Parse + Bind + Describe + Execute + Sync): the server ignores the
# group's Sync in copy-in mode, so the exchange writes CopyFail and a new Sync, owing nothing
# more.
SEEDS["copy_in_refused_extended_synced"] = seed(
    [op(EXTENDED, 0)],
    PARSE_COMPLETE
    + BIND_COMPLETE
    + NO_DATA
    + copy_response(b"G", 1)
    + error("57014", "COPY from stdin failed")
    + ready(),
)

# COPY FROM STDIN allowed: once it waits, the client sends data, a header-written chunk and
# CopyDone; the server completes the COPY.
SEEDS["copy_in_allowed"] = seed(
    [op(QUERY_ALLOW, 1), op(WAIT_READY), op(COPY_DATA, 2), op(COPY_DATA_HEADER, 3), op(COPY_DONE)],
    copy_response(b"G", 1) + command_complete("COPY 2") + ready(),
)

# COPY TO STDOUT in a simple query (let through for the caller to discard).
SEEDS["copy_out"] = seed(
    [op(QUERY_REFUSE, 2)],
    copy_response(b"H", 2)
    + copy_data(b"1\tx\n")
    + copy_data(b"2\ty\n")
    + COPY_DONE_MSG
    + command_complete("COPY 2")
    + ready(),
)

# A pipeline of three Sync groups; the second fails.
SEEDS["pipeline_3_groups"] = seed(
    [op(PIPELINE, 1)],
    BIND_COMPLETE
    + data_row(b"1")
    + command_complete("SELECT 1")
    + ready(b"T")
    + BIND_COMPLETE
    + error("23505", "duplicate key value violates unique constraint")
    + ready(b"E")
    + BIND_COMPLETE
    + command_complete("SELECT 0")
    + ready(b"E"),
)

# The extended query's reply again, in chunks of 1, 2, 3 and 7 bytes: every message split.
SEEDS["split_messages"] = seed(
    [op(EXTENDED, 0)],
    EXTENDED_REPLY,
    chunks=[1, 2, 3, 7],
)

# The script runs again each time the exchange is idle: a simple query, then an extended one,
# three times over, the stream in 5-byte chunks.
SEEDS["restart_script"] = seed(
    [op(QUERY_REFUSE, 5), op(WAIT_READY), op(EXTENDED, 1)],
    (
        command_complete("BEGIN")
        + ready(b"T")
        + PARSE_COMPLETE
        + parameter_description()
        + row_description("n")
        + BIND_COMPLETE
        + data_row(b"7")
        + command_complete("SELECT 1")
        + ready(b"T")
    )
    * 3,
    chunks=[5],
)

# Requests that cannot be encoded write nothing and owe nothing: a NUL in the SQL, in a name,
# a failing parameter encoder, COPY data outside COPY; then a good query.
SEEDS["failed_requests"] = seed(
    [op(QUERY_REFUSE, 7), op(PARSE, 3), op(BIND, 5), op(EXECUTE, 7), op(COPY_DATA, 1),
     op(COPY_DONE), op(QUERY_REFUSE, 3)],
    EMPTY_QUERY + ready(),
)

# The server ends an idle session on its own with a FATAL error (nothing is owed).
SEEDS["fatal_while_idle"] = seed(
    [],
    parameter_status("application_name", "x")
    + msg(b"E", fields("FATAL", "57P01", "terminating connection due to administrator command")),
)

# A message nothing asked for ends the run (refused: the connection is broken).
SEEDS["refused_unexpected"] = seed([op(QUERY_REFUSE, 0)], BIND_COMPLETE + ready())

# COPY FROM STDIN in the first of two Sync groups written at once: the server would ignore the
# first Sync and merge the groups, so the exchange refuses to go on.
SEEDS["refused_copy_in_pipeline"] = seed(
    [op(PIPELINE, 0)], BIND_COMPLETE + copy_response(b"G", 1) + error() + ready()
)


def main():
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "exchange")
    os.makedirs(out_dir, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds written to {out_dir}")


if __name__ == "__main__":
    main()
