"""Helpers shared by the test tiers (not shipped)."""
