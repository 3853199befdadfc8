import struct

from libris_tools.pinning import wire


def test_a_message_is_its_type_then_its_length_including_itself():
    assert wire.message(b"Q", b"select 1\0") == b"Q" + struct.pack("!I", 13) + b"select 1\0"
    assert wire.message(b"S") == b"S\0\0\0\x04"


def test_the_startup_message_has_no_type_byte_and_ends_with_a_nul():
    msg = wire.startup([("user", "u"), ("database", "d")])
    (length, protocol) = struct.unpack("!II", msg[:8])
    assert length == len(msg) and protocol == 196608
    assert msg[8:] == b"user\0u\0database\0d\0\0"


def test_parse_bind_and_execute_frame_a_named_statement():
    assert wire.parse("sqlx_s_1", "SELECT 1") == wire.message(b"P", b"sqlx_s_1\0SELECT 1\0\0\0")
    assert wire.bind("sqlx_s_1") == wire.message(b"B", b"\0sqlx_s_1\0" + b"\0" * 6)
    assert wire.execute() == wire.message(b"E", b"\0\0\0\0\0")


def test_backend_messages_are_split_and_an_incomplete_one_kept_for_later():
    row = struct.pack("!Hi", 1, 2) + b"42"
    stream = wire.message(b"D", row) + wire.message(b"Z", b"I") + b"C\0\0"
    found, rest = wire.split_messages(stream)
    assert found == [(b"D", row), (b"Z", b"I")]
    assert rest == b"C\0\0"


def test_data_rows_and_errors_are_decoded():
    assert wire.first_column(struct.pack("!Hi", 1, 2) + b"42") == "42"
    assert wire.first_column(struct.pack("!Hi", 1, -1)) is None
    assert wire.first_column(struct.pack("!H", 0)) is None
    assert wire.error_text(b"SERROR\0C42601\0Msyntax error\0\0") == "ERROR: syntax error"
