"""`make bench`: every benchmark, one after the other."""

from __future__ import annotations

from bench import local_model


def main() -> None:
    local_model.main()


if __name__ == "__main__":
    main()
