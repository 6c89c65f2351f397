#!/bin/sh
# Captures the pgoutput vectors of this directory from a real server: each scenario runs in
# one psql session on a temporary logical slot, then peeks the slot's changes with
# pg_logical_slot_peek_binary_changes (one row per pgoutput message, as the XLogData payload
# a START_REPLICATION stream would carry) and writes them as hex, one message per line.
#
#   capture.sh HOST PORT DB SUFFIX
#
# The committed files were made with PostgreSQL 18.6 (suffix pg18; a throwaway cluster with
# wal_level=logical and max_prepared_transactions=10) and PostgreSQL 15 (suffix pg15; the
# test server of scripts/test-server, wal_level=logical; no two-phase scenario, as its
# max_prepared_transactions is 0; no parallel streaming, which needs version 4). Every session
# sets synchronous_commit = on: peeking reads WAL up to the flushed position only, so a last
# transaction committed asynchronously would be missing. The tests in ../tests_server.rs and
# src/client/replication/changes_tests.rs assert the decoded fields.
set -eu
host=$1 port=$2 db=$3 suffix=$4
dir=$(dirname "$0")
export PGPASSWORD=${PGPASSWORD:-tusk}
psql_run() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U tusk "$db" "$@"; }

# peek OUTFILE SLOT OPTIONS...: the slot's messages as hex lines, after a header.
peek_sql() {
    out=$1 slot=$2 opts=$3
    printf "\\\\o %s\nSELECT '# ' || version();\nSELECT \$q\$# options: %s\$q\$;\n" "$out" "$opts"
    printf "SELECT encode(data, 'hex') FROM pg_logical_slot_peek_binary_changes('%s', NULL, NULL, %s);\n\\\\o\n" "$slot" "$opts"
}

# 1. Plain DML, TOAST, TRUNCATE, logical decoding messages, a user type, an origin.
{
cat <<'SQL'
SET client_min_messages = warning;
SET synchronous_commit = on;
DROP TABLE IF EXISTS po_basic, po_child, po_mood CASCADE;
DROP TYPE IF EXISTS po_feeling;
DROP PUBLICATION IF EXISTS po_pub;
SELECT pg_replication_origin_drop('po_origin') FROM pg_replication_origin WHERE roname = 'po_origin';
CREATE TABLE po_basic (id int4 PRIMARY KEY, name text, big text);
ALTER TABLE po_basic ALTER big SET STORAGE EXTERNAL;
CREATE TABLE po_child (id serial PRIMARY KEY, basic int4 REFERENCES po_basic);
CREATE TYPE po_feeling AS ENUM ('happy', 'sad');
CREATE TABLE po_mood (id int8 PRIMARY KEY, feeling po_feeling);
CREATE PUBLICATION po_pub FOR TABLE po_basic, po_child, po_mood;
SELECT 'slot' FROM pg_create_logical_replication_slot('po_basic_slot', 'pgoutput', true);
INSERT INTO po_basic VALUES (1, 'one', NULL), (2, NULL, repeat('x', 2100));
UPDATE po_basic SET name = 'uno' WHERE id = 1;
UPDATE po_basic SET name = 'two' WHERE id = 2;
UPDATE po_basic SET id = 3 WHERE id = 1;
DELETE FROM po_basic WHERE id = 3;
ALTER TABLE po_basic REPLICA IDENTITY FULL;
UPDATE po_basic SET name = 'deux' WHERE id = 2;
DELETE FROM po_basic WHERE id = 2;
BEGIN;
SELECT 'm' FROM pg_logical_emit_message(true, 'po_prefix', 'transactional');
INSERT INTO po_mood VALUES (1, 'happy');
COMMIT;
SELECT 'm' FROM pg_logical_emit_message(false, 'po_prefix', '\x00ff'::bytea);
INSERT INTO po_child (basic) VALUES (NULL);
TRUNCATE po_basic, po_child RESTART IDENTITY CASCADE;
SELECT 'o' FROM pg_replication_origin_create('po_origin');
SELECT 'o' FROM pg_replication_origin_session_setup('po_origin');
BEGIN;
SELECT 'o' FROM pg_replication_origin_xact_setup('1/2345678', '2026-01-02 03:04:05+00');
INSERT INTO po_mood VALUES (2, 'sad');
COMMIT;
SELECT 'o' FROM pg_replication_origin_session_reset();
SQL
peek_sql "$dir/basic_v1_text_$suffix.hex" po_basic_slot "'proto_version', '1', 'publication_names', 'po_pub', 'messages', 'true'"
peek_sql "$dir/basic_v1_binary_$suffix.hex" po_basic_slot "'proto_version', '1', 'publication_names', 'po_pub', 'messages', 'true', 'binary', 'true'"
cat <<'SQL'
SELECT 'o' FROM pg_replication_origin_drop('po_origin');
DROP PUBLICATION po_pub;
DROP TABLE po_basic, po_child, po_mood;
DROP TYPE po_feeling;
SQL
} | psql_run

