"""Local stand-ins for the outside services only tests need (today: the Anthropic Messages API)."""
