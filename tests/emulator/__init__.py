"""Tests of the Google Calendar API emulator."""
