"""Improve, generate and optimise in the window: dialogs over ``promptstudio.improve``."""
