"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "28eb12261b1817ad599f5928d152782f9813d1fc3e0a19ca5f8c8b4ceeda826c"
