"""The tenant stack's parts, one construct per concern."""
