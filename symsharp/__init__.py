"""symsharp: exact mathematics and fast numerics for sharpness dynamics of gradient descent."""
__version__ = "0.1.0"
