"""Stores behind ChatKit's `Store` interface, one module per backend."""
