"""``python -m curator``: the same as the ``curator`` command."""

from .cli import main

if __name__ == "__main__":
    main()
