"""Scoring shared by build and serve: term weights, the hub re-rank (numpy only)."""
