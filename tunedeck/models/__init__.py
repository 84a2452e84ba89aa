"""Tuned models as first-class things: list them across providers, deploy them so they answer, delete them.

`ModelActions` is the façade front ends use (the workspace attaches it as `workspace.models`); the service
functions (`catalog`, `deploy`, `delete`) take a store and a provider, like `tunedeck.endpoints.teardown`.
"""

from tunedeck.models.actions import ModelActions
from tunedeck.models.catalog import ModelListing, ServedAt, TunedModelView
from tunedeck.models.delete import DeleteResult, NotOursError
from tunedeck.models.deploy import DeployPlanView

__all__ = [
    "DeleteResult",
    "DeployPlanView",
    "ModelActions",
    "ModelListing",
    "NotOursError",
    "ServedAt",
    "TunedModelView",
]
