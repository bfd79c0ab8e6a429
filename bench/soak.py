"""`make soak`: 10,000 requests at concurrency 200 through Parley to the fake OpenAI.

Passes when there are zero errors and resident memory grows less than 5 % after warm-up.
Prints the figures recorded in docs/reliability.md.
"""

from __future__ import annotations

import sys

from bench.harness import ab, fake_openai, parley, rss_mb, wait_quiet

REQUESTS = 10_000
CONCURRENCY = 200
WARM_UP = 2_000
BODY = {"message": "How do I make onboarding less overwhelming?", "apiKey": "sk-soak-0123456789"}


def main() -> int:
    failures = 0
    with fake_openai() as base_url, parley({"PARLEY_OPENAI_BASE_URL": base_url}) as server:
        url = f"{server.url}/api/conversation"
        pid = server.pid
        print(f"Soak: {REQUESTS} requests at concurrency {CONCURRENCY}, "
              f"after {WARM_UP} warm-up requests")
        print(f"{'phase':<16}{'requests':>10}{'errors':>8}{'req/s':>9}{'p50 ms':>8}"
              f"{'p99 ms':>8}{'RSS MB':>9}")
        start_rss = rss_mb(pid)
        for phase, stream in (("JSON", False), ("SSE", True)):
            warm = ab(url, {**BODY, "stream": stream}, requests=WARM_UP, concurrency=CONCURRENCY)
            wait_quiet()
            before = rss_mb(pid)
            run = ab(url, {**BODY, "stream": stream}, requests=REQUESTS,
                     concurrency=CONCURRENCY)
            wait_quiet()
            after = rss_mb(pid)
            errors = run.failed + run.non_2xx + (REQUESTS - run.complete)
            errors += warm.failed + warm.non_2xx
            growth = (after - before) / before * 100
            print(f"{phase + ' warm-up':<16}{warm.complete:>10}{warm.failed + warm.non_2xx:>8}"
                  f"{warm.per_second:>9.0f}{warm.p50_ms:>8.0f}{warm.p99_ms:>8.0f}{before:>9.1f}")
            print(f"{phase:<16}{run.complete:>10}{errors:>8}{run.per_second:>9.0f}"
                  f"{run.p50_ms:>8.0f}{run.p99_ms:>8.0f}{after:>9.1f}")
            print(f"  memory growth after warm-up: {growth:+.2f} % (goal < 5 %)")
            if errors or growth >= 5:
                failures += 1
        print(f"RSS at start {start_rss:.1f} MB")
    print("PASS" if not failures else "FAIL")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
