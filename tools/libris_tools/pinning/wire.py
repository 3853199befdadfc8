"""A few lines of PostgreSQL wire protocol, to run SQL the way sqlx does: startup parameters as sqlx sends
them (extra_float_digits included), then named prepared statements (Parse sqlx_s_N once, Bind/Execute it many
times, also across transactions, so PgBouncer must re-prepare it on other server connections).

The framing is pure functions (tested without a server); `SqlxLikeClient` puts them on a socket.
"""

import socket
import struct

PROTOCOL_3 = 196608


def cstr(text):
    return text.encode() + b"\0"


def message(kind, payload=b""):
    """A frontend message: its type byte, then its length (itself included) and the payload."""
    return kind + struct.pack("!I", len(payload) + 4) + payload


def startup(params):
    """The startup message: no type byte, protocol 3.0, then name/value C strings and a final NUL."""
    body = struct.pack("!I", PROTOCOL_3) + b"".join(cstr(k) + cstr(v) for k, v in params) + b"\0"
    return struct.pack("!I", len(body) + 4) + body


def parse(name, sql):
    return message(b"P", cstr(name) + cstr(sql) + struct.pack("!H", 0))


def describe_statement(name):
    return message(b"D", b"S" + cstr(name))


def bind(name):
    """Binds the unnamed portal to statement `name`: no parameters, text results."""
    return message(b"B", cstr("") + cstr(name) + struct.pack("!HHH", 0, 0, 0))


def execute():
    return message(b"E", cstr("") + struct.pack("!I", 0))


def split_messages(buffer):
    """(complete backend messages as (type byte, body), the incomplete rest) of `buffer`."""
    found, pos = [], 0
    while len(buffer) - pos >= 5:
        (length,) = struct.unpack("!I", buffer[pos + 1:pos + 5])
        if len(buffer) - pos < 1 + length:
            break
        found.append((buffer[pos:pos + 1], buffer[pos + 5:pos + 1 + length]))
        pos += 1 + length
    return found, buffer[pos:]


def first_column(data_row):
    """The first column of a DataRow body as text (None for NULL or no column)."""
    (count,) = struct.unpack("!H", data_row[:2])
    if not count:
        return None
    (size,) = struct.unpack("!i", data_row[2:6])
    return None if size < 0 else data_row[6:6 + size].decode()


def error_text(body):
    """`SEVERITY: message` of an ErrorResponse body."""
    fields = dict((f[:1], f[1:].decode()) for f in body.split(b"\0") if f)
    return f"{fields.get(b'S')}: {fields.get(b'M')}"


class ProtocolError(Exception):
    pass


class SqlxLikeClient:
    """One connection that talks like sqlx; `run(items)` with `Q:sql` (simple query) or `P:name:sql` (prepare
    the named statement on first use, then execute it) returns each result's first column."""

    def __init__(self, port, database, user="libris_proxy"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""
        params = [("user", user), ("database", database), ("DateStyle", "ISO, MDY"),
                  ("client_encoding", "UTF8"), ("TimeZone", "UTC"), ("extra_float_digits", "2")]
        self.sock.sendall(startup(params))
        self.until_ready()
        self.prepared = set()

    def _messages(self):
        while True:
            found, self.pending = split_messages(self.pending)
            yield from found
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ProtocolError("connection closed by the server")
            self.pending += chunk

    def until_ready(self):
        rows, error = [], None
        for kind, body in self._messages():
            if kind == b"E":
                error = error_text(body)
            elif kind == b"R" and struct.unpack("!I", body[:4])[0] != 0:
                raise ProtocolError("the server asks for a password")
            elif kind == b"D":
                rows.append(first_column(body))
            elif kind == b"Z":
                if error:
                    raise ProtocolError(error)
                return rows

    def run(self, items):
        results = []
        for item in items:
            if item.startswith("Q:"):
                self.sock.sendall(message(b"Q", cstr(item[2:])))
            else:
                _, name, sql = item.split(":", 2)
                if name not in self.prepared:  # sqlx: Parse + Describe + Sync once per statement and connection
                    self.sock.sendall(parse(name, sql) + describe_statement(name) + message(b"S"))
                    self.until_ready()
                    self.prepared.add(name)
                self.sock.sendall(bind(name) + execute() + message(b"S"))
            results += self.until_ready()
        return results

    def close(self):
        try:
            self.sock.sendall(message(b"X"))
        finally:
            self.sock.close()
