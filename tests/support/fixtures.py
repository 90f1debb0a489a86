"""Where the real files made by other tools live: ``../shared/fixtures`` beside the checkout."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
