"""Fakes of the external services Parley talks to, for tests and benchmarks."""
