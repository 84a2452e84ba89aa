"""The ownership labels on everything tunedeck creates, shared by the adapters, the Pulumi program and teardown."""

MANAGED_BY_LABEL = "managed-by"
MANAGED_BY_VALUE = "tunedeck"
CLIENT_KEY_LABEL = "tunedeck-client-key"
