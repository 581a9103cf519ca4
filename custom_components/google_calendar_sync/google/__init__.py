"""The Google side: Calendar API client, event model, sync engine and timeline.

Nothing in this package imports Home Assistant; it could be published as a library.
"""
