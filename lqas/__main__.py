"""``python -m lqas``: the command line of whichever copy of the package Python imports first, so the
tests can run the source under test rather than an installed copy."""

from lqas.cli import main

if __name__ == "__main__":
    main()
