"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "d9146b634ce0a2c0b7b72262262ad5099b455be7e4cc37d11938fec16821ccd0"
