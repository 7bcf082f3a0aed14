"""What the tests share: fake models, photo makers, the real command in a subprocess (out of the package)."""
