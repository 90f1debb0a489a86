"""Conjure: generate 3D models with remote services and import them into the open scene."""


def register() -> None:
    pass


def unregister() -> None:
    pass
