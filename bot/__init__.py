"""Logfire for Slack: ask Pydantic Logfire about your OpenTelemetry data from Slack."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("logfire-for-slack")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

USER_AGENT = f"logfire-for-slack/{__version__} (+https://github.com/logfire-for-slack)"
