"""scrape: archive Club Techni.Cités pages into one SQLite file."""

__version__ = "0.1.0"
