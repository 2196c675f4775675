"""`python -m parley`: the `parley` command, for processes started by another (the
cluster starts its servers with the interpreter it runs on)."""

from .cli import main

if __name__ == "__main__":  # not when a tool imports every module of the package
    main()
