"""Chat model adapters behind one small interface."""
