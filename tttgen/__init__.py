"""tttgen: ahead-of-time generator of TTNN model packages."""

__version__ = "0.1.0"
TARGET_TTNN_VERSION = "0.81.1"
