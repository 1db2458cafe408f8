"""What the policy server serves: the interface (base.Policy) and its two backends.

`replay` serves recorded episodes (runs anywhere, with real data); `gr00t` wraps
Isaac-GR00T's own policy classes and is imported only when asked for, because it needs
Isaac-GR00T, torch and a GPU.
"""
