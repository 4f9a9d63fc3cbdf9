"""Import shipping exports into HighLevel as order fulfillments."""

__version__ = "0.1.0"
