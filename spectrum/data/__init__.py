"""Datasets: Fashion-MNIST, CIFAR, image folders and synthetic data, found or downloaded, read,
checked and split into train/validation/test tensors."""
