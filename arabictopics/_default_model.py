"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "a17ca51372ddad4dd71e45797ba796f5a98fb8078b49e2c561ad222d0d38bc2d"
