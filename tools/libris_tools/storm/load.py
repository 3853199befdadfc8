"""The virtual users: each one a closed loop (the next request leaves when the last one is answered), so
the number of users is the number of invocations in flight, and so the concurrency Lambda scales to.

The mix is a library's day: catalogue reads (a page of books, one book), check-outs and returns. Each user
works on books of its own (book ids congruent to its index) and one borrower of its own, so users do not
conflict with each other; a 409 still happens when a 503'd check-out had in fact committed. Every
check-out and return that got a 2xx goes into the `Ledger`, checked against the database at the end.
"""

import base64
import copy
import json
import random
from dataclasses import dataclass, field

# (operation, weight)
MIX = (("list_books", 35), ("get_book", 35), ("check_out", 15), ("return", 15))
# A user keeps at most this many loans open (the library's limit is 5 per borrower).
MAX_OPEN = 3


@dataclass
class Ledger:
    """What the clients were told succeeded."""
    checked_out: set = field(default_factory=set)
    returned: set = field(default_factory=set)


@dataclass(frozen=True)
class Request:
    op: str
    method: str
    path: str
    query: dict
    body: dict | None = None
    loan: int | None = None  # the loan a return is for


class User:
    def __init__(self, index, users, books, borrowers, seed=7):
        self.rng = random.Random(seed * 100_003 + index)
        self.books = list(range(index + 1, books + 1, users)) or [index % books + 1]
        self.borrower = index % borrowers + 1
        self.open = {}  # loan id -> book id
        self.lent = set()  # book ids this user believes are on loan

    def next_request(self):
        op = self.rng.choices([name for name, _ in MIX], weights=[w for _, w in MIX])[0]
        free = [b for b in self.books if b not in self.lent]
        if op == "check_out" and (len(self.open) >= MAX_OPEN or not free):
            op = "return"
        if op == "return" and not self.open:
            op = "check_out" if free else "get_book"
        if op == "list_books":
            return Request(op, "GET", "/books", {"limit": "20"})
        if op == "get_book":
            return Request(op, "GET", f"/books/{self.rng.choice(self.books)}", {})
        if op == "check_out":
            return Request(op, "POST", "/loans", {}, {"book_id": self.rng.choice(free), "borrower_id": self.borrower})
        loan = self.rng.choice(sorted(self.open))
        return Request(op, "POST", f"/loans/{loan}/return", {}, loan=loan)

    def record(self, request, status, body, ledger):
        """Updates the user's view (and the ledger) from an answer."""
        if request.op == "check_out":
            if status == 201 and isinstance(body, dict):
                self.open[body["id"]] = body["book_id"]
                self.lent.add(body["book_id"])
                ledger.checked_out.add(body["id"])
            elif status == 409:
                # The book is on loan already: a check-out answered 503 had committed after all (its
                # loan is not ours to return). Leave that book alone.
                self.lent.add(request.body["book_id"])
        elif request.op == "return":
            if status == 200:
                ledger.returned.add(request.loan)
            if status in (200, 404, 409):
                # 404/409: a return answered 503 had committed; either way the loan is closed.
                self.lent.discard(self.open.pop(request.loan, None))


def event(template, request, token):
    """An API Gateway HTTP API (v2) event for `request`, signed with a librarian's access token."""
    method, path, query, body = request.method, request.path, request.query, request.body
    e = copy.deepcopy(template)
    e["rawPath"] = path
    e["requestContext"]["http"]["path"] = path
    e["requestContext"]["http"]["method"] = method
    e["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    e["queryStringParameters"] = dict(query)
    e["headers"] = {"accept": "application/json", "authorization": f"Bearer {token}",
                    "host": e["headers"].get("host", "api.example.com")}
    e.pop("cookies", None)
    if body is not None:
        e["headers"]["content-type"] = "application/json"
        e["body"] = json.dumps(body)
        e["isBase64Encoded"] = False
    else:
        e.pop("body", None)
    return e


def decode(answer):
    """The JSON body of a function's answer, or None."""
    if not isinstance(answer, dict) or not answer.get("body"):
        return None
    body = answer["body"]
    if answer.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    try:
        return json.loads(body)
    except ValueError:
        return None
