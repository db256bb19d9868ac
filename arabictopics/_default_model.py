"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "a431c441c9c5f07f1d4329f74cac6248d3397110616bd0ce99d58464a367f2b6"
