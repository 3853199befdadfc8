"""The storm: hundreds of real release `bootstrap` processes as Lambda instances behind a front door that
scales them like Lambda does, against a PostgreSQL with a capped connection budget, directly and through
PgBouncer (the RDS Proxy stand-in). `tools/run storm` (scripts/storm); see BENCHMARKS.md for what it found.

Modules: `frontdoor` (the Runtime API and the scaling), `load` (the virtual users and their mix), `stats`
(per-second figures), `budget` (the database cluster and the proxy), `run` (the scenarios, in the venv),
`report` (tables and pictures), `main` (the command).
"""
