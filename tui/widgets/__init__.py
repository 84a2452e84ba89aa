"""The app's widgets, one (or a tight family) per module."""
