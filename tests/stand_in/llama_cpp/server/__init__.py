"""A stand-in for ``llama_cpp.server`` (see ``__main__``)."""
