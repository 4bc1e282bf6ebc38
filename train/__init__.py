"""train/: the Brevitas-quantized SNN, its training loop and command, and the event datasets (train/data/)."""

import warnings

# Brevitas 0.13 warns on import about its own internals (brevitas.fx is deprecated; an optional
# fast_hadamard_transform kernel is absent). Neither concerns what this project uses, and they
# printed at every export and training run, so they are silenced here, where Brevitas enters.
warnings.filterwarnings("ignore", message="brevitas.fx is deprecated", category=DeprecationWarning)
warnings.filterwarnings("ignore", message="fast_hadamard_transform package not found", category=UserWarning)
