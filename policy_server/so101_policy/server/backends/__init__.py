"""What the policy server serves: the interface (base.Policy) and its three backends.

`replay` serves recorded episodes (runs anywhere, with real data); `synthetic` is a stand-in
for a model (smooth motion from the state, with a model's latency and noise); both honour
real-time chunking as N1.7's action head does (inpainting.py). `gr00t` wraps Isaac-GR00T's own
policy classes and is imported only when asked for, because it needs Isaac-GR00T, torch and a GPU.
"""
