"""Tests of the Google side, one module per module of google/."""
