"""Isaac Sim side of the twin: the action graph as data (graph.py, importable without Isaac Sim).

The standalone script that builds it inside Isaac Sim is sim_bridge/scripts/isaac_sim_twin.py.
Nothing here imports isaacsim, our other packages or numpy: Isaac Sim's own Python runs graph.py
straight from the source tree.
"""
