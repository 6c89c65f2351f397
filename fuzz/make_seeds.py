#!/usr/bin/env python3
"""Writes the seeds of the scram_client, config_parse, named_params, from_sql and
pgoutput_decode fuzz targets into fuzz/seeds/<target>/ (run: python3 fuzz/make_seeds.py [target ...]).

Each seed follows the input layout documented at the top of fuzz/checks/<target>.rs. The
directory of each target written is emptied first, except for files named found-* (inputs the
fuzzer found, kept as regressions).
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def chunk(data):
    """A length byte and the bytes."""
    if isinstance(data, str):
        data = data.encode()
    assert len(data) < 256, data
    return bytes([len(data)]) + data


def chunk16(data):
    """A 16-bit big-endian length and the bytes."""
    if isinstance(data, str):
        data = data.encode()
    return struct.pack(">H", len(data)) + data


# --- scram_client ----------------------------------------------------------------------------

DISABLE, PREFER, REQUIRE = 0, 1, 2
TLS = 4
ANY, SCRAM_ONLY, PASSWORD_ONLY, NOT_SCRAM = 0, 1 << 3, 2 << 3, 3 << 3
RAW_FIRST = 0x20
RIGHT, RIGHT_EXT, WRONG, RAW_FINAL = 0, 1 << 6, 2 << 6, 3 << 6
PLAIN, PLUS, LOWER = 0, 1, 2
NONCE = "fyko+d2lbbFgONRv9qkxdawL"


def scram(flags, password="pencil", nonce="", tls=None, mechs=(PLAIN,), first=None, final=b""):
    """flags, password, nonce, [tls data], mechanisms, server-first, server-final part."""
    out = bytes([flags]) + chunk(password) + chunk(nonce)
    if flags & TLS:
        out += chunk(tls if tls is not None else bytes(range(32)))
    out += bytes([len(mechs)])
    for m in mechs:
        out += bytes([m]) if isinstance(m, int) else bytes([3]) + chunk(m)
    if first is None:
        first = built_first()
    return out + first + final


def built_first(suffix="%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", salt=bytes(range(16)), selector=64,
                ext=b""):
    return chunk(suffix) + chunk(salt) + struct.pack(">H", selector) + chunk(ext)


def raw_first(text):
    return chunk16(text)


def special(index):
    """The selector of SPECIAL_COUNTS[index] in checks/scram_client.rs."""
    return 0xFF00 + index


SCRAM_SEEDS = {
    "plain_prefer_no_tls": scram(PREFER),
    "plain_disable": scram(DISABLE | ANY),
    "plain_require_auth_scram": scram(PREFER | SCRAM_ONLY),
    "plain_one_iteration": scram(PREFER, first=built_first(selector=1)),
    "plus_tls": scram(PREFER | TLS, mechs=(PLUS, PLAIN)),
    "plus_required": scram(REQUIRE | TLS, mechs=(PLAIN, PLUS)),
    "tls_plain_only_gs2_y": scram(PREFER | TLS, mechs=(PLAIN,)),
    "tls_disabled_gs2_n": scram(DISABLE | TLS, mechs=(PLUS, PLAIN)),
    "final_with_extension": scram(PREFER | RIGHT_EXT),
    "refused_final_wrong_bit": scram(PREFER | WRONG, final=b"\x2a"),
    "refused_final_server_error": scram(PREFER | RAW_FINAL, final=b"e=invalid-proof"),
    "refused_final_short_signature": scram(PREFER | RAW_FINAL, final=b"v=AAAA"),
    "first_extension": scram(PREFER, first=built_first(ext=b"x=42")),
    "first_raw_rfc_shape": scram(
        PREFER | RAW_FIRST,
        first=raw_first(f"r={NONCE}3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=16"),
        final=b"",
    ),
    "refused_first_raw_mandatory_extension": scram(
        PREFER | RAW_FIRST, first=raw_first(f"m=ext,r={NONCE}x,s=QSXCR+Q6sek8bf92,i=16")),
    "refused_first_raw_nonce_mismatch": scram(
        PREFER | RAW_FIRST, first=raw_first("r=someone-else,s=QSXCR+Q6sek8bf92,i=16")),
    "refused_first_raw_bad_salt": scram(
        PREFER | RAW_FIRST, first=raw_first(f"r={NONCE}x,s=QSXCR+Q6sek8bf9,i=16")),
    "refused_first_raw_not_utf8": scram(PREFER | RAW_FIRST, first=raw_first(b"r=\xff\xfe,s=AA==,i=1")),
    "refused_count_zero": scram(PREFER, first=built_first(selector=special(0))),
    "refused_count_above_limit": scram(PREFER, first=built_first(selector=special(2))),
    "refused_count_u32_max": scram(PREFER, first=built_first(selector=special(3))),
    "refused_count_huge": scram(PREFER, first=built_first(selector=special(5))),
    "refused_count_signed": scram(PREFER, first=built_first(selector=special(7))),
    "count_leading_zeros": scram(PREFER, first=built_first(selector=special(13))),
    "refused_require_auth_password": scram(PREFER | PASSWORD_ONLY),
    "refused_require_auth_not_scram": scram(PREFER | NOT_SCRAM),
    "refused_require_without_tls": scram(REQUIRE),
    "refused_require_not_offered": scram(REQUIRE | TLS, mechs=(PLAIN,)),
    "refused_plus_only_disabled": scram(DISABLE | TLS, mechs=(PLUS,)),
    "refused_unknown_mechanism": scram(PREFER, mechs=(b"OAUTHBEARER", LOWER)),
    "refused_no_mechanism": scram(PREFER, mechs=()),
    "refused_empty_binding_data": scram(PREFER | TLS, tls=b"", mechs=(PLUS,)),
    "refused_invalid_nonce": scram(PREFER, nonce="a,b"),
    "long_password": scram(PREFER, password="correct horse battery staple"),
}


# --- config_parse ----------------------------------------------------------------------------

KEYS = ["host", "hostaddr", "port", "dbname", "user", "password", "passfile", "require_auth",
        "channel_binding", "connect_timeout", "client_encoding", "options", "application_name",
        "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode",
        "sslnegotiation", "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode",
        "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
        "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib",
        "gssdelegation", "service", "target_session_attrs", "load_balance_hosts",
        "statement_cache_capacity", "statement_timeout"]


def conn_string(text):
    return b"\x00" + (text.encode() if isinstance(text, str) else text)


def url_parts(user, password, host, dbname, port, key, value):
    return (b"\x01" + chunk(user) + chunk(password) + chunk(host) + chunk(dbname)
            + struct.pack(">H", port) + bytes([KEYS.index(key)]) + chunk(value))


def pgpass(contents, host, dbname, user, port, password):
    return (b"\x02" + chunk16(contents) + chunk(host) + chunk(dbname) + chunk(user)
            + struct.pack(">H", port) + chunk(password))


def service_text(text, name):
    return b"\x03" + chunk16(text) + chunk(name)


def service_parts(name, entries):
    out = b"\x04" + chunk(name) + bytes([len(entries)])
    for key, value in entries:
        out += bytes([KEYS.index(key)]) + chunk(value)
    return out


CONFIG_SEEDS = {
    "url_full": conn_string("postgres://alice:s%40cret@db1:5433,db2:5434/shop?application_name=web"),
    "url_ipv6_and_socket": conn_string("postgresql://[::1]:5432,%2Fvar%2Frun%2Fpostgresql/db?sslmode=disable"),
    "url_query_only": conn_string("postgres:///db?host=/tmp&port=5433&connect_timeout=1&ssl=true"),
    "url_unencoded_at": conn_string("postgres://u:p@ss@h/d"),
    "url_utf8_parts": conn_string("postgres://%C3%BCser@h%C3%B4st/d%C3%A9b"),
    "url_invalid_utf8": conn_string("postgres://%FF@h/d"),
    "url_nul": conn_string("postgres://u@h/d%00"),
    "url_password_bytes": conn_string("postgres://u:%FF%FE@h/d?sslpassword=%80"),
    "kv_quoted": conn_string("host=/run/postgresql user=alice dbname='my shop' password='it\\'s'"),
    "kv_escapes": conn_string("options='-c search_path=a\\,b' application_name=x\\ y"),
    "kv_every_key": conn_string(
        "host=a,b hostaddr=127.0.0.1,::1 port=1,2 dbname=d user=u password=p passfile=/pf "
        "require_auth=!password,!md5 channel_binding=prefer connect_timeout=10 "
        "client_encoding=UTF8 options=-cx=1 application_name=app fallback_application_name=fb "
        "keepalives=1 keepalives_idle=5 keepalives_interval=6 keepalives_count=7 "
        "tcp_user_timeout=8000 replication=false gssencmode=disable sslmode=verify-full "
        "sslnegotiation=postgres sslcompression=0 sslcert=/c sslkey=/k sslpassword=sp "
        "sslcertmode=allow sslrootcert=system sslcrl=/crl sslcrldir=/crld sslsni=1 "
        "requirepeer=postgres ssl_min_protocol_version=TLSv1.2 "
        "ssl_max_protocol_version=TLSv1.3 krbsrvname=postgres gsslib=gssapi gssdelegation=0 "
        "service=svc target_session_attrs=any load_balance_hosts=random "
        "statement_cache_capacity=0 statement_timeout=1500"),
    "kv_require_auth_lists": conn_string("require_auth=scram-sha-256,md5 channel_binding=require"),
    "kv_empty_values": conn_string("host='' port= user='' sslrootcert=''"),
    "kv_errors": conn_string("host=a,,b"),
    "parts_plain": url_parts("alice", "secret", "db.example", "shop", 5433, "sslmode", "require"),
    "parts_socket_dir": url_parts("u", "", "/var/run/postgresql", "d", 0xFFFF, "application_name", "a p"),
    "parts_reserved_bytes": url_parts("u:@/?", "p:@/?#&=", "h,st", "d/b?", 1, "options", "-c a=b&c"),
    "parts_bad_utf8": url_parts(b"\xc3", b"\xff", "h", "d", 5432, "password", b"\xfe"),
    "parts_port_zero": url_parts("u", "p", "h", "d", 0, "port", "5432"),
    "pgpass_match": pgpass(b"# comment\nh:5432:db:u:pw\n*:*:*:*:fallback\n", "h", "db", "u", 5432, "x"),
    "pgpass_escapes": pgpass(b"h\\:x:*:db:u:p\\:w\\\\:rest\r\n", "h:x", "db", "u", 1, "y"),
    "pgpass_empty_password": pgpass(b"*:*:*:*:\n*:*:*:*:second\n", "h", "d", "u", 2, ""),
    "pgpass_short_lines": pgpass(b"h:5432:db\nh:5432:db:u\nh:5432:db:u:\\", "h", "db", "u", 5432, "z"),
    "service_text": service_text(
        "# c\n[a]\nhost=ha\n\n[svc]\n  # indented\n  host = hb  \nport=1\r\nport=2\n[c]\nx\n", "svc"),
    "service_text_errors": service_text("[s]\nhost=x\nservice=b\n", "s"),
    "service_text_ldap": service_text("[s]\nldap://server/x\n", "s"),
    "service_parts": service_parts("svc", [("host", "h1"), ("port", "5433"), ("host", "h2"),
                                           ("options", "-c x='y z' # kept")]),
    "service_parts_bad_value": service_parts("s", [("sslmode", "sometimes")]),
}


# --- from_sql --------------------------------------------------------------------------------

CITEXT, UNKNOWN_OID, BY_OID = 0, 1, 255
OIDS = {"bool": 16, "char": 18, "int2": 21, "int4": 23, "int8": 20, "oid": 26, "xid8": 5069,
        "float4": 700, "float8": 701, "numeric": 1700, "text": 25, "bytea": 17, "date": 1082,
        "time": 1083, "timetz": 1266, "timestamp": 1114, "timestamptz": 1184,
        "interval": 1186, "json": 114, "jsonb": 3802, "uuid": 2950, "inet": 869,
        "int4[]": 1007, "text[]": 1009, "numeric[]": 1231, "float8[]": 1022, "date[]": 1182,
        "uuid[]": 2951, "jsonb[]": 3807, "int2vector": 22, "bool[]": 1000, "inet[]": 1041,
        "int4range": 3904, "numrange": 3906, "tstzrange": 3910, "int4multirange": 4451,
        "cidr": 650, "macaddr": 829, "bit": 1560, "varbit": 1562, "money": 790, "point": 600,
        "box": 603, "path": 602, "polygon": 604, "circle": 718, "int4range[]": 3905,
        "tsvector[]": 3643, "xml[]": 143}


def value(sql_type, data, null=False):
    if isinstance(data, str):
        data = data.encode()
    head = bytes([BY_OID]) + struct.pack(">I", OIDS[sql_type]) if isinstance(sql_type, str) \
        else bytes([sql_type])
    return head + bytes([1 if null else 0]) + data


def numeric(ndigits_digits, weight, sign, dscale):
    return struct.pack(">HhHH", len(ndigits_digits), weight, sign, dscale) + b"".join(
        struct.pack(">h", d) for d in ndigits_digits)


def array(elem_oid, dims, elements, flags=None):
    has_null = any(e is None for e in elements)
    out = struct.pack(">iiI", len(dims), (1 if has_null else 0) if flags is None else flags,
                      elem_oid)
    for length, lower in dims:
        out += struct.pack(">ii", length, lower)
    for e in elements:
        out += struct.pack(">i", -1) if e is None else struct.pack(">i", len(e)) + e
    return out


i4 = lambda n: struct.pack(">i", n)
f8 = lambda x: struct.pack(">i", 8) + struct.pack(">d", x)

# The indexes of tusk::fuzzing::catalog_types in fuzz/checks/from_sql.rs's type list (its last
# eight entries), and the field types of its composite `item (text, posint, mood)`.
CATALOG = {name: 130 + i for i, name in enumerate(
    ["_mood", "_posint", "_item", "mood", "posint", "item", "floatrange", "floatmultirange"])}
RECORD_FIELDS = [25, 300_001, 300_000]


def record(field_oids, values):
    """A composite's binary form (record_send): the count, then each field's OID and value."""
    out = struct.pack(">i", len(field_oids))
    for oid, v in zip(field_oids, values):
        out += struct.pack(">I", oid)
        out += struct.pack(">i", -1) if v is None else struct.pack(">i", len(v)) + v
    return out

FROM_SQL_SEEDS = {
    # The binary forms of the later codecs, as the server sends them (scripts/gen-types.py
    # --vectors), and text-format arrays.
    "int4range": value("int4range", bytes.fromhex("020000000400000001000000040000000b")),
    "int4range_unbounded": value("int4range", bytes.fromhex("080000000400000005")),
    "int4range_array": value("int4range[]", array(3904, [(2, 1)], [bytes.fromhex("01"), None])),
    "numrange": value("numrange", bytes.fromhex(
        "040000000c0002000000000001000113880000000c000200000000000100021388")),
    "tstzrange": value("tstzrange", bytes.fromhex("10000000080000000000000000")),
    "int4multirange": value("int4multirange", bytes.fromhex(
        "00000002000000110200000004000000010000000400000003000000110200000004000000050000000400000007")),
    "inet_binary": value("inet", bytes.fromhex("02180004c0a80001")),
    "cidr": value("cidr", bytes.fromhex("0320011020010db8000000000000000000000000")),
    "macaddr": value("macaddr", bytes.fromhex("08002b010203")),
    "bit": value("bit", bytes.fromhex("00000004a0")),
    "varbit_padding": value("varbit", bytes.fromhex("00000003ff")),
    "money": value("money", bytes.fromhex("8000000000000000")),
    "point": value("point", bytes.fromhex("3ff0000000000000c004000000000000")),
    "box": value("box", bytes.fromhex("4000000000000000400800000000000000000000000000000000000000000000")),
    "path_closed": value("path", bytes.fromhex(
        "0100000002000000000000000000000000000000003ff00000000000003ff0000000000000")),
    "polygon_bad_count": value("polygon", bytes.fromhex("7fffffff")),
    "circle": value("circle", bytes.fromhex("3ff000000000000040000000000000004008000000000000")),
    "tsvector_text_array": value("tsvector[]", '{"\'it\'\'s\' \'x y\':1A","",NULL,a\,b}'),
    "xml_text_array_bounds": value("xml[]", '[0:1][2:2]={{"<a/>"},{" x "}}'),
    "bool": value("bool", b"\x01"),
    "bool_nonzero": value("bool", b"\x07"),
    "char": value("char", b"\xff"),
    "int2": value("int2", struct.pack(">h", -2)),
    "int4": value("int4", i4(-123456)),
    "int8": value("int8", struct.pack(">q", 2**62)),
    "oid": value("oid", struct.pack(">I", 4000000000)),
    "xid8": value("xid8", struct.pack(">Q", 2**63 + 5)),
    "float4_nan": value("float4", struct.pack(">f", float("nan"))),
    "float4_negative_zero": value("float4", struct.pack(">f", -0.0)),
    "float8_inf": value("float8", struct.pack(">d", float("inf"))),
    "numeric_scale": value("numeric", numeric([1234, 5600], 0, 0, 4)),
    "numeric_negative_fraction": value("numeric", numeric([12, 3400], -1, 0x4000, 8)),
    "numeric_nan": value("numeric", numeric([], 0, 0xC000, 0)),
    "numeric_infinity": value("numeric", numeric([], 0, 0xD000, 0x20)),
    "numeric_huge_weight": value("numeric", numeric([9], 32767, 0, 0)),
    "numeric_hidden_digits": value("numeric", numeric([1, 2345], 0, 0, 2)),
    "numeric_bad_count": value("numeric", struct.pack(">HhHH", 0xFFFF, 0, 0, 0) + b"\x00\x01"),
    "text": value("text", "héllo :) \u00e9"),
    "text_invalid_utf8": value("text", b"\xff\xfe"),
    "json": value("json", '{"a": [1, 2.5, null, "x"], "b": {"c": true}}'),
    "jsonb": value("jsonb", b'\x01[1, 2, 3]'),
    "jsonb_bad_version": value("jsonb", b'\x02{}'),
    "bytea": value("bytea", bytes(range(256))),
    "date": value("date", i4(-1)),
    "date_infinity": value("date", i4(2**31 - 1)),
    "time": value("time", struct.pack(">q", 86399999999)),
    "time_2400": value("time", struct.pack(">q", 86400000000)),
    "timetz": value("timetz", struct.pack(">qi", 3600000000, -19800)),
    "timestamp": value("timestamp", struct.pack(">q", 1234567890123456)),
    "timestamp_neg_infinity": value("timestamp", struct.pack(">q", -2**63)),
    "timestamp_out_of_pg_range": value("timestamp", struct.pack(">q", 2**62)),
    "timestamptz": value("timestamptz", struct.pack(">q", -1)),
    "interval": value("interval", struct.pack(">qii", -1, 2, -3)),
    "uuid": value("uuid", bytes(range(16))),
    "inet_text": value("inet", "192.168.0.1/32"),
    "citext": value(CITEXT, "Mixed Case"),
    "unknown_oid_text": value(UNKNOWN_OID, "some text"),
    "null_int4": value("int4", b"", null=True),
    "null_text_array": value("text[]", b"", null=True),
    "int4_array": value("int4[]", array(23, [(3, 1)], [i4(1), i4(2), None])),
    "int4_array_2d": value("int4[]", array(23, [(2, 0), (2, -5)], [i4(1), i4(2), i4(3), i4(4)])),
    "int4_array_empty": value("int4[]", array(23, [], [])),
    "int4_array_huge_dims": value("int4[]", array(23, [(2**30, 1), (2**30, 1)], [i4(1)])),
    "int4_array_wrong_element": value("int4[]", array(25, [(1, 1)], [b"x"])),
    "text_array": value("text[]", array(25, [(2, 1)], [b"a", "é,\"{}".encode()])),
    "numeric_array": value("numeric[]", array(1700, [(1, 1)], [numeric([5], 0, 0, 0)])),
    "float8_array": value("float8[]", array(701, [(1, 1)], [struct.pack(">d", -0.0)])),
    "date_array": value("date[]", array(1082, [(2, 1)], [i4(0), i4(2**31 - 1)])),
    "uuid_array": value("uuid[]", array(2950, [(1, 1)], [bytes(16)])),
    "jsonb_array": value("jsonb[]", array(3802, [(1, 1)], [b'\x01{"k": 1}'])),
    "bool_array_nulls": value("bool[]", array(16, [(2, 1)], [None, None])),
    "inet_array_text": value("inet[]", "{10.0.0.1,::1}"),
    "int2vector": value("int2vector", array(21, [(2, 0)], [b"\x00\x01", b"\x00\x02"])),
    # Types as read from the catalog (tusk::fuzzing::catalog_types; by index in the type list).
    "catalog_enum": value(CATALOG["mood"], "happy"),
    "catalog_enum_unknown_label": value(CATALOG["mood"], "meh"),
    "catalog_domain": value(CATALOG["posint"], i4(5)),
    "catalog_composite": value(CATALOG["item"], record(RECORD_FIELDS, [b"x y", i4(3), b"ok"])),
    "catalog_composite_nulls": value(CATALOG["item"], record(RECORD_FIELDS, [None, None, None])),
    "catalog_composite_changed": value(CATALOG["item"], record(RECORD_FIELDS + [25], [b"a", i4(1), b"ok", b"new"])),
    "catalog_composite_array": value(CATALOG["_item"], array(300_002, [(2, 1)], [
        record(RECORD_FIELDS, [b"a", i4(1), b"sad"]), None])),
    "catalog_enum_array": value(CATALOG["_mood"], array(300_000, [(2, 1)], [b"sad", None])),
    "catalog_domain_array": value(CATALOG["_posint"], array(300_001, [(2, 1)], [i4(1), i4(2)])),
    "catalog_range": value(CATALOG["floatrange"], b"\x02" + f8(1.5) + f8(2.5)),
    "catalog_multirange": value(CATALOG["floatmultirange"], i4(1) + struct.pack(">i", 25) + b"\x02" + f8(1.5) + f8(2.5)),
    "numeric_literal": value("text", "-0001.2500e-3"),
    "numeric_literal_special": value("text", " -Infinity "),
    "uuid_literal": value("text", "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"),
}


# --- named_params ----------------------------------------------------------------------------

def raw_sql(text):
    return b"\x00" + text.encode()


def tokens(*parts):
    """Structured SQL: kind bytes, each followed by what that kind reads (see the check)."""
    out = b"\x01"
    for part in parts:
        out += part if isinstance(part, bytes) else bytes([part])
    return out


def tok(kind, *args):
    out = bytes([kind])
    for a in args:
        out += chunk(a) if isinstance(a, (str, bytes)) else bytes([a])
    return out


NAMED_SEEDS = {
    "raw_plain": raw_sql("SELECT a FROM t WHERE b = 'x'"),
    "raw_placeholders": raw_sql("SELECT :b, :a, :b FROM t WHERE c = :a::int8"),
    "raw_casts_and_slices": raw_sql("SELECT a::text, arr[1:2], arr[lo:hi], arr[:lo : :hi], f(x := :y)"),
    "raw_literals": raw_sql("SELECT ':a', \":b\", E'\\':c', $$ :d $$, $t$ :e $t$ -- :f\n, :g"),
    "raw_nested_comment": raw_sql("/* a /* :b */ :c */ SELECT :d"),
    "raw_positional": raw_sql("SELECT $1, :a"),
    "raw_escape_continuation": raw_sql("SELECT E'a\\'' \n ':b', :c"),
    "raw_non_ascii": raw_sql("SELECT :ünï, :é1 FROM \"tâble\""),
    "raw_unterminated": raw_sql("SELECT ':a"),
    "raw_psql_vars": raw_sql("SELECT :'v', :\"w\", a$1, :x"),
    "built_words_and_names": tokens(tok(0, "SELECT"), tok(1, 0), tok(0, ","), tok(1, 1), tok(2, 0)),
    "built_literals": tokens(tok(3, "it's :a $1"), tok(4, 'col"umn :b'), tok(1, 2)),
    "built_comments": tokens(tok(5, " :a"), tok(6, " :b $1 "), tok(7, "x", ":c", "y"), tok(1, 3)),
    "built_dollar_quotes": tokens(tok(8, 0, "body :a $1"), tok(8, 1, "$x"), tok(8, 3, "ü"), tok(1, 6)),
    "built_escape_strings": tokens(tok(9, "back\\slash 'q' :a"), tok(10, "x", "y :b"), tok(1, 4)),
    "built_prefixes_slices_casts": tokens(tok(11, 0), tok(11, 2), tok(12, 1), tok(13, 0), tok(13, 2),
                                          tok(14, 0), tok(14, 2), tok(1, 5)),
    "built_fixed_traps": tokens(tok(16, "q"), tok(17, "w"), tok(18, "v"), tok(19, "u"), tok(2, 7)),
    "built_positional": tokens(tok(1, 0), tok(15, 2)),
}

# --- pgoutput_decode -------------------------------------------------------------------------
# A version byte, then each message as a 16-bit length and its bytes. The real messages come
# from the captures in src/proto/replication/pgoutput/testdata/ (PostgreSQL 15 and 18.6; see
# capture.sh there); long runs of Inserts are cut to their first three.

PGOUTPUT_DATA = os.path.join(HERE, "..", "src", "proto", "replication", "pgoutput", "testdata")


def pgoutput(version, messages):
    return bytes([version]) + b"".join(chunk16(m) for m in messages)


def captured(name):
    """The messages of a capture file, runs of more than three Inserts cut to three."""
    out, run = [], 0
    with open(os.path.join(PGOUTPUT_DATA, name)) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            m = bytes.fromhex(line)
            run = run + 1 if m[:1] == b"I" else 0
            if run <= 3:
                out.append(m)
    return out


PGOUTPUT_SEEDS = {
    f"real_{name[:-4]}": pgoutput(version, captured(name))
    for name, version in [
        ("basic_v1_text_pg18.hex", 1),
        ("basic_v1_binary_pg18.hex", 1),
        ("basic_v1_binary_pg15.hex", 1),
        ("stream_v2_pg15.hex", 2),
        ("stream_v4_parallel_pg18.hex", 4),
        ("twophase_v3_pg18.hex", 3),
        ("twophase_v4_pg18.hex", 4),
        ("types_v1_binary_pg18.hex", 1),
        ("types_v1_text_pg15.hex", 1),
    ]
}
PGOUTPUT_SEEDS.update({
    "version_0_refused": pgoutput(0, [b"B" + bytes(20)]),
    "version_5_refused": pgoutput(5, [b"E"]),
    "stream_stop_without_start": pgoutput(2, [b"E", b"S\0\0\0\x07\x01", b"E", b"E"]),
    "stream_under_v1": pgoutput(1, [b"S\0\0\0\x07\x01"]),
    "two_phase_under_v2": pgoutput(2, [b"b" + bytes(28) + b"g\0"]),
    "insert_unknown_relation": pgoutput(1, [b"I\0\0\0\x05N\0\x01n"]),
    "huge_counts": pgoutput(1, [
        b"R\0\0\0\x01s\0t\0d\x7f\xff",
        b"I\0\0\0\x01N\x7f\xffnnn",
        b"T\x7f\xff\xff\xff\0\0\0\0\x01",
    ]),
    "abort_v4_both_forms": pgoutput(4, [
        b"S\0\0\0\x07\x01", b"E", b"A\0\0\0\x07\0\0\0\x08",
        b"A\0\0\0\x07\0\0\0\x08" + bytes(15) + b"\x01",
    ]),
})


# Seeds named refused_* end before ReadyForQuery on purpose; every other scram_client seed
# completes the exchange (protocol-tests/tests/fuzz_seeds.rs checks both).
TARGETS = {
    "config_parse": CONFIG_SEEDS,
    "from_sql": FROM_SQL_SEEDS,
    "named_params": NAMED_SEEDS,
    "pgoutput_decode": PGOUTPUT_SEEDS,
    "scram_client": SCRAM_SEEDS,
}


def write(target, seeds):
    directory = os.path.join(HERE, "seeds", target)
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if not name.startswith("found-"):
            os.remove(os.path.join(directory, name))
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seeds)} seeds")


def main():
    names = sys.argv[1:] or list(TARGETS)
    for name in names:
        write(name, TARGETS[name])


if __name__ == "__main__":
    main()
