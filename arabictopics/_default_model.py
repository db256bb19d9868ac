"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "3100662305f133e40d1060bdfdbcc6b8d0eb6a99c49aeb905736a5679f322ba8"
