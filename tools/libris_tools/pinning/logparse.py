"""PostgreSQL's stderr log, read back into entries and the statements a role ran.

The line format comes from the server's log_line_prefix (Debian's default is `%m [%p] %q%u@%d `), which must
contain %u. With log_statement = all, a simple-protocol query logs as
  2026-11-26 22:02:25.854 UTC [4103] libris_proxy@postgres LOG:  statement: select 1
and an extended-protocol execution (sqlx's named statements) as
  … libris_proxy@db LOG:  execute sqlx_s_1: SELECT …     (or `execute <unnamed>: …`)
A message that spans several lines continues on physical lines that start with a tab. Parse/bind lines appear
only with duration logging and carry no new statement; ERROR/STATEMENT entries repeat a statement already
logged. So exactly the `statement:` and `execute` entries are the statements counted and checked.
"""

import re
from dataclasses import dataclass, field

from ..log import Failure

ESCAPES = {
    "a": r"(?P<app>.*?)", "u": r"(?P<user>.*?)", "d": r"(?P<db>.*?)", "r": r"\S*?", "h": r"\S*?",
    "b": r".*?", "p": r"\d+", "P": r"\d*", "l": r"\d+", "x": r"\d+", "Q": r"-?\d+", "e": r"[0-9A-Z]{5}",
    "c": r"[0-9a-f]+\.[0-9a-f]+", "v": r"\S*?", "i": r".*?", "n": r"\d+\.\d+",
    "t": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+", "s": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+",
    "m": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+", "%": "%",
}
STATEMENT = re.compile(r"(?:statement|execute (?:fetch from )?(?P<name>[^:]*)): (?P<sql>.*)$", re.S)


def prefix_regex(prefix):
    """A regex for one log line under `log_line_prefix`, with groups user, db, level and msg."""
    parts, optional_from, i = [], None, 0
    while i < len(prefix):
        if prefix[i] != "%":
            parts.append(re.escape(prefix[i]))
            i += 1
            continue
        pad = re.match(r"-?\d*", prefix[i + 1:]).group()
        j = i + 1 + len(pad)
        if j >= len(prefix):
            break
        esc, i = prefix[j], j + 1
        if esc == "q":  # what follows is printed for session processes only
            optional_from = len(parts)
            continue
        tok = ESCAPES.get(esc, r".*?")
        parts.append(rf"\s*{tok}\s*" if pad else tok)
    if "(?P<user>" not in "".join(parts):
        raise Failure(f"log_line_prefix '{prefix}' has no %u: the log cannot tell which role ran a statement", 2)
    if optional_from is None:
        body = "".join(parts)
    else:
        body = "".join(parts[:optional_from]) + "(?:" + "".join(parts[optional_from:]) + ")?"
    return re.compile("^" + body + r"(?P<level>[A-Z]+[0-9]?):  (?P<msg>.*)$", re.S)


@dataclass
class Entry:
    """One log message: its first line's fields and every physical line it spans."""

    user: str
    db: str
    level: str
    lines: list = field(default_factory=list)
    first_msg: str = ""

    def message(self):
        return "\n".join([self.first_msg] + [line[1:] for line in self.lines[1:]])


def entries(data, rx):
    """The log entries in `data` (bytes); lines before the first recognisable one are skipped."""
    found, current = [], None
    for raw in data.split(b"\n"):
        line = raw.decode("utf-8", "replace")
        if line.startswith("\t"):
            if current is not None:
                current.lines.append(line)
            continue
        m = rx.match(line)
        if not m:
            current = None
            continue
        current = Entry(m.group("user"), m.groupdict().get("db"), m.group("level"), [line], m.group("msg"))
        found.append(current)
    return found


def statements(all_entries, role, only_db=""):
    """(entry, sql, prepared statement name or None) for each statement `role` ran (in `only_db`)."""
    for entry in all_entries:
        if entry.user != role or entry.level != "LOG" or (only_db and entry.db != only_db):
            continue
        m = STATEMENT.match(entry.message())
        if m:
            yield entry, m.group("sql"), m.group("name")