# 2. Streaming of in-progress transactions (64kB logical_decoding_work_mem): a committed one
# with a subtransaction rolled back, and an aborted one.
{
cat <<'SQL'
SET client_min_messages = warning;
SET synchronous_commit = on;
DROP TABLE IF EXISTS po_stream;
DROP PUBLICATION IF EXISTS po_spub;
CREATE TABLE po_stream (id int4 PRIMARY KEY, pad text);
CREATE PUBLICATION po_spub FOR TABLE po_stream;
SELECT 'slot' FROM pg_create_logical_replication_slot('po_stream_slot', 'pgoutput', true);
BEGIN;
INSERT INTO po_stream SELECT i, repeat('p', 40) FROM generate_series(1, 400) i;
SAVEPOINT s;
INSERT INTO po_stream SELECT i, repeat('q', 40) FROM generate_series(401, 800) i;
ROLLBACK TO SAVEPOINT s;
SELECT 'm' FROM pg_logical_emit_message(true, 'po_stream', 'in a stream');
COMMIT;
BEGIN;
INSERT INTO po_stream SELECT i, repeat('r', 40) FROM generate_series(1001, 1400) i;
ROLLBACK;
SET logical_decoding_work_mem = '64kB';
SQL
peek_sql "$dir/stream_v2_$suffix.hex" po_stream_slot "'proto_version', '2', 'publication_names', 'po_spub', 'messages', 'true', 'streaming', 'on'"
if [ "$suffix" = pg18 ]; then
peek_sql "$dir/stream_v4_parallel_$suffix.hex" po_stream_slot "'proto_version', '4', 'publication_names', 'po_spub', 'messages', 'true', 'streaming', 'parallel'"
fi
cat <<'SQL'
DROP PUBLICATION po_spub;
DROP TABLE po_stream;
SQL
} | psql_run

