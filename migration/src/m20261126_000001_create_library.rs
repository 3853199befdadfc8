//! The initial Libris schema: catalogue, borrowers, loans (active and returned) and reviews.
//!
//! Every index below names the service query it serves. Foreign keys state their ON DELETE behaviour:
//! rows that only make sense with their parent cascade (join rows, history, reviews); an active loan
//! restricts, so neither a book on loan nor a borrower holding one can disappear underneath it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Authors {
    Table,
    Id,
    Name,
}

#[derive(DeriveIden)]
enum Books {
    Table,
    Id,
    Title,
    Isbn,
    PublishedDate,
}

#[derive(DeriveIden)]
enum BookAuthors {
    Table,
    BookId,
    AuthorId,
}

#[derive(DeriveIden)]
enum Borrowers {
    Table,
    Id,
    Name,
    Email,
}

#[derive(DeriveIden)]
enum Loans {
    Table,
    Id,
    BookId,
    BorrowerId,
    BorrowedAt,
    DueAt,
    Renewals,
}

#[derive(DeriveIden)]
enum LoanHistory {
    Table,
    Id,
    BookId,
    BorrowerId,
    BorrowedAt,
    DueAt,
    ReturnedAt,
    Renewals,
    ReturnedLate,
}

#[derive(DeriveIden)]
enum Reviews {
    Table,
    Id,
    BookId,
    BorrowerId,
    Rating,
    Comment,
    ReviewedAt,
}

#[derive(DeriveIden)]
enum Timestamps {
    CreatedAt,
    UpdatedAt,
}

/// A UTC instant. MySQL/MariaDB get `DATETIME(6)` rather than `TIMESTAMP`, whose range ends in 2038
/// (a due date could reach it); the other backends keep a time-zone-aware type.
fn instant(backend: DbBackend, name: impl IntoIden) -> ColumnDef {
    let mut column = ColumnDef::new(name);
    match backend {
        DbBackend::MySql => column.custom("DATETIME(6)"),
        _ => column.timestamp_with_time_zone(),
    };
    column.not_null().take()
}

fn id(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().auto_increment().primary_key().take()
}

