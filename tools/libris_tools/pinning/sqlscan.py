"""Which SQL pins a pooled session: each statement is reduced to its skeleton (literals, quoted identifiers,
dollar-quoted bodies and comments blanked) and its start matched against the session-level commands.

Pinning (each flagged with its reason): SQL-level SET (also SET LOCAL and SET TRANSACTION) and RESET,
set_config(), PREPARE, SQL EXECUTE, DEALLOCATE, DISCARD, LISTEN/UNLISTEN, LOAD, DECLARE … CURSOR,
CREATE TEMP/TEMPORARY and SELECT … INTO TEMP, pg_advisory_* / pg_try_advisory_* lock functions. A DO block's
body is checked too. nextval/setval are not flagged (identity columns use them). Keywords count only at the
start of a statement, so `UPDATE … SET` is fine.
"""

import re

MAX_STATEMENT_BYTES = 16384

TOKEN = re.compile(
    r"--[^\n]*|/\*|'[^']*(?:''[^']*)*'?|\"[^\"]*(?:\"\"[^\"]*)*\"?"
    r"|\$(?:[A-Za-z_\x80-\uffff][A-Za-z_0-9\x80-\uffff]*)?\$|\$"
)
ESCAPE_STRING = re.compile(r"'(?:[^'\\]|\\.|'')*'?", re.S)


def _block_comment_end(sql, pos):
    """The position after the block comment opened at `pos - 2`; block comments nest."""
    depth = 1
    while pos < len(sql) and depth:
        if sql.startswith("/*", pos):
            depth, pos = depth + 1, pos + 2
        elif sql.startswith("*/", pos):
            depth, pos = depth - 1, pos + 2
        else:
            pos += 1
    return pos


def skeleton(sql, bodies=None):
    """The SQL with comments, literals, quoted identifiers and dollar-quoted bodies blanked out. With a
    list for `bodies`, dollar-quoted bodies are collected there and leave a numbered placeholder."""
    out, pos, n = [], 0, len(sql)
    while True:
        m = TOKEN.search(sql, pos)
        if not m:
            out.append(sql[pos:])
            return "".join(out)
        start, tok = m.start(), m.group()
        out.append(sql[pos:start])
        prev = sql[start - 1] if start else ""
        if tok.startswith("--"):
            out.append(" ")
            pos = m.end()
        elif tok == "/*":
            pos = _block_comment_end(sql, start + 2)
            out.append(" ")
        elif tok[0] == "'":
            before = sql[start - 2] if start > 1 else ""
            if prev in ("e", "E") and not (before.isalnum() or before == "_"):  # E'…' has backslash escapes
                pos = ESCAPE_STRING.match(sql, start).end()
            else:
                pos = m.end()
            out.append("''")
        elif tok[0] == '"':
            out.append('"_"')
            pos = m.end()
        elif tok == "$" or prev.isalnum() or prev in ("_", "$"):  # $1 parameter, or a $ inside a name
            out.append("$")
            pos = start + 1
        else:  # $tag$ … $tag$
            end = sql.find(tok, m.end())
            body = sql[m.end():] if end < 0 else sql[m.end():end]
            pos = n if end < 0 else end + len(tok)
            if bodies is not None:
                bodies.append(body)
                out.append(f"''\x01{len(bodies) - 1}\x01")
            else:
                out.append("''")


START_RULES = [  # (regex on an upper-cased statement with collapsed whitespace, reason)
    (r"SET LOCAL\b", "SET LOCAL"),
    (r"SET TRANSACTION\b", "SET TRANSACTION"),
    (r"SET\b", "SET"),
    (r"RESET\b", "RESET"),
    (r"PREPARE\b", "PREPARE"),
    (r"EXECUTE\b", "EXECUTE (SQL)"),
    (r"DEALLOCATE\b", "DEALLOCATE"),
    (r"DISCARD\b", "DISCARD"),
    (r"LISTEN\b", "LISTEN"),
    (r"UNLISTEN\b", "UNLISTEN"),
    (r"LOAD\b", "LOAD"),
    (r"DECLARE\b", "DECLARE CURSOR"),
    (r"CREATE (OR REPLACE )?((GLOBAL|LOCAL) )?(TEMP|TEMPORARY)\b", "CREATE TEMP"),
    (r"(WITH|SELECT)\b.*\bINTO (TEMP|TEMPORARY)\b", "SELECT INTO TEMP"),
]
START_RULES = [(re.compile(r), why) for r, why in START_RULES]
# In a DO body (PL/pgSQL), EXECUTE is dynamic SQL and DECLARE opens a block: neither is SQL's.
DO_SKIP = {"EXECUTE (SQL)", "DECLARE CURSOR", "PREPARE"}
PLPGSQL_LEAD = re.compile(r"^(?:(?:BEGIN|THEN|ELSE|LOOP|DECLARE|END IF|END LOOP|EXCEPTION WHEN .*? THEN)\b\s*)+")
ANYWHERE_RULES = [
    (re.compile(r"\bPG_(TRY_)?ADVISORY_\w*\s*\("), "advisory lock function"),
    (re.compile(r"\bSET_CONFIG\s*\("), "set_config()"),
]


def pinning_reasons(sql, in_do=False):
    """Why `sql` (one or more statements) would pin a session: a list of reasons, empty when it is fine."""
    reasons, bodies = [], []
    skel = skeleton(sql, bodies)
    for stmt in skel.split(";"):
        s = " ".join(stmt.upper().split())
        if in_do:
            s = PLPGSQL_LEAD.sub("", s)
        if not s:
            continue
        for rx, why in START_RULES:
            if rx.match(s):
                if not (in_do and why in DO_SKIP):
                    reasons.append(why)
                break
        for rx, why in ANYWHERE_RULES:
            if rx.search(s):
                reasons.append(why)
        if s.startswith("DO "):
            for index in re.findall("\x01([0-9]+)\x01", stmt):
                reasons += pinning_reasons(bodies[int(index)], in_do=True)
    return reasons


def statement_reasons(sql):
    """`pinning_reasons` plus the size limit: RDS Proxy pins on a statement longer than 16384 bytes."""
    reasons = pinning_reasons(sql)
    size = len(sql.encode("utf-8"))
    if size > MAX_STATEMENT_BYTES:
        reasons.append(f"statement of {size} bytes > {MAX_STATEMENT_BYTES}")
    return reasons


# PgBouncer's own statements, not the application's: its parameter sync (sent when a client's startup
# parameters differ from the server connection's; RDS Proxy does the equivalent itself) and its health check
# (as pgbouncer.render_config configures it).
PARAM_SYNC = re.compile(
    r"(?:SET (?:client_encoding|DateStyle|TimeZone|standard_conforming_strings|application_name|IntervalStyle)"
    r"=(?:E?'(?:[^'\\]|''|\\.)*'|\"(?:[^\"]|\"\")*\"|[^;']*);)+",
    re.I | re.S,
)
HEALTH_CHECK = "select 1 /* pgbouncer server_check_query */"


def is_pgbouncer_sync(sql):
    return bool(PARAM_SYNC.fullmatch(sql.strip()))


def is_pgbouncer_health_check(sql):
    return sql.strip() == HEALTH_CHECK
