"""Proof from PostgreSQL's log that nothing the tests ran through PgBouncer would pin an RDS Proxy session.

`sqlscan` decides whether one statement pins, `logparse` reads the server log into statements, `wire` speaks
just enough of the PostgreSQL protocol to run SQL the way sqlx does, `check` is `mark` and `verify`, and
`selftest` proves that verify fails on pinning and passes on plain SQL, against the real server.
"""
