"""Requests written in members' own words ("Je voudrais me désinscrire", "j'ai payé 2 heures
à Marie pour le jardinage", "je ne suis pas d'accord avec la 2"), read into actions with
their arguments resolved against what the list knows. Pure: no database, no I/O; the caller
gathers `Known` (roster, open proposals, items) and calls `read_requests`.
"""

from .model import Known, Later, OpenItem, OpenProposal, Person, Request, Roster, Said
from .resolve import Reading, read_ahead, read_requests

__all__ = ["Known", "Later", "OpenItem", "OpenProposal", "Person", "Reading", "Request", "Roster",
           "Said", "read_ahead", "read_requests"]
