"""MAMcrawler: a self-hosted backend that runs an audiobook collection end to end."""

__version__ = "0.1.0"
