"""The network: activations, the window model with hand-written backprop, the CRF, decoders, optimisers,
and the finite-difference gradient check."""
