"""`python -m parley`: the `parley` command, for processes started by another (the
cluster starts its servers with the interpreter it runs on)."""

from .cli import main

main()
