"""socklab: a containerized lab kit for learning socket programming."""

__version__ = "0.1.0"
