"""Custom integrations (lets pytest-homeassistant-custom-component find ours)."""
