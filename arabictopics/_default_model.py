"""sha256 of the shipped model's payload, written by training/train_default.py.

load_model() refuses a default model file whose payload does not match.
"""

DEFAULT_MODEL_SHA256 = "18d47e65977b297b76b844739581775cfa3787b1edad94b62e3c612d486cbf5d"
