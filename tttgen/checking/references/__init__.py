"""Torch reference modules that verification runs next to generated TTNN code (never imported by generated code)."""
