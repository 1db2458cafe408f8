"""PolicyChunkSource: one request for the next chunk, real-time chunking (RTC) included.

What the StreamingDriver's worker runs for each chunk: observe, build the observation, ask the
server, decode. With RTC it first establishes, once per connection, whether the server honours it
(the canary, rtc.py; the answer is logged once), then puts the plan's tail into every request that
continues a plan. A server that does not honour it (a stock Isaac-GR00T server, an N1.5 one, a
horizon past N1.7's 40) gets plain requests and its chunks are cross-faded, as before RTC.

The first inference of a connection is marked cold (a model's warm-up can take several times the
steady latency): the canary when it runs, else the first chunk, whose latency the scheduler then
leaves out of its delay estimate.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum

from so101_policy.embodiment.action_decoder import ActionDecoder
from so101_policy.embodiment.observation_builder import ObservationBuilder, RobotObservation
from so101_policy.streaming.driver import PrefixAt
from so101_policy.streaming.rtc import RtcConfig, canary_request, canary_sent_back
from so101_policy.streaming.scheduler import ChunkReply
from so101_policy.wire.client import PolicyClient
from so101_policy.wire.rtc_options import MAX_ACTION_HORIZON

log = logging.getLogger(__name__)


class RtcState(Enum):
    UNKNOWN = "not checked yet"
    HONOURED = "honoured"
    IGNORED = "not honoured by the server: cross-fading"
    OFF = "off"


class PolicyChunkSource:
    """A ChunkSource (driver.py) over PolicyClient; `observe` returns the robot's latest state on the driver's clock.

    `horizon` is T, the chunk length the server's modality config names (len of its action
    delta_indices): every RTC request carries T rows of previous actions. None (a server without a
    modality config) leaves RTC off.
    """

    def __init__(
        self,
        client: PolicyClient,
        builder: ObservationBuilder,
        decoder: ActionDecoder,
        observe: Callable[[], RobotObservation],
        horizon: int | None = None,
        rtc: RtcConfig = RtcConfig(enabled=False),
    ):
        self.client = client
        self.builder = builder
        self.decoder = decoder
        self.observe = observe
        self.horizon = horizon
        self.rtc_config = rtc
        self.rtc_state = RtcState.OFF
        self._reported: RtcState | None = None
        self._warm = False
        self.check_rtc()

    def check_rtc(self) -> None:
        """Run the canary again before the next request (a new episode: the server may have been swapped)."""
        self.rtc_state = RtcState.UNKNOWN if self._rtc_possible() else RtcState.OFF

    def __call__(self, prefix_at: PrefixAt) -> ChunkReply:
        if self.rtc_state is RtcState.UNKNOWN:
            self._run_canary(self.observe())
        observation = self.observe()
        honoured = self.rtc_state is RtcState.HONOURED
        prefix = prefix_at(observation.time) if honoured else None
        options = None
        previous = None
        if prefix is not None:
            assert self.horizon is not None  # HONOURED needs it
            previous = prefix.previous_actions(self.horizon)
            options = prefix.options(self.horizon, self.rtc_config).to_wire()
        action, _info = self.client.get_action(self.builder.build(observation, previous), options)
        cold, self._warm = not self._warm, True
        return ChunkReply(self.decoder.decode(action), observation.time, prefix, rtc=honoured, cold=cold)

    def _rtc_possible(self) -> bool:
        if not self.rtc_config.enabled:
            return False
        if not self.builder.protocol.nested:
            self._report(RtcState.OFF, f"N1.5 servers ({self.client.endpoint}) take no previous actions: RTC off")
            return False
        if self.horizon is None or not 1 <= self.horizon <= MAX_ACTION_HORIZON:
            self._report(RtcState.OFF, f"the server's chunk length {self.horizon} is not 1..{MAX_ACTION_HORIZON} "
                                       "(N1.7's horizon): RTC off")
            return False
        return True

    def _run_canary(self, observation: RobotObservation) -> None:
        """One request whose whole prefix is frozen and recognisable; its reply is never executed."""
        assert self.horizon is not None
        sent, options = canary_request(observation.joint_positions, self.horizon, self.rtc_config)
        action, _info = self.client.get_action(self.builder.build(observation, sent), options.to_wire())
        self._warm = True  # the canary took the warm-up
        if canary_sent_back(sent, self.decoder.decode(action), options, self.rtc_config):
            self.rtc_state = RtcState.HONOURED
            self._report(self.rtc_state, f"the policy server at {self.client.endpoint} honours real-time chunking: "
                                         f"each request carries the plan's tail ({self.horizon}-step chunks)")
        else:
            self.rtc_state = RtcState.IGNORED
            self._report(self.rtc_state, f"the policy server at {self.client.endpoint} ignores real-time chunking "
                                         "(a stock Isaac-GR00T server drops the previous actions): cross-fading "
                                         "chunks instead")

    def _report(self, state: RtcState, message: str) -> None:
        """Say it once: again only if the verdict changes."""
        if state is not self._reported:
            (log.info if state is RtcState.HONOURED else log.warning)(message)
            self._reported = state
