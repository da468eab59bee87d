"""The only code that touches generated files on disk: atomic write and in-memory check."""
