"""A stand-in for llama-cpp-python (see tests/stand_in)."""
