"""Suite-wide settings: the server's background warm-up is off unless a test turns it on for its own server
(it would compete for the cores with what a test measures, and write into the user's cache folder)."""
import os

os.environ["SHARP_WARM"] = "0"
