"""Schemathesis hooks of schemathesis-check, loaded by file path through SCHEMATHESIS_HOOKS.

One hook: every request sent with an `Idempotency-Key` the spec calls valid gets a key of its own.

Why: Schemathesis draws each key from the header's pattern, independently per test case, and short keys
('0', '!') come up again and again with different bodies. Sending one key with two different requests is
exactly the misuse the Idempotency-Key draft answers with 422 (and the spec documents it), so each such
422 would be a correct answer counted as "valid data refused". A client that follows the draft makes a
fresh key per new request; this hook makes Schemathesis such a client. The key's shape stays what was
drawn (a prefix unique to this run is put in front, within the 255-character bound), so a key the spec
calls invalid is sent as drawn and must still be refused. Reuse itself (the replay, the 422, the 409 while
in flight) is tested in openapi/tests/api/idempotency.rs.
"""

import itertools
import re

import schemathesis

KEY = "Idempotency-Key"
MAX_KEY_CHARS = 255
_serial = itertools.count(1)


def declared_pattern(case):
    """The pattern the spec declares for the operation's Idempotency-Key, or None if it takes none."""
    parameter = case.operation.headers.get(KEY)
    if parameter is None:
        return None
    return re.compile(parameter.definition["schema"]["pattern"])


def fresh(key, serial):
    """`key` made unique by a serial prefix; still a valid key when `key` was one (the prefix is printable
    and not a space or quote, and the result is cut to the bound and its trailing spaces dropped)."""
    core = key.strip(" \t")
    return f"st{serial}-{core}"[:MAX_KEY_CHARS].rstrip(" \t")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    key = headers.get(KEY) if headers else None
    if not isinstance(key, str):
        return
    pattern = declared_pattern(case)
    if pattern is not None and pattern.search(key):
        headers[KEY] = fresh(key, next(_serial))
