"""A synthetic social world with known truth: users, authors, a follow graph, posts over time,
sessions with impressions and actions drawn from a known probability function (the oracle)."""

from events.world.actions import ACTION_NUMBERS, ORACLE_ACTIONS, action_name
from events.world.config import WorldConfig
from events.world.oracle import ImpressionContext
from events.world.world import World, WorldData, write_to_log

__all__ = ["ACTION_NUMBERS", "ORACLE_ACTIONS", "ImpressionContext", "World", "WorldConfig", "WorldData",
           "action_name", "write_to_log"]
