"""Checking what generation wrote: the ttnn CPU emulator and verify against torch, the real ttnn on a mock device,
golden drift, and running a package's own loop."""
