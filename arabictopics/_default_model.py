"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "e145ce86d42bda965bca3dfae300b9d194f44a26f884cf296c2af684e4d7ec91"
