"""Libris's tooling: the test suite's orchestration and the helpers it shares, in one tested package.

Run it as `tools/run COMMAND` (or `python3 -m libris_tools COMMAND` with tools/ on PYTHONPATH); the scripts/
entry points are one-line wrappers around it. Each helper has one implementation here (paths, URLs, scratch
databases, ports, processes, pinned installs), and each check is a module that uses them.
"""
