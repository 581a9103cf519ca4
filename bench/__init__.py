"""Benchmarks run against the Google Calendar emulator."""
