"""Where the real files made by other tools live: ``../shared/fixtures`` beside the checkout."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
#: Thrixel's own generations, several of them with many named parts.
THRIXEL_GLBS = FIXTURES / "glb" / "thrixel"


def prompt_for(sandbox, stem: str) -> str:
    """A prompt the running sandbox answers with the Thrixel generation ``<stem>.glb``."""
    for number in range(10_000):
        prompt = f"{stem.replace('-', ' ')} #{number}"
        chosen = sandbox.models.file_for(prompt)
        if chosen is None:
            raise LookupError(f"the sandbox does not serve {THRIXEL_GLBS}")
        if chosen.stem == stem:
            return prompt
    raise LookupError(f"no prompt picks {stem}.glb")
