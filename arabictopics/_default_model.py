"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "fce367867d09e0b0f083a2152e1b1cf1ea08ca4a3952574f84529fa09441a876"
