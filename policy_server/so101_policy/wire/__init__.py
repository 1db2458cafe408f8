"""The Isaac-GR00T ZMQ wire, every generation: codec, envelope, modality config, transport and client.

generations (n1.5 / n1.6 / n1.7 and how they differ), arrays (ndarrays inside msgpack, never
pickle), codec (bytes ↔ objects), envelope (request/reply shapes per generation), modality
(ModalityConfig and its wire forms), transport (one ZMQ REQ with deadlines), client
(PolicyClient). Facts: docs/reference/gr00t-wire.md. Used by both ends: the robot's client and
the server.
"""
