"""The living brief: its shape, how it is updated from a conversation, and its gaps."""
