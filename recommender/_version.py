"""The library version, kept apart so light modules can read it without importing the package root."""

__version__ = "0.1.0"
