"""A user's lending scenario against a running Libris server, through the client that openapi-python-client
generates from openapi/openapi.json (package `libris_client`; `tools/run python-client-check` generates it
into a scratch folder, type-checks this file against it with mypy --strict, and runs it).

  PYTHONPATH=<folder holding libris_client> LIBRIS_URL=http://127.0.0.1:8080 \\
      LIBRIS_TOKEN=<librarian token> python scenario.py

Every step asserts on typed results (`assert_type` lines are checked by mypy, the rest at run time); the first
failure stops the run, and the process exits non-zero unless every step passed. The last line is
`python-client: N passed, N failed[, N skipped]`.
"""

import os
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar, assert_type

from libris_client import AuthenticatedClient
from libris_client.api.authors import create_author
from libris_client.api.books import create_book, get_book, update_book
from libris_client.api.borrowers import create_borrower
from libris_client.api.loans import check_out_book, return_loan
from libris_client.models import (
    Author,
    Book,
    BookPatch,
    Borrower,
    ConflictCode,
    Loan,
    NewAuthor,
    NewBook,
    NewBorrower,
    NewLoan,
    Problem,
)
from libris_client.types import Response, Unset

T = TypeVar("T")


class Failure(Exception):
    """A step's expectation that did not hold."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def eq(actual: object, expected: object, what: str) -> None:
    check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def media_type(response: Response[Any]) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


def expect_ok(response: Response[Any], status: int, kind: type[T], what: str) -> T:
    """The typed success body of a call that must answer `status`; anything else fails the step."""
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, kind):
        raise Failure(f"{what}: expected {status} with a {kind.__name__}, got {response.status_code} "
                      f"{response.content!r}")
    eq(media_type(response), "application/json", f"{what}: content-type")
    return parsed


def expect_problem(response: Response[Any], status: int, what: str) -> Problem:
    """The typed problem body (RFC 9457) of a call that must fail with `status`."""
    problem = response.parsed
    if response.status_code != status or not isinstance(problem, Problem):
        raise Failure(f"{what}: expected a {status} problem, got {response.status_code} {response.content!r}")
    eq(media_type(response), "application/problem+json", f"{what}: content-type")
    eq(problem.status, status, f"{what}: problem.status")
    for field, value in (("type", problem.type_), ("title", problem.title), ("detail", problem.detail)):
        check(bool(value), f"{what}: problem.{field} is empty")
    return problem


class State:
    """What the steps create, for the steps after them."""

    def __init__(self) -> None:
        self.suffix = f"{int(time.time()):x}{secrets.token_hex(4)}"
        self.book: Book | None = None
        self.borrowers: list[Borrower] = []
        self.loan: Loan | None = None

    def need_book(self) -> Book:
        if self.book is None:
            raise Failure("no book (an earlier step failed)")
        return self.book

    def need_loan(self) -> Loan:
        if self.loan is None:
            raise Failure("no loan (an earlier step failed)")
        return self.loan

    def need_borrower(self, index: int) -> Borrower:
        check(len(self.borrowers) > index, f"no borrower {index} (an earlier step failed)")
        return self.borrowers[index]


def create_author_and_book(client: AuthenticatedClient, state: State) -> None:
    name = f"Ada Python {state.suffix}"
    created = create_author.sync_detailed(client=client, body=NewAuthor(name=name))
    assert_type(created, Response[Author | Problem])
    author = expect_ok(created, 201, Author, "createAuthor")
    eq(author.name, name, "author.name")
    title = f"The Generated Client {state.suffix}"
    book = expect_ok(create_book.sync_detailed(client=client, body=NewBook(title=title, author_ids=[author.id])),
                     201, Book, "createBook")
    eq(book.title, title, "book.title")
    eq(book.available, True, "book.available")
    eq([a.id for a in book.authors], [author.id], "book.authors ids")
    state.book = book


def create_borrowers(client: AuthenticatedClient, state: State) -> None:
    for who in ("first", "second"):
        email = f"py-{who}-{state.suffix}@Example.org"
        created = create_borrower.sync_detailed(client=client, body=NewBorrower(name=f"Py {who}", email=email))
        borrower = expect_ok(created, 201, Borrower, "createBorrower")
        eq(borrower.email, email.lower(), "borrower.email (lower-cased)")
        state.borrowers.append(borrower)


def check_out_with_idempotency_key(client: AuthenticatedClient, state: State) -> None:
    book, first, second = state.need_book(), state.need_borrower(0), state.need_borrower(1)
    key = f"py-check-out-{state.suffix}"

    def check_out(borrower: Borrower) -> Response[Loan | Problem]:
        body = NewLoan(book_id=book.id, borrower_id=borrower.id)
        return check_out_book.sync_detailed(client=client, body=body, idempotency_key=key)

    original = check_out(first)
    loan = expect_ok(original, 201, Loan, "checkOutBook(key)")
    eq(loan.book_id, book.id, "loan.book_id")
    eq(loan.borrower_id, first.id, "loan.borrower_id")
    eq(loan.renewals, 0, "loan.renewals")
    check(isinstance(loan.returned_at, Unset) or loan.returned_at is None, "loan.returned_at is set")
    check(loan.due_at > loan.borrowed_at, "loan.due_at is not after borrowed_at")
    eq(original.headers.get("idempotent-replayed"), None, "first answer: Idempotent-Replayed")

    retried = check_out(first)
    again = expect_ok(retried, 201, Loan, "checkOutBook(key) retried")
    eq(retried.headers.get("idempotent-replayed"), "true", "retry: Idempotent-Replayed")
    eq((again.id, again.due_at), (loan.id, loan.due_at), "the retry answers the same loan")
    eq(retried.content, original.content, "the retry's body is the first answer's, byte for byte")

    reused = expect_problem(check_out(second), 422, "checkOutBook(the same key, another borrower)")
    eq(reused.type_, "/problems/idempotency-key-reused", "problem.type")
    state.loan = loan


def typed_conflict(client: AuthenticatedClient, state: State) -> None:
    book, second = state.need_book(), state.need_borrower(1)
    response = check_out_book.sync_detailed(client=client, body=NewLoan(book_id=book.id, borrower_id=second.id))
    problem = expect_problem(response, 409, "checkOutBook(a book on loan)")
    assert_type(problem.code, ConflictCode | Unset)
    eq(problem.code, ConflictCode.BOOK_ON_LOAN, "problem.code")
    on_loan = expect_ok(get_book.sync_detailed(book.id, client=client), 200, Book, "getBook while on loan")
    eq(on_loan.available, False, "book.available while on loan")


def conditional_edit(client: AuthenticatedClient, state: State) -> None:
    book = state.need_book()
    read = get_book.sync_detailed(book.id, client=client)
    expect_ok(read, 200, Book, "getBook")
    tag = read.headers.get("etag", "")
    check(len(tag) > 2 and tag.startswith('"') and tag.endswith('"'), f"ETag {tag!r} is not a strong tag")
    unchanged = get_book.sync_detailed(book.id, client=client, if_none_match=tag)
    eq(unchanged.status_code, 304, "getBook(If-None-Match): status")
    eq(unchanged.headers.get("etag"), tag, "getBook(If-None-Match): ETag")

    title = f"{book.title} (2nd ed.)"
    saved = update_book.sync_detailed(book.id, client=client, body=BookPatch(title=title), if_match=tag)
    assert_type(saved, Response[Book | Problem])
    edited = expect_ok(saved, 200, Book, "updateBook(If-Match)")
    eq(edited.title, title, "book.title after the edit")
    new_tag = saved.headers.get("etag", "")
    check(new_tag not in ("", tag), f"updateBook: ETag {new_tag!r} after {tag!r}")
    stale = update_book.sync_detailed(book.id, client=client, body=BookPatch(title=f"{title}!"), if_match=tag)
    expect_problem(stale, 412, "updateBook(a stale If-Match)")
    state.book = edited


def return_the_loan(client: AuthenticatedClient, state: State) -> None:
    book, loan = state.need_book(), state.need_loan()
    returned = expect_ok(return_loan.sync_detailed(loan.id, client=client), 200, Loan, "returnLoan")
    eq(returned.id, loan.id, "the returned loan keeps its id")
    eq(returned.returned_late, False, "loan.returned_late")
    check(not isinstance(returned.returned_at, Unset) and returned.returned_at is not None,
          "loan.returned_at is not set")
    again = expect_ok(get_book.sync_detailed(book.id, client=client), 200, Book, "getBook after the return")
    eq(again.available, True, "book.available after the return")


def typed_not_found(client: AuthenticatedClient, state: State) -> None:
    missing = 987_654_321
    response = get_book.sync_detailed(missing, client=client)
    problem = expect_problem(response, 404, "getBook(a missing id)")
    check(str(missing) in problem.detail, f"problem.detail {problem.detail!r} does not name the id")
    check(isinstance(problem.code, Unset), f"problem.code on a 404: {problem.code!r}")


STEPS: list[tuple[str, Callable[[AuthenticatedClient, State], None]]] = [
    ("createAuthor, then createBook crediting the author", create_author_and_book),
    ("createBorrower twice (unique emails)", create_borrowers),
    ("checkOutBook with an Idempotency-Key, retried: one loan, replayed; the key reused: 422", check_out_with_idempotency_key),
    ("checkOutBook of a book on loan: typed 409 problem, code book_on_loan", typed_conflict),
    ("getBook: ETag, If-None-Match 304; updateBook with If-Match 200, a stale tag 412", conditional_edit),
    ("returnLoan: 200, not late; the book is available again", return_the_loan),
    ("getBook with a missing id: typed 404 problem", typed_not_found),
]


def main() -> int:
    base_url, token = os.environ.get("LIBRIS_URL", "").rstrip("/"), os.environ.get("LIBRIS_TOKEN", "")
    if not base_url or not token:
        print("LIBRIS_URL (e.g. http://127.0.0.1:8080) and LIBRIS_TOKEN (a librarian's token) must be set",
              file=sys.stderr)
        return 2
    # Unexpected statuses raise instead of parsing to None, so a step never mistakes one for a typed answer.
    client = AuthenticatedClient(base_url=base_url, token=token, raise_on_unexpected_status=True)
    state, passed = State(), 0
    with client:
        for index, (name, run) in enumerate(STEPS):
            started = time.monotonic()
            try:
                run(client, state)
            except Exception as error:  # noqa: BLE001 - any failure ends the run with the step's name
                print(f"FAIL {name}\n     {type(error).__name__}: {error}")
                skipped = len(STEPS) - index - 1
                print(f"python-client: {passed} passed, 1 failed" + (f", {skipped} skipped" if skipped else ""))
                return 1
            passed += 1
            print(f"ok   {name} ({(time.monotonic() - started) * 1000:.0f} ms)")
    print(f"python-client: {passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
