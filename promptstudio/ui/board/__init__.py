"""The run board: its columns and answer views, pins, the first-launch offer, and the
preview and compare dialogs."""
