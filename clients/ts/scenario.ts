// A user's scenario against a running Libris server, through the client generated from
// openapi/openapi.json only (types by openapi-typescript, requests by openapi-fetch).
//
//   LIBRIS_URL=http://127.0.0.1:8080 LIBRIS_TOKEN=<librarian token> node dist/scenario.js
//
// Every step asserts on typed results; the first failure stops the run, and the process exits
// non-zero unless every step passed. The last line is `ts-client: N passed, N failed[, N skipped]`.

import { randomBytes } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/libris.js";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

// ---- compile-time checks: the client's result types are the spec's schemas -----------------

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

const baseUrl = process.env.LIBRIS_URL?.replace(/\/+$/, "");
if (!baseUrl) {
  console.error("LIBRIS_URL is not set (e.g. http://127.0.0.1:8080)");
  process.exit(2);
}

// A librarian's bearer token (in dev mode: GET /auth/dev-token?role=librarian).
const token = process.env.LIBRIS_TOKEN;
if (!token) {
  console.error("LIBRIS_TOKEN is not set (a librarian's bearer token)");
  process.exit(2);
}

const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

type GetBookResult = Awaited<ReturnType<typeof getBook>>;
function getBook(id: number) {
  return client.GET("/books/{id}", { params: { path: { id } } });
}
assertType<Equals<NonNullable<GetBookResult["data"]>, Schemas["Book"]>>();
assertType<Equals<NonNullable<GetBookResult["error"]>, Problem>>();
assertType<Equals<Problem["code"], Schemas["ConflictCode"] | undefined>>();

// ---- a tiny runner --------------------------------------------------------------------------

class Failure extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Failure(message);
}

