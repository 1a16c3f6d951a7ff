"""dltui: train neural networks live in the terminal and see what learning does inside them."""

__version__ = "0.1.0"
