"""Settings and user-defined configuration kept in the data dir (Qt-free)."""
