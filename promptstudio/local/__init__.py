"""A local model one click away: llama-cpp-python's server with Gemma 3 270M, managed.

``setup`` installs the ``local`` extra into the app's own Python; ``server`` starts, watches
and stops the server (never leaving an orphan); ``model`` chooses what it serves and keeps
the "Local (Gemma 3 270M)" provider profile pointed at it; ``service`` puts them together
for the app and the CLI.
"""
