"""Emulated ttnn ops, grouped by family. ``ttnn_module.build_module`` binds them to the fake ``ttnn`` module."""
