"""Benchmarks of autograd_core against torch, HIPS autograd, micrograd and NumPy by hand."""
