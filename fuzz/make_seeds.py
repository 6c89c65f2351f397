#!/usr/bin/env python3
"""Writes the hand-made seeds of the scram_client fuzz
targets into fuzz/seeds/<target>/ (run: python3 fuzz/make_seeds.py [target ...]).

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


# Seeds named refused_* end before ReadyForQuery on purpose; every other scram_client seed
# completes the exchange (protocol-tests/tests/fuzz_seeds.rs checks both).
TARGETS = {
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
