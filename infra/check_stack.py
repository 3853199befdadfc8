#!/usr/bin/env python3
"""Entry point of the offline stack check; the checker is the `stackcheck` package beside this file.

  check_stack.py [--dir infra/]     check the stack, exit 1 on any problem
  check_stack.py --self-test        mutate the stack in memory and prove each
                                    mutation is reported (exit 1 otherwise)

Run it through `infra/check`, which provides the virtualenv it needs."""

import sys

from stackcheck.cli import main

if __name__ == "__main__":
    sys.exit(main())
