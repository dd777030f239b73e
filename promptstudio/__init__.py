"""PromptStudio: a desktop IDE for prompt engineering.

The core (templating, providers, runs, storage, credentials) imports no Qt; the
``promptstudio.ui`` package is the only one that does.
"""

__version__ = "0.1.0"
APP_NAME = "PromptStudio"
