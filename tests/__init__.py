"""Tests for the Google Calendar Sync integration."""
