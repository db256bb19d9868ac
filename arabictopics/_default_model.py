"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "5bc374950d09acda39ded1790793fbf6f98a9905b64b47cfc5be42db2052ea4a"