fn reference(name: impl IntoIden) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn with_timestamps(backend: DbBackend, table: &mut TableCreateStatement) -> TableCreateStatement {
    table.col(instant(backend, Timestamps::CreatedAt)).col(instant(backend, Timestamps::UpdatedAt)).take()
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

fn index(name: &str, table: impl IntoIden, columns: &[&'static str]) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(*column);
    }
    statement.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();

        manager
            .create_table(with_timestamps(
                backend,
                Table::create()
                    .table(Authors::Table)
                    .col(id(Authors::Id))
                    .col(ColumnDef::new(Authors::Name).string_len(200).not_null()),
            ))
            .await?;

        manager
            .create_table(with_timestamps(
                backend,
                Table::create()
                    .table(Books::Table)
                    .col(id(Books::Id))
                    .col(ColumnDef::new(Books::Title).string_len(500).not_null())
                    // Unique where present: all three backends allow many NULLs under a unique key.
                    .col(ColumnDef::new(Books::Isbn).string_len(13).null().unique_key())
                    .col(ColumnDef::new(Books::PublishedDate).date().null()),
            ))
            .await?;
        // Serves exact-title look-ups and ordering by title.
        manager.create_index(index("idx_books_title", Books::Table, &["title"])).await?;

        manager
            .create_table(
                Table::create()
                    .table(BookAuthors::Table)
                    .col(reference(BookAuthors::BookId))
                    .col(reference(BookAuthors::AuthorId))
                    // The primary key (book_id, author_id) serves "the authors of a book".
                    .primary_key(Index::create().col(BookAuthors::BookId).col(BookAuthors::AuthorId))
                    .foreign_key(&mut fk(
                        "fk_book_authors_book",
                        (BookAuthors::Table, BookAuthors::BookId),
                        (Books::Table, Books::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    // Deleting an author detaches them from their books.
                    .foreign_key(&mut fk(
                        "fk_book_authors_author",
                        (BookAuthors::Table, BookAuthors::AuthorId),
                        (Authors::Table, Authors::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        // Serves "books of an author", the books list filtered by author, and the cascade from authors.
        manager
            .create_index(index("idx_book_authors_author", BookAuthors::Table, &["author_id", "book_id"]))
            .await?;

        manager
            .create_table(with_timestamps(
                backend,
                Table::create()
                    .table(Borrowers::Table)
                    .col(id(Borrowers::Id))
                    .col(ColumnDef::new(Borrowers::Name).string_len(200).not_null())
                    // The service stores addresses lower-cased, so this key is case-insensitive everywhere.
                    .col(ColumnDef::new(Borrowers::Email).string_len(254).not_null().unique_key()),
            ))
            .await?;

        manager
            .create_table(with_timestamps(
                backend,
                Table::create()
                    .table(Loans::Table)
                    .col(id(Loans::Id))
                    // Unique: one active loan per book. Also serves the "available books" anti-join
                    // (NOT EXISTS on loans.book_id) and the race between two check-outs of one book.
                    .col(reference(Loans::BookId).unique_key())
                    .col(reference(Loans::BorrowerId))
                    .col(instant(backend, Loans::BorrowedAt))
                    .col(instant(backend, Loans::DueAt))
                    .col(ColumnDef::new(Loans::Renewals).integer().not_null().default(0))
                    .foreign_key(&mut fk(
                        "fk_loans_book",
                        (Loans::Table, Loans::BookId),
                        (Books::Table, Books::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "fk_loans_borrower",
                        (Loans::Table, Loans::BorrowerId),
                        (Borrowers::Table, Borrowers::Id),
                        ForeignKeyAction::Restrict,
                    )),
            ))
            .await?;
        // Serves a borrower's current loans (keyset by id), the active-loan limit count and the loans
        // list filtered by borrower.
        manager.create_index(index("idx_loans_borrower", Loans::Table, &["borrower_id", "id"])).await?;
        // Serves the overdue list (due_at < now) and a borrower's "has an overdue loan" check.
        manager.create_index(index("idx_loans_due", Loans::Table, &["due_at", "id"])).await?;

        manager
            .create_table(
                Table::create()
                    .table(LoanHistory::Table)
                    // The id the loan had while active.
                    .col(ColumnDef::new(LoanHistory::Id).big_integer().not_null().primary_key())
                    .col(reference(LoanHistory::BookId))
                    .col(reference(LoanHistory::BorrowerId))
                    .col(instant(backend, LoanHistory::BorrowedAt))
                    .col(instant(backend, LoanHistory::DueAt))
                    .col(instant(backend, LoanHistory::ReturnedAt))
                    .col(ColumnDef::new(LoanHistory::Renewals).integer().not_null().default(0))
                    .col(ColumnDef::new(LoanHistory::ReturnedLate).boolean().not_null())
                    .foreign_key(&mut fk(
                        "fk_loan_history_book",
                        (LoanHistory::Table, LoanHistory::BookId),
                        (Books::Table, Books::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_loan_history_borrower",
                        (LoanHistory::Table, LoanHistory::BorrowerId),
                        (Borrowers::Table, Borrowers::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .take(),
            )
            .await?;
        // Serves a borrower's loan history (keyset by id) and the cascade from borrowers.
        manager
            .create_index(index("idx_loan_history_borrower", LoanHistory::Table, &["borrower_id", "id"]))
            .await?;
        // Serves "has this borrower ever borrowed this book" (the right to review), the loans list
        // filtered by book, and the cascade from books.
        manager
            .create_index(index(
                "idx_loan_history_book_borrower",
                LoanHistory::Table,
                &["book_id", "borrower_id"],
            ))
            .await?;

        manager
            .create_table(with_timestamps(
                backend,
                Table::create()
                    .table(Reviews::Table)
                    .col(id(Reviews::Id))
                    .col(reference(Reviews::BookId))
                    .col(reference(Reviews::BorrowerId))
                    .col(
                        ColumnDef::new(Reviews::Rating)
                            .small_integer()
                            .not_null()
                            .check(Expr::col(Reviews::Rating).between(1, 5)),
                    )
                    .col(ColumnDef::new(Reviews::Comment).text().null())
                    .col(instant(backend, Reviews::ReviewedAt))
                    .foreign_key(&mut fk(
                        "fk_reviews_book",
                        (Reviews::Table, Reviews::BookId),
                        (Books::Table, Books::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "fk_reviews_borrower",
                        (Reviews::Table, Reviews::BorrowerId),
                        (Borrowers::Table, Borrowers::Id),
                        ForeignKeyAction::Cascade,
                    )),
            ))
            .await?;
        // One review per borrower per book; also serves the rejection of a second review.
        manager
            .create_index(
                index("uq_reviews_book_borrower", Reviews::Table, &["book_id", "borrower_id"])
                    .unique()
                    .take(),
            )
            .await?;
        // Serves a book's reviews (keyset by id) and the review count/average of the book detail.
        manager.create_index(index("idx_reviews_book", Reviews::Table, &["book_id", "id"])).await?;
        // Serves the cascade from borrowers (and a borrower's reviews).
        manager.create_index(index("idx_reviews_borrower", Reviews::Table, &["borrower_id", "id"])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Reviews::Table.into_iden(),
            LoanHistory::Table.into_iden(),
            Loans::Table.into_iden(),
            Borrowers::Table.into_iden(),
            BookAuthors::Table.into_iden(),
            Books::Table.into_iden(),
            Authors::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
