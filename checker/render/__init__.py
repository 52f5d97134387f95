"""Renderers: one module per output format, each taking the same Report."""
