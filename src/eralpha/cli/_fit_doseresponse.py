"""Commands: placeholder, filled by its owner."""