function eq<T>(actual: T, expected: T, what: string): void {
  check(
    Object.is(actual, expected),
    `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
  );
}

/** The typed success body of a call that must answer `status`; anything else fails the step. */
function expectOk<D>(
  result: { data?: D; error?: unknown; response: Response },
  status: number,
  what: string,
): NonNullable<D> {
  const { data, error, response } = result;
  check(
    response.status === status && error === undefined && data !== undefined && data !== null,
    `${what}: expected ${status}, got ${response.status} ${JSON.stringify(error ?? data)}`,
  );
  const type = response.headers.get("content-type") ?? "";
  check(type.startsWith("application/json"), `${what}: content-type ${JSON.stringify(type)}`);
  return data;
}

/** The typed problem body of a call that must fail with `status`. */
function expectProblem<E extends Problem>(
  result: { data?: unknown; error?: E; response: Response },
  status: number,
  what: string,
): E {
  const { data, error, response } = result;
  check(
    response.status === status && data === undefined && error !== undefined,
    `${what}: expected ${status}, got ${response.status} ${JSON.stringify(data ?? error)}`,
  );
  const type = response.headers.get("content-type") ?? "";
  check(
    type.split(";")[0]?.trim() === "application/problem+json",
    `${what}: content-type ${JSON.stringify(type)}, expected application/problem+json`,
  );
  eq(error.status, status, `${what}: problem.status`);
  check(typeof error.type === "string" && error.type.length > 0, `${what}: problem.type is empty`);
  check(typeof error.title === "string" && error.title.length > 0, `${what}: problem.title is empty`);
  check(typeof error.detail === "string" && error.detail.length > 0, `${what}: problem.detail is empty`);
  return error;
}

const steps: Array<[string, () => Promise<void>]> = [];
function step(name: string, run: () => Promise<void>): void {
  steps.push([name, run]);
}

// ---- the scenario ---------------------------------------------------------------------------

const suffix = `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
const state: {
  authors: Schemas["Author"][];
  book?: Schemas["Book"];
  borrowers: Schemas["Borrower"][];
  loan?: Schemas["Loan"];
} = { authors: [], borrowers: [] };

/** A random, valid ISBN-13 (979 prefix), hyphenated as a person would type it. */
function randomIsbn13(): { typed: string; stored: string } {
  const digits = [9, 7, 9, ...Array.from(randomBytes(9), (b) => b % 10)];
  const sum = digits.reduce((acc, d, i) => acc + d * (i % 2 === 0 ? 1 : 3), 0);
  const stored = [...digits, (10 - (sum % 10)) % 10].join("");
  return { typed: `${stored.slice(0, 3)}-${stored.slice(3, 12)}-${stored.slice(12)}`, stored };
}

function need<T>(value: T | undefined, what: string): T {
  check(value !== undefined, `${what} is missing (an earlier step failed)`);
  return value;
}

step("createAuthor twice", async () => {
  for (const name of [`Ada Scenario ${suffix}`, `Bob Scenario ${suffix}`]) {
    const author = expectOk(await client.POST("/authors", { body: { name } }), 201, "createAuthor");
    eq(author.name, name, "author.name");
    check(Number.isInteger(author.id) && author.id > 0, `author.id ${author.id}`);
    state.authors.push(author);
  }
  check(state.authors[0]?.id !== state.authors[1]?.id, "the two authors share an id");
});

step("createBook crediting both authors", async () => {
  const authorIds = state.authors.map((a) => a.id);
  eq(authorIds.length, 2, "authors created");
  const title = `The Typed Client ${suffix}`;
  const isbn = randomIsbn13();
  const book = expectOk(
    await client.POST("/books", {
      body: { title, isbn: isbn.typed, published_date: "2026-11-01", author_ids: authorIds },
    }),
    201,
    "createBook",
  );
  eq(book.title, title, "book.title");
  eq(book.available, true, "book.available");
  eq(book.review_count, 0, "book.review_count");
  eq(book.average_rating ?? null, null, "book.average_rating");
  eq(book.isbn, isbn.stored, "book.isbn (stored as ISBN-13 digits)");
  eq(
    JSON.stringify(book.authors.map((a) => a.id).sort((x, y) => x - y)),
    JSON.stringify([...authorIds].sort((x, y) => x - y)),
    "book.authors ids",
  );
  state.book = book;
});

step("createBorrower twice (unique emails)", async () => {
  for (const who of ["first", "second"]) {
    const email = `ts-${who}-${suffix}@Example.org`;
    const borrower = expectOk(
      await client.POST("/borrowers", { body: { name: `TS ${who} ${suffix}`, email } }),
      201,
      "createBorrower",
    );
    eq(borrower.email, email.toLowerCase(), "borrower.email (lower-cased)");
    state.borrowers.push(borrower);
  }
});

step("checkOutBook to the first borrower: 201", async () => {
  const book = need(state.book, "book");
  const first = need(state.borrowers[0], "first borrower");
  const loan = expectOk(
    await client.POST("/loans", { body: { book_id: book.id, borrower_id: first.id } }),
    201,
    "checkOutBook",
  );
  eq(loan.book_id, book.id, "loan.book_id");
  eq(loan.borrower_id, first.id, "loan.borrower_id");
  eq(loan.overdue, false, "loan.overdue");
  eq(loan.renewals, 0, "loan.renewals");
  eq(loan.returned_at ?? null, null, "loan.returned_at");
  check(Date.parse(loan.due_at) > Date.parse(loan.borrowed_at), "loan.due_at is not after borrowed_at");
  state.loan = loan;

  const onLoan = expectOk(await getBook(book.id), 200, "getBook after checkout");
  eq(onLoan.available, false, "book.available while on loan");
  eq(onLoan.due_at, loan.due_at, "book.due_at is the loan's");
});

step("checkOutBook to the second borrower: 409 book_on_loan", async () => {
  const book = need(state.book, "book");
  const second = need(state.borrowers[1], "second borrower");
  const problem = expectProblem(
    await client.POST("/loans", { body: { book_id: book.id, borrower_id: second.id } }),
    409,
    "second checkOutBook",
  );
  eq(problem.code, "book_on_loan", "problem.code");
});

step("returnLoan: 200, not late", async () => {
  const loan = need(state.loan, "loan");
  const returned = expectOk(
    await client.POST("/loans/{id}/return", { params: { path: { id: loan.id } } }),
    200,
    "returnLoan",
  );
  eq(returned.id, loan.id, "returned loan keeps its id");
  eq(returned.returned_late, false, "loan.returned_late");
  check(typeof returned.returned_at === "string", "loan.returned_at is not set");
  eq(returned.overdue, false, "loan.overdue");
});

step("checkOutBook retried with one Idempotency-Key: one loan, the retry replayed", async () => {
  const book = need(state.book, "book");
  // The first borrower again: the second stays one who never borrowed the book.
  const first = need(state.borrowers[0], "first borrower");
  const second = need(state.borrowers[1], "second borrower");
  const key = `ts-check-out-${suffix}`;
  const checkOut = (borrowerId: number) =>
    client.POST("/loans", {
      params: { header: { "Idempotency-Key": key } },
      body: { book_id: book.id, borrower_id: borrowerId },
    });
  const original = await checkOut(first.id);
  const loan = expectOk(original, 201, "checkOutBook(key)");
  eq(original.response.headers.get("idempotent-replayed"), null, "first answer: Idempotent-Replayed");
  const retried = await checkOut(first.id);
  const again = expectOk(retried, 201, "checkOutBook(key) retried");
  eq(retried.response.headers.get("idempotent-replayed"), "true", "retry: Idempotent-Replayed");
  eq(again.id, loan.id, "the retry answers the same loan");
  eq(again.due_at, loan.due_at, "the retry answers the same due date");
  const reused = expectProblem(await checkOut(second.id), 422, "checkOutBook(key reused)");
  eq(reused.type, "/problems/idempotency-key-reused", "problem.type");

  const returnKey = `ts-return-${suffix}`;
  for (const attempt of ["returnLoan(key)", "returnLoan(key) retried"]) {
    const returned = expectOk(
      await client.POST("/loans/{id}/return", {
        params: { path: { id: loan.id }, header: { "Idempotency-Key": returnKey } },
      }),
      200,
      attempt,
    );
    eq(returned.id, loan.id, `${attempt}: loan id`);
  }
});

step("getBook: ETag, If-None-Match 304; updateBook with If-Match, a stale tag 412", async () => {
  const book = need(state.book, "book");
  const read = await getBook(book.id);
  expectOk(read, 200, "getBook");
  const tag = read.response.headers.get("etag") ?? "";
  check(/^"[^"]+"$/.test(tag), `ETag ${JSON.stringify(tag)} is not a strong tag`);
  const unchanged = await client.GET("/books/{id}", {
    params: { path: { id: book.id }, header: { "If-None-Match": tag } },
  });
  eq(unchanged.response.status, 304, "getBook(If-None-Match): status");
  eq(unchanged.response.headers.get("etag"), tag, "getBook(If-None-Match): ETag");

  const title = `${book.title} (2nd ed.)`;
  const patch = (ifMatch: string) =>
    client.PATCH("/books/{id}", {
      params: { path: { id: book.id }, header: { "If-Match": ifMatch } },
      body: { title },
    });
  const saved = await patch(tag);
  const edited = expectOk(saved, 200, "updateBook(If-Match)");
  eq(edited.title, title, "book.title after the edit");
  const newTag = saved.response.headers.get("etag") ?? "";
  check(newTag !== "" && newTag !== tag, `updateBook: ETag ${JSON.stringify(newTag)} after ${tag}`);
  expectProblem(await patch(tag), 412, "updateBook(stale If-Match)");
  state.book = edited;
});

step("createReview by the first borrower: 201", async () => {
  const book = need(state.book, "book");
  const first = need(state.borrowers[0], "first borrower");
  const comment = "Every response had a type.";
  const review = expectOk(
    await client.POST("/books/{id}/reviews", {
      params: { path: { id: book.id } },
      body: { borrower_id: first.id, rating: 5, comment },
    }),
    201,
    "createReview",
  );
  eq(review.book_id, book.id, "review.book_id");
  eq(review.borrower_id, first.id, "review.borrower_id");
  eq(review.rating, 5, "review.rating");
  eq(review.comment, comment, "review.comment");

  const reviewed = expectOk(await getBook(book.id), 200, "getBook after review");
  eq(reviewed.review_count, 1, "book.review_count");
  eq(reviewed.average_rating, 5, "book.average_rating");
  eq(reviewed.available, true, "book.available after return");
});

/** Follows `next_cursor` until it is null; checks page size and that no id repeats. */
async function collect<I extends { id: number }>(
  what: string,
  fetchPage: (cursor: string | undefined) => Promise<{ items: I[]; next_cursor?: string | null }>,
): Promise<I[]> {
  const seen = new Set<number>();
  const all: I[] = [];
  let cursor: string | undefined;
  for (let pages = 1; ; pages++) {
    check(pages <= 1000, `${what}: more than 1000 pages; the cursor does not advance`);
    const page = await fetchPage(cursor);
    check(page.items.length <= 3, `${what}: page ${pages} has ${page.items.length} items, limit was 3`);
    for (const item of page.items) {
      check(!seen.has(item.id), `${what}: id ${item.id} repeats on page ${pages}`);
      seen.add(item.id);
      all.push(item);
    }
    if (page.next_cursor === null || page.next_cursor === undefined) break;
    check(page.items.length > 0, `${what}: an empty page ${pages} still has a next_cursor`);
    cursor = page.next_cursor;
  }
  return all;
}

step("listBooks, limit=3, following next_cursor", async () => {
  const book = need(state.book, "book");
  const items = await collect("listBooks", async (cursor) =>
    expectOk(
      await client.GET("/books", { params: { query: { limit: 3, ...(cursor ? { cursor } : {}) } } }),
      200,
      "listBooks",
    ),
  );
  check(items.length >= 4, `listBooks: only ${items.length} books in all`);
  check(
    items.some((b) => b.id === book.id && b.title === book.title),
    `listBooks: the created book ${book.id} is not listed`,
  );
});

step("listAvailableBooks, limit=3, following next_cursor", async () => {
  const book = need(state.book, "book");
  const items = await collect("listAvailableBooks", async (cursor) =>
    expectOk(
      await client.GET("/books/available", {
        params: { query: { limit: 3, ...(cursor ? { cursor } : {}) } },
      }),
      200,
      "listAvailableBooks",
    ),
  );
  for (const item of items) eq(item.available, true, `listAvailableBooks: book ${item.id}.available`);
  check(items.some((b) => b.id === book.id), `listAvailableBooks: the returned book ${book.id} is missing`);
});

step("getBook with a missing id: typed 404 problem", async () => {
  const missing = 987_654_321;
  const problem = expectProblem(await getBook(missing), 404, "getBook(missing)");
  check(problem.detail.includes(String(missing)), `problem.detail ${JSON.stringify(problem.detail)}`);
  eq(problem.code, undefined, "problem.code on a 404");
});

// ---- run ------------------------------------------------------------------------------------

const watchdog = setTimeout(() => {
  console.error("ts-client: timed out after 120 s");
  process.exit(1);
}, 120_000);
watchdog.unref();

let passed = 0;
let failed = 0;
for (const [index, [name, run]] of steps.entries()) {
  const started = performance.now();
  try {
    await run();
    passed++;
    console.log(`ok   ${name} (${Math.round(performance.now() - started)} ms)`);
  } catch (err) {
    failed++;
    const message = err instanceof Failure ? err.message : err instanceof Error ? err.stack ?? err.message : String(err);
    console.log(`FAIL ${name}\n     ${message}`);
    const skipped = steps.length - index - 1;
    console.log(`ts-client: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
    process.exit(1);
  }
}
console.log(`ts-client: ${passed} passed, ${failed} failed`);
