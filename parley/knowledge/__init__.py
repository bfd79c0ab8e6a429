"""Parley's design notes: topics a product designer brings, retrieved per turn (offline)."""
