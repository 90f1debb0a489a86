"""Local emulator of the four generation services (tests and demo; not shipped)."""
