#!/usr/bin/env python3
"""Writes the seeds of the `frontend_decode` and `roundtrip` fuzz targets.

frontend_decode (seeds/frontend_decode/): the frontend messages and startup packets of
protocol-tests/tests/server_frontend_vectors.rs, each twice: `tb_<name>` is the tag followed by
the body (what the target's first check parses directly) and `conn_<name>` is a connection
carrying it (a StartupMessage first, unless the vector is a startup packet itself), read as a
server reads one; plus `conn_all` (an SSLRequest, the StartupMessage and every message) and the
two libpq captures of frontend_vectors.rs.

roundtrip (seeds/roundtrip/): scripts in the layout checks/roundtrip.rs reads: a split byte,
then ops with their fields. `op_NN` runs op NN alone with a few field bytes (both sides read the
same bytes, each with its own op table), `script_all` runs every op in turn, `nul_*` carry NUL
bytes in their text so the refusals are reached.

Run from anywhere: python3 fuzz/make_server_seeds.py
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(tag, body):
    return tag + struct.pack(">i", len(body) + 4) + body


def packet(body):
    return struct.pack(">i", len(body) + 4) + body


STARTUP = packet(b"\x00\x03\x00\x00user\x00alice\x00database\x00shop\x00\x00")

STARTUPS = {
    "startup": STARTUP,
    "startup_3_2": packet(b"\x00\x03\x00\x02user\x00bob\x00\x00"),
    "ssl_request": packet(b"\x04\xd2\x16\x2f"),
    "gssenc_request": packet(b"\x04\xd2\x16\x30"),
    "cancel_request": packet(b"\x04\xd2\x16\x2e\x00\x00\x12\x34\xde\xad\xbe\xef"),
    "cancel_request_3_2": packet(b"\x04\xd2\x16\x2e\x00\x00\x12\x34" + b"0123456789abcdef" * 2),
}

TAGGED = {
    "bind": frame(b"B", b"p1\0s1\0\x00\x02\x00\x00\x00\x01\x00\x03\x00\x00\x00\x0242"
                  b"\xff\xff\xff\xff\x00\x00\x00\x04\x00\x00\x00\x07\x00\x01\x00\x01"),
    "close_statement": frame(b"C", b"Ss1\0"),
    "close_portal": frame(b"C", b"P\0"),
    "copy_data": frame(b"d", b"1\ta\n"),
    "copy_done": frame(b"c", b""),
    "copy_fail": frame(b"f", b"oops\0"),
    "describe_statement": frame(b"D", b"Ss1\0"),
    "describe_portal": frame(b"D", b"P\0"),
    "execute": frame(b"E", b"p1\0\x00\x00\x00\x0a"),
    "execute_negative": frame(b"E", b"\0\xff\xff\xff\xff"),
    "flush": frame(b"H", b""),
    "function_call": frame(b"F", b"\x00\x00\x04\xd2\x00\x01\x00\x01\x00\x02\x00\x00\x00\x04"
                           b"\x00\x00\x00\x05\xff\xff\xff\xff\x00\x01"),
    "password_message": frame(b"p", b"secret\0"),
    "sasl_initial_response": frame(b"p", b"SCRAM-SHA-256\0\x00\x00\x00\x0bn,,n=,r=abc"),
    "sasl_initial_response_none": frame(b"p", b"SCRAM-SHA-256\0\xff\xff\xff\xff"),
    "sasl_response": frame(b"p", b"c=biws,r=abc,p=xyz"),
    "parse": frame(b"P", b"s1\0SELECT $1, $2\0\x00\x02\x00\x00\x00\x17\x00\x00\x00\x00"),
    "query": frame(b"Q", b"SELECT 1\0"),
    "sync": frame(b"S", b""),
    "terminate": frame(b"X", b""),
}

CAPTURES = {
    "pgbench_extended": packet(b"\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00"
                               b"application_name\x00pgbench\x00\x00")
    + frame(b"P", b"\x00SELECT $1::int4;\x00\x00\x00")
    + frame(b"B", b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x0242\x00\x01\x00\x00")
    + frame(b"D", b"P\x00")
    + frame(b"E", b"\x00\x00\x00\x00\x00")
    + frame(b"S", b"")
    + frame(b"X", b""),
    "psql_copy": packet(b"\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00"
                        b"application_name\x00tusk\x00\x00")
    + frame(b"p", b"secret\x00")
    + frame(b"Q", b"COPY t FROM STDIN\x00")
    + frame(b"d", b"1\tx\n2\ty\n")
    + frame(b"c", b"")
    + frame(b"X", b""),
}


def write(directory, name, data):
    path = os.path.join(HERE, "seeds", directory)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, name), "wb") as f:
        f.write(data)


def frontend_decode_seeds():
    for name, wire in STARTUPS.items():
        write("frontend_decode", "tb_" + name, wire[4:])  # the whole input as a packet body
        # After an SSLRequest or GSSENCRequest answered N, the StartupMessage follows.
        after = STARTUP if name.startswith(("ssl", "gssenc")) else b""
        write("frontend_decode", "conn_" + name, wire + after)
    for name, wire in TAGGED.items():
        write("frontend_decode", "tb_" + name, wire[:1] + wire[5:])
        write("frontend_decode", "conn_" + name, STARTUP + wire)
    write("frontend_decode", "conn_all",
          STARTUPS["ssl_request"] + STARTUP + b"".join(TAGGED.values()))
    for name, wire in CAPTURES.items():
        write("frontend_decode", "conn_" + name, wire)


def roundtrip_seeds():
    # A few field bytes after each op: counts of 2 or 3, short text, small integers.
    fields = b"\x02ab\x03xyz\x00\x00\x00\x05\x01\x02q\x00\x01\x02\x03\x04\x05\x06\x07"
    for op in range(33):
        write("roundtrip", "op_%02d" % op, bytes([128, op]) + fields)
    write("roundtrip", "script_all", bytes([77]) + b"".join(bytes([op]) + fields for op in range(33)))
    nul = b"\x03a\x00b\x02\x00c\x00\x00\x00\x00\x00\x00\x00\x00"
    for op in range(33):
        if op % 4 == 0:
            write("roundtrip", "nul_%02d" % op, bytes([200, op]) + nul)


if __name__ == "__main__":
    frontend_decode_seeds()
    roundtrip_seeds()