# 4. One column of each type of tusk's type matrix, one row of literals (the same list as
# protocol-tests/tests/live_pgoutput.rs), in binary and in text.
{
cat <<'SQL'
SET client_min_messages = warning;
SET synchronous_commit = on;
DROP TABLE IF EXISTS po_types;
DROP PUBLICATION IF EXISTS po_tpub;
CREATE TABLE po_types (
  c_bool bool, c_char "char", c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid,
  c_float4 float4, c_float8 float8, c_numeric numeric, c_text text, c_varchar varchar(10),
  c_bpchar bpchar(4), c_name name, c_bytea bytea, c_date date, c_time time, c_timetz timetz,
  c_timestamp timestamp, c_timestamptz timestamptz, c_interval interval, c_json json,
  c_jsonb jsonb, c_uuid uuid, c_int4range int4range, c_numrange numrange,
  c_tstzrange tstzrange, c_int4multirange int4multirange, c_inet inet, c_cidr cidr,
  c_macaddr macaddr, c_macaddr8 macaddr8, c_bit bit(4), c_varbit varbit, c_money money,
  c_point point, c_lseg lseg, c_box box, c_path path, c_polygon polygon, c_circle circle,
  c_line line, c_int4_array int4[], c_text_array text[], c_tsvector tsvector,
  c_pg_lsn pg_lsn, c_xid8 xid8, c_null int4);
CREATE PUBLICATION po_tpub FOR TABLE po_types;
SELECT 'slot' FROM pg_create_logical_replication_slot('po_types_slot', 'pgoutput', true);
SET TimeZone = 'UTC';
SET lc_monetary = 'C';
INSERT INTO po_types VALUES (
  true, 'a', -32768, 2147483647, -9223372036854775808, 4294967295,
  1.5, -2.25, '12345.6789', 'héllo', 'vc',
  'ab', 'a_name', '\xdeadbeef', '2024-02-29', '12:34:56.789', '12:34:56+02',
  '2024-02-29 12:34:56.5', '2024-02-29 12:34:56.5+00', '1 year 2 mons 3 days 04:05:06',
  '{"a": [1, 2]}', '{"a": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '[1,10)',
  '(1.5,2.5]', '[2024-01-01 00:00+00,2024-01-02 00:00+00)', '{[1,3),[5,7)}',
  '192.168.1.5/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', B'1010',
  B'101', '12.34', '(1,2)', '[(1,2),(3,4)]', '((3,4),(1,2))', '[(1,2),(3,4)]',
  '((1,2),(3,4),(5,6))', '<(1,2),3>', '{1,2,3}', '{1,NULL,3}', '{a,"b c"}',
  'a cat', '16/B374D848', '12345', NULL);
SQL
peek_sql "$dir/types_v1_binary_$suffix.hex" po_types_slot "'proto_version', '1', 'publication_names', 'po_tpub', 'binary', 'true'"
peek_sql "$dir/types_v1_text_$suffix.hex" po_types_slot "'proto_version', '1', 'publication_names', 'po_tpub'"
cat <<'SQL'
DROP PUBLICATION po_tpub;
DROP TABLE po_types;
SQL
} | psql_run

[ "$suffix" = pg18 ] || exit 0

# 3. Two-phase commit: prepared and committed, prepared and rolled back, and a streamed
# transaction prepared (Stream Prepare) then committed.
{
cat <<'SQL'
SET client_min_messages = warning;
SET synchronous_commit = on;
DROP TABLE IF EXISTS po_2pc;
DROP PUBLICATION IF EXISTS po_2pub;
CREATE TABLE po_2pc (id int4 PRIMARY KEY, pad text);
CREATE PUBLICATION po_2pub FOR TABLE po_2pc;
SELECT 'slot' FROM pg_create_logical_replication_slot('po_2pc_slot', 'pgoutput', true, true);
BEGIN;
INSERT INTO po_2pc VALUES (1, 'prepared');
PREPARE TRANSACTION 'po_gid_1';
COMMIT PREPARED 'po_gid_1';
BEGIN;
INSERT INTO po_2pc VALUES (2, 'rolled back');
PREPARE TRANSACTION 'po_gid_2';
ROLLBACK PREPARED 'po_gid_2';
BEGIN;
INSERT INTO po_2pc SELECT i, repeat('s', 40) FROM generate_series(10, 410) i;
PREPARE TRANSACTION 'po_gid_3';
COMMIT PREPARED 'po_gid_3';
SET logical_decoding_work_mem = '64kB';
SQL
peek_sql "$dir/twophase_v3_$suffix.hex" po_2pc_slot "'proto_version', '3', 'publication_names', 'po_2pub', 'two_phase', 'true', 'streaming', 'on'"
peek_sql "$dir/twophase_v4_$suffix.hex" po_2pc_slot "'proto_version', '4', 'publication_names', 'po_2pub', 'two_phase', 'true', 'streaming', 'parallel'"
cat <<'SQL'
DROP PUBLICATION po_2pub;
DROP TABLE po_2pc;
SQL
} | psql_run
