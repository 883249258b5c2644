"""evfleet."""
