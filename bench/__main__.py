"""`make bench`: every benchmark, one after the other, each printing its own table."""

from __future__ import annotations

from bench import (
    brief_eval,
    images,
    lean_relay,
    local_model,
    offline_eval,
    offline_voice,
    performance,
    voice_to_voice,
)
from bench.turns import run as turn_taking


def main() -> None:
    performance.main()
    print()
    local_model.main()
    print()
    offline_eval.main()
    print()
    brief_eval.main()
    print()
    offline_voice.main([])
    print()
    voice_to_voice.main()
    print()
    lean_relay.main()
    print()
    turn_taking.main([])
    print()
    images.main()


if __name__ == "__main__":
    main()
